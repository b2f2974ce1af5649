package org.factrl.cli;

/** A command line the command cannot run: the process exits with status 2 and this message. */
final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }
}

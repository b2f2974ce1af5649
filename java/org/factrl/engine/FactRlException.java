package org.factrl.engine;

/**
 * Any failure of the FactRL engine or its inputs: a native status turned into an exception (with the
 * native message, which names the function and the offending argument), or a Java-side check on an
 * argument, file, field or shape. Unchecked, like {@link IllegalArgumentException}.
 */
public class FactRlException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The native status codes of {@code factrl.h}, plus {@link #JAVA} for Java-side checks. */
  public enum Status {
    OK, ARGUMENT, SHAPE, MEMORY, UNAVAILABLE, DEVICE, INTERNAL, JAVA;

    static Status fromCode(int code) {
      Status[] all = values();
      return code >= 0 && code < JAVA.ordinal() ? all[code] : INTERNAL;
    }
  }

  private final Status status;

  public FactRlException(String message) {
    this(Status.JAVA, message, null);
  }

  public FactRlException(String message, Throwable cause) {
    this(Status.JAVA, message, cause);
  }

  public FactRlException(Status status, String message) {
    this(status, message, null);
  }

  public FactRlException(Status status, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  public Status status() {
    return status;
  }
}

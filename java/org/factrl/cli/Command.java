package org.factrl.cli;

import java.util.List;

/** One {@code bin/factrl} subcommand. */
public interface Command {
  /** The word after {@code bin/factrl}. */
  String name();

  /** One line for the usage listing. */
  String summary();

  /** Runs with the remaining arguments; returns the process exit code. */
  int run(List<String> args) throws Exception;
}

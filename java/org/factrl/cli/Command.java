package org.factrl.cli;

import java.util.List;

/** One {@code bin/factrl} subcommand. */
public interface Command {
  /** The word after {@code bin/factrl}. */
  String name();

  /** One line for the usage listing. */
  String summary();

  /** The full usage text {@code bin/factrl NAME --help} prints. */
  default String usage() {
    return "usage: bin/factrl " + name() + "   (no options)";
  }

  /**
   * Runs with the remaining arguments ({@code --help} never reaches it); returns the process exit
   * code. A command line it cannot run is a {@link UsageException} (exit 2).
   */
  int run(List<String> args) throws Exception;
}

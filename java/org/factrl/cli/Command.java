package org.factrl.cli;

import com.google.common.collect.ImmutableSet;
import java.io.PrintStream;

/**
 * One {@code bin/factrl} subcommand. It declares its options; {@link Main} parses the command line
 * against them ({@link Options}), so an unknown option or a stray argument is a usage error for
 * every command, including one that takes no options.
 */
interface Command {
  /** The word after {@code bin/factrl}. */
  String name();

  /** One line for the usage listing. */
  String summary();

  /** The full usage text {@code bin/factrl NAME --help} prints. */
  default String usage() {
    return "usage: bin/factrl " + name() + "   (no options)";
  }

  /** Options that take a value ({@code --name VALUE}), names without "--". */
  default ImmutableSet<String> valuedOptions() {
    return ImmutableSet.of();
  }

  /** The valued options that may be given more than once ({@code --pope a --pope b}). */
  default ImmutableSet<String> repeatableOptions() {
    return ImmutableSet.of();
  }

  /** Options without a value, names without "--". */
  default ImmutableSet<String> flags() {
    return ImmutableSet.of();
  }

  /**
   * Runs with the parsed options ({@code --help} never reaches it), printing to {@code out} and
   * {@code err}; returns the process exit code. A command line it cannot run is a {@link
   * UsageException} (exit 2).
   */
  int run(Options options, PrintStream out, PrintStream err) throws Exception;
}

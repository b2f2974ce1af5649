package org.factrl.cli;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * One {@code bin/factrl} subcommand: a picocli {@code @Command} whose {@code @Option} fields are
 * its command line. picocli parses them (an unknown option, a stray argument, a missing value or
 * a repeated option is a usage error, exit 2, see {@link Main}) and generates {@code --help}; the
 * subclass's {@link #run} does the work, printing to {@link #out} and {@link #err}. Checks picocli
 * cannot express (a range, options that exclude each other) throw {@link UsageException} through
 * {@link #range} and friends, which also exits 2 with the command's usage.
 */
abstract class FactrlCommand implements Callable<Integer> {
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
  boolean helpRequested;

  @Spec CommandSpec spec;

  /** Where the command prints its results and its progress / notices. */
  PrintStream out = System.out;
  PrintStream err = System.err;

  /** Sets the streams (Main does, before parsing). Returns this. */
  final FactrlCommand streams(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
    return this;
  }

  /** Does the command's work with the parsed options; returns the process exit code. */
  abstract int run() throws Exception;

  @Override
  public final Integer call() throws Exception {
    return run();
  }

  /** {@code value} unless it lies outside [min, max]: then a usage error naming {@code option}. */
  static long range(String option, long value, long min, long max) {
    if (value < min || value > max) {
      throw new UsageException(option + " must be in " + min + ".." + max + ", got " + value);
    }
    return value;
  }

  /** A number in [min, max] ({@code minOpen}: (min, max]), else a usage error naming {@code option}. */
  static double range(String option, double value, double min, double max, boolean minOpen) {
    boolean ok = Double.isFinite(value) && (minOpen ? value > min : value >= min) && value <= max;
    if (!ok) {
      throw new UsageException(String.format(Locale.ROOT, "%s must be in %s%s, %s], got %s", option,
          minOpen ? "(" : "[", num(min), num(max), num(value)));
    }
    return value;
  }

  private static String num(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }
}

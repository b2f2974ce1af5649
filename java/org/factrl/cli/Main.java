package org.factrl.cli;

import com.google.common.collect.ImmutableList;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.factrl.engine.FactRlException;

/**
 * Entry point of {@code bin/factrl}: parses the command line against the chosen {@link Command}'s
 * options and runs it. Exit codes: 0 done, 1 failed (the message names the file or setting), 2 a
 * command line that cannot run (the message names the offending argument; nothing is written).
 */
public final class Main {
  private Main() {}

  /** Every subcommand, in the order the usage lists them. */
  static List<Command> commands() {
    return ImmutableList.of(new PipelineCommand(), new DataCommand(), new PretrainCommand(), new SftCommand(),
        new PrefsCommand(), new RmCommand(), new PpoCommand(), new EvalCommand(), new JudgeCommand(),
        new PlotCommand(), new InfoCommand());
  }

  public static void main(String[] argv) {
    System.exit(run(System.out, System.err, argv));
  }

  /** Runs one command line in this process, printing to {@code out} and {@code err}; returns the exit code. */
  public static int run(PrintStream out, PrintStream err, String... argv) {
    Map<String, Command> byName = new LinkedHashMap<>();
    for (Command c : commands()) {
      byName.put(c.name(), c);
    }
    if (argv.length == 0) {
      printUsage(byName, err);
      return 2;
    }
    String first = argv[0];
    List<String> args = Arrays.asList(argv).subList(1, argv.length);
    if (first.equals("help") || first.equals("-h") || first.equals("--help")) {
      return help(byName, args, out, err);
    }
    if (first.equals("bench")) {
      err.println("factrl: 'bench' runs through the launcher: bin/factrl bench [JMH arguments]");
      return 2;
    }
    Command command = byName.get(first);
    if (command == null) {
      err.println("factrl: unknown command '" + first + "'");
      printUsage(byName, err);
      return 2;
    }
    try {
      Options options = Options.parse(args, command.valuedOptions(), command.flags(),
          command.repeatableOptions());
      if (options.helpRequested()) {
        out.println(command.usage());
        return 0;
      }
      return command.run(options, out, err);
    } catch (UsageException e) {
      err.println("factrl " + command.name() + ": " + e.getMessage());
      err.println(command.usage());
      return 2;
    } catch (FactRlException | IllegalArgumentException e) {
      err.println("factrl " + command.name() + ": " + e.getMessage());
      return 1;
    } catch (Exception e) {
      err.println("factrl " + command.name() + " failed:");
      e.printStackTrace(err);
      return 1;
    }
  }

  /** {@code help} alone lists the commands; {@code help COMMAND} prints that command's usage. */
  private static int help(Map<String, Command> byName, List<String> args, PrintStream out, PrintStream err) {
    if (args.isEmpty() || args.equals(List.of("-h")) || args.equals(List.of("--help"))) {
      printUsage(byName, out);
      return 0;
    }
    String unexpected = args.size() > 1 ? args.get(1) : args.get(0).startsWith("-") ? args.get(0) : null;
    if (unexpected != null) {
      err.println("factrl help: unexpected argument '" + unexpected + "'");
      err.println("usage: bin/factrl help [COMMAND]");
      return 2;
    }
    Command c = byName.get(args.get(0));
    if (c == null) {
      err.println("factrl help: unknown command '" + args.get(0) + "'");
      printUsage(byName, err);
      return 2;
    }
    out.println(c.usage());
    return 0;
  }

  private static void printUsage(Map<String, Command> byName, PrintStream to) {
    to.println("usage: bin/factrl COMMAND [options]   (bin/factrl help COMMAND, or COMMAND --help, for its options)");
    for (Command c : byName.values()) {
      to.printf("  %-10s %s%n", c.name(), c.summary());
    }
    to.printf("  %-10s %s%n", "help", "list the commands, or show one command's options");
    to.printf("  %-10s %s%n", "bench", "run the JMH kernel benchmarks (CPU, beside libtorch)");
  }
}

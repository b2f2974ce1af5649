package org.factrl.cli;

import com.google.common.collect.ImmutableList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.factrl.engine.FactRlException;

/** Entry point of {@code bin/factrl}: dispatches to a {@link Command}. */
public final class Main {
  private Main() {}

  /** Every subcommand, in the order the usage lists them. */
  static List<Command> commands() {
    return ImmutableList.of(new PipelineCommand(), new DataCommand(), new InfoCommand());
  }

  public static void main(String[] argv) {
    System.exit(run(argv));
  }

  static int run(String[] argv) {
    Map<String, Command> byName = new LinkedHashMap<>();
    for (Command c : commands()) {
      byName.put(c.name(), c);
    }
    if (argv.length == 0 || argv[0].equals("-h") || argv[0].equals("--help") || argv[0].equals("help")) {
      printUsage(byName);
      return argv.length == 0 ? 2 : 0;
    }
    Command command = byName.get(argv[0]);
    if (command == null) {
      System.err.println("factrl: unknown command '" + argv[0] + "'");
      printUsage(byName);
      return 2;
    }
    List<String> args = Arrays.asList(argv).subList(1, argv.length);
    if (args.contains("--help") || args.contains("-h")) {
      System.out.println(command.usage());
      return 0;
    }
    try {
      return command.run(args);
    } catch (UsageException e) {
      System.err.println("factrl " + command.name() + ": " + e.getMessage());
      System.err.println(command.usage());
      return 2;
    } catch (FactRlException | IllegalArgumentException e) {
      System.err.println("factrl " + command.name() + ": " + e.getMessage());
      return 1;
    } catch (Exception e) {
      System.err.println("factrl " + command.name() + " failed:");
      e.printStackTrace();
      return 1;
    }
  }

  private static void printUsage(Map<String, Command> byName) {
    System.err.println("usage: bin/factrl COMMAND [options]   (bin/factrl COMMAND --help for its options)");
    for (Command c : byName.values()) {
      System.err.printf("  %-10s %s%n", c.name(), c.summary());
    }
    System.err.printf("  %-10s %s%n", "bench", "run the JMH kernel benchmarks (CPU, beside libtorch)");
  }
}

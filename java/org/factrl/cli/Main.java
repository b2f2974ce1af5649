package org.factrl.cli;

import com.google.common.collect.ImmutableList;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.factrl.engine.FactRlException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Ansi;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/**
 * Entry point of {@code bin/factrl}: picocli parses the command line against the chosen
 * subcommand's options and runs it. Exit codes: 0 done, 1 failed (the message names the file or
 * setting), 2 a command line that cannot run (the message names the offending option or argument;
 * the command's usage follows on stderr; nothing is written).
 *
 * <p><b>Adding a command.</b> A command is a {@link FactrlCommand} subclass annotated with
 * picocli's {@code @Command(name = "...", description = "one line for the listing")}, listed in
 * {@link #commands()}. Porting a command written against the old hand-made parser ({@code Command}
 * + {@code Options}, before picocli) is mechanical:
 * <pre>{@code
 * old                                              new
 * name() / summary()                               @Command(name = "x", description = "summary")
 * valuedOptions() "out" + o.required("out")        @Option(names = "--out", paramLabel = "DIR", required = true,
 *                                                      description = "...") Path out;
 * o.value("config").map(Path::of)                  @Option(names = "--config", paramLabel = "FILE") Path config; // null: absent
 * o.integer("scenes", 1000, 1, MAX)                @Option(names = "--scenes", paramLabel = "N") int scenes = 1000;
 *                                                  ... in run(): range("--scenes", scenes, 1, MAX)
 * flags() "resume" + o.flag("resume")              @Option(names = "--resume") boolean resume;
 * repeatableOptions() "pope" + o.values("pope")    @Option(names = "--pope", paramLabel = "FILE") List<Path> pope = new ArrayList<>();
 * usage() text                                     each option's description = "..." (picocli builds and wraps
 *                                                  the usage; "${DEFAULT-VALUE}" prints a field's initial value)
 * run(Options o, out, err)                         int run() using the fields `out` and `err`
 * throw new UsageException(...)                    unchanged (exit 2 with the command's usage)
 * }</pre>
 * picocli then reports unknown options, stray arguments, missing or repeated values and bad numbers
 * in the same words the old parser used ({@link #usageError}).
 */
public final class Main {
  private Main() {}

  /** Every subcommand, in the order the usage lists them. */
  static List<FactrlCommand> commands() {
    return ImmutableList.of(new PipelineCommand(), new DataCommand(), new PretrainCommand(), new SftCommand(),
        new PrefsCommand(), new RmCommand(), new PpoCommand(), new EvalCommand(), new JudgeCommand(),
        new PlotCommand(), new ConfigCommand(), new InfoCommand());
  }

  public static void main(String[] argv) {
    System.exit(run(System.out, System.err, argv));
  }

  /** Runs one command line in this process, printing to {@code out} and {@code err}; returns the exit code. */
  public static int run(PrintStream out, PrintStream err, String... argv) {
    if (argv.length > 0 && argv[0].equals("bench")) {
      err.println("factrl: 'bench' runs through the launcher: bin/factrl bench [JMH arguments]");
      return 2;
    }
    return commandLine(out, err).execute(argv);
  }

  /** The whole command tree, printing to {@code out} and {@code err}. */
  static CommandLine commandLine(PrintStream out, PrintStream err) {
    Top top = new Top(err);
    CommandLine root = new CommandLine(top);
    for (FactrlCommand c : commands()) {
      root.addSubcommand(new CommandLine(c.streams(out, err)));
    }
    HelpCommand help = new HelpCommand(out);
    root.addSubcommand(new CommandLine(help));
    top.root = root;
    help.root = root;
    for (CommandLine c : root.getSubcommands().values()) {
      // "usage: bin/factrl data ..." and the options in the order the command declares them
      c.getCommandSpec().usageMessage().synopsisHeading("usage: ").sortOptions(false).sortSynopsis(false);
    }
    root.setUsageHelpWidth(100);
    root.setOut(new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true));
    root.setErr(new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true));
    root.setColorScheme(CommandLine.Help.defaultColorScheme(Ansi.OFF));
    // "--out --resume": a value that looks like an option is a missing value, never the value.
    root.setUnmatchedOptionsAllowedAsOptionParameters(false);
    root.setParameterExceptionHandler((e, args) -> usageError(e, args, err));
    // picocli lets --help win over an unknown option; here the unknown option is the error, as before
    root.setExecutionStrategy(parsed -> {
      for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
        if (!p.unmatched().isEmpty()) {
          throw new CommandLine.UnmatchedArgumentException(p.commandSpec().commandLine(), p.unmatched());
        }
      }
      return new CommandLine.RunLast().execute(parsed);
    });
    root.setExecutionExceptionHandler((e, cl, parsed) -> failure(e, cl, err));
    return root;
  }

  private static String who(CommandLine cl) {
    return cl.getParent() == null ? "factrl" : "factrl " + cl.getCommandName();
  }

  /**
   * A command line picocli could not parse: one line naming the option or argument, in the old
   * parser's words (scripts and tests read them), then the command's usage; exit 2.
   */
  static int usageError(ParameterException e, String[] args, PrintStream err) {
    CommandLine cl = e.getCommandLine();
    err.println(who(cl) + ": " + describe(e, cl, Arrays.asList(args)));
    cl.usage(err, Ansi.OFF);
    return 2;
  }

  private static String describe(ParameterException e, CommandLine cl, List<String> args) {
    if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
      String a = u.getUnmatched().get(0);
      if (cl.getParent() == null) {
        return a.startsWith("-") ? "unknown option " + a : "unknown command '" + a + "'";
      }
      if (a.startsWith("--")) {
        String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
        List<String> known = cl.getCommandSpec().options().stream().filter(o -> !o.usageHelp())
            .map(OptionSpec::longestName).sorted().toList();
        return "unknown option " + name + (known.isEmpty() ? " (it takes no options)"
            : " (known: " + String.join(", ", known) + ")");
      }
      return "unexpected argument '" + a + "'";
    }
    if (e instanceof CommandLine.MissingParameterException m && !m.getMissing().isEmpty()
        && m.getMissing().get(0) instanceof OptionSpec o) {
      String name = o.longestName();
      boolean given = args.stream().anyMatch(a -> a.equals(name) || a.startsWith(name + "="));
      return name + (given ? " needs a value" : " is required");
    }
    if (e instanceof CommandLine.OverwrittenOptionException w && w.getOverwritten() instanceof OptionSpec o) {
      return o.longestName() + " given twice";
    }
    ArgSpec spec = e.getArgSpec();
    if (spec instanceof OptionSpec o && e.getValue() != null) {
      Class<?> t = o.type();
      if (t == boolean.class || t == Boolean.class) {
        return o.longestName() + " takes no value"; // a flag: picocli only reads "=true" / "=false" after it
      }
      String kind = t == int.class || t == long.class || t == Integer.class || t == Long.class ? "an integer"
          : t == float.class || t == double.class || t == Float.class || t == Double.class ? "a number" : null;
      if (kind != null) {
        return o.longestName() + " expects " + kind + ", got '" + e.getValue() + "'";
      }
    }
    return e.getMessage();
  }

  /** A command that failed while running: a usage error (2), a named failure (1), or a bug (1, with the trace). */
  static int failure(Exception e, CommandLine cl, PrintStream err) {
    if (e instanceof UsageException) {
      err.println(who(cl) + ": " + e.getMessage());
      cl.usage(err, Ansi.OFF);
      return 2;
    }
    if (e instanceof FactRlException || e instanceof IllegalArgumentException) {
      err.println(who(cl) + ": " + e.getMessage());
      return 1;
    }
    err.println(who(cl) + " failed:");
    e.printStackTrace(err);
    return 1;
  }

  /** The command listing: what {@code bin/factrl} alone, {@code help} and {@code --help} print. */
  @Command(name = "bin/factrl", synopsisHeading = "",
      customSynopsis = "usage: bin/factrl COMMAND [options]   (bin/factrl help COMMAND, or COMMAND --help, for its options)",
      commandListHeading = "", mixinStandardHelpOptions = false,
      footer = "  bench     run the JMH kernel benchmarks (CPU, beside libtorch)")
  static final class Top implements Callable<Integer> {
    @picocli.CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, hidden = true)
    boolean help;

    private final PrintStream err;
    CommandLine root;

    Top(PrintStream err) {
      this.err = err;
    }

    /** No command given: the listing on stderr, exit 2. */
    @Override
    public Integer call() {
      root.usage(err, Ansi.OFF);
      return 2;
    }
  }

  /** {@code help} lists the commands; {@code help COMMAND} prints that command's usage. */
  @Command(name = "help", helpCommand = true, description = "list the commands, or show one command's options",
      synopsisHeading = "usage: ")
  static final class HelpCommand implements Callable<Integer> {
    @picocli.CommandLine.Option(names = {"-h", "--help"}, description = "list the commands (as help alone)")
    boolean help;

    @picocli.CommandLine.Parameters(arity = "0..1", paramLabel = "COMMAND", description = "the command to explain")
    String command;

    private final PrintStream out;
    CommandLine root;

    HelpCommand(PrintStream out) {
      this.out = out;
    }

    @Override
    public Integer call() {
      if (command == null) {
        root.usage(out, Ansi.OFF);
        return 0;
      }
      CommandLine c = root.getSubcommands().get(command);
      if (c == null) {
        throw new UsageException("unknown command '" + command + "'");
      }
      c.usage(out, Ansi.OFF);
      return 0;
    }
  }
}

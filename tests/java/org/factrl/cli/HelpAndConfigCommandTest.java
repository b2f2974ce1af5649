package org.factrl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.factrl.eval.EvalConfig;
import org.factrl.ppo.PpoConfig;
import org.factrl.stages.RmConfig;
import org.factrl.stages.SftConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The picocli command line: every command's generated --help lists each option it declares, usage
 * errors exit 2 naming the option, and {@code config --stage S} prints a file each stage reads back
 * as its defaults.
 */
class HelpAndConfigCommandTest {
  @TempDir Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    out.reset();
    err.reset();
    return Main.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
        args);
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void mainListsEveryCommandInPipelineOrder() {
    List<String> names = Main.commands().stream().map(c -> new CommandLine(c).getCommandName()).toList();
    assertEquals(List.of("pipeline", "data", "pretrain", "sft", "prefs", "rm", "ppo", "eval", "judge", "plot", "config",
        "info"), names);
  }

  @Test
  void everyCommandHasGeneratedHelpListingEachOfItsOptions() {
    CommandLine root = Main.commandLine(System.out, System.err);
    assertEquals(Main.commands().size() + 1, root.getSubcommands().size(), "every command and help");
    for (FactrlCommand c : Main.commands()) {
      String name = new CommandLine(c).getCommandName();
      for (String[] argv : List.of(new String[] {name, "--help"}, new String[] {name, "-h"}, new String[] {"help", name})) {
        assertEquals(0, run(argv), String.join(" ", argv) + "\n" + err());
        assertEquals("", err(), String.join(" ", argv));
        assertTrue(out().startsWith("usage: bin/factrl " + name), out());
        for (OptionSpec o : root.getSubcommands().get(name).getCommandSpec().options()) {
          assertTrue(out().contains(o.longestName()), name + " --help lacks " + o.longestName() + ":\n" + out());
        }
      }
    }
    // the listing names every command with its summary
    assertEquals(0, run("help"));
    for (FactrlCommand c : Main.commands()) {
      String summary = new CommandLine(c).getCommandSpec().usageMessage().description()[0];
      String name = new CommandLine(c).getCommandName();
      assertTrue(out().lines().anyMatch(l -> l.contains(name) && l.contains(summary)), name + ":\n" + out());
    }
    assertTrue(out().contains("bench"), out());
  }

  @Test
  void usageErrorsNameTheOptionAndExitTwo() {
    String o = dir.resolve("o").toString();
    assertEquals(2, run("config"));
    assertTrue(err().contains("factrl config: --stage is required") && err().contains("usage: bin/factrl config"),
        err());
    assertEquals(2, run("config", "--stage", "pretrain"));
    assertTrue(err().contains("factrl config: --stage must be sft, rm, ppo or eval, got 'pretrain'"), err());
    assertEquals(2, run("config", "--stage"));
    assertTrue(err().contains("factrl config: --stage needs a value"), err());
    assertEquals(2, run("config", "--stage", "sft", "--stage", "rm"));
    assertTrue(err().contains("factrl config: --stage given twice"), err());
    // a value that looks like an option is a missing value, not the value
    assertEquals(2, run("sft", "--data", "d", "--out", "--resume"));
    assertTrue(err().contains("factrl sft: --out needs a value"), err());
    assertEquals(2, run("sft", "--data", "d", "--out", o, "--bogus", "x"));
    assertTrue(err().contains("factrl sft: unknown option --bogus (known: --base, --config, --data, --out, --resume)"),
        err());
    // a negative number is a value: --seed -1 parses, and the range check after it names --scenes
    assertEquals(2, run("data", "--out", o, "--seed", "-1", "--scenes", "0"));
    assertTrue(err().contains("factrl data: --scenes must be in 1..200000, got 0"), err());
    assertEquals(2, run("eval", "--model", "m", "--mmhal", "q", "--annotations", "a", "--images", "i", "--out", o,
        "--tokenizer", "t", "--top-p", "1.5"));
    assertTrue(err().contains("factrl eval: --top-p must be in (0, 1], got 1.5"), err());
    assertFalse(err().contains("\tat "), err());
    assertTrue(Files.notExists(dir.resolve("o")), "nothing written");
  }

  @Test
  void configPrintsEachStagesDefaultsAsAFileItReadsBack() throws Exception {
    for (String stage : List.of("sft", "rm", "ppo", "eval")) {
      assertEquals(0, run("config", "--stage", stage), err());
      Path f = dir.resolve(stage + ".json");
      Files.writeString(f, out(), StandardCharsets.UTF_8);
      Object back = switch (stage) {
        case "sft" -> SftConfig.read(f);
        case "rm" -> RmConfig.read(f);
        case "ppo" -> PpoConfig.read(f);
        default -> EvalConfig.read(f);
      };
      Object defaults = switch (stage) {
        case "sft" -> SftConfig.defaults();
        case "rm" -> RmConfig.defaults();
        case "ppo" -> PpoConfig.defaults();
        default -> EvalConfig.defaults();
      };
      assertEquals(defaults, back, stage);
    }
    assertEquals(0, run("config", "--stage", "ppo"));
    assertTrue(out().contains("\"gamma\": 1.0") && out().contains("\"lr\": 1.0E-4")
        && out().contains("\"q_proj\""), out());
    // the prefs branch's key survives the strict reader: the rm file names the pairs it trains on
    assertEquals(0, run("config", "--stage", "rm"));
    assertTrue(out().contains("\"preferences\": \"preferences.json\""), out());
  }
}

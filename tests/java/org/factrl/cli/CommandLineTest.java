package org.factrl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.factrl.testing.TreeSnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Class 7 of issue 8: every command rejects what it does not know — an unknown option, a stray
 * argument — with exit code 2 and a message on stderr naming it, no stack trace, nothing written.
 */
class CommandLineTest {
  @TempDir Path dir;

  private record Result(int code, String out, String err) {}

  private static Result run(String... argv) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), argv);
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private void assertUsageError(String expected, String... argv) {
    Result r = run(argv);
    String what = String.join(" ", argv) + "\n" + r.err;
    assertEquals(2, r.code, what);
    assertTrue(r.err.contains(expected), what);
    assertEquals("", r.out, what);
    assertFalse(r.err.contains("Exception") || r.err.contains("\tat "), "no stack trace: " + what);
  }

  @Test
  void everyCommandRejectsUnknownOptionsAndStrayArguments() throws Exception {
    TreeSnapshot before = TreeSnapshot.of(dir);
    String run = dir.resolve("run").toString();
    String out = dir.resolve("out").toString();
    for (String command : List.of("info", "pipeline", "data")) {
      List<String> base = command.equals("data") ? List.of("data", "--out", out)
          : command.equals("pipeline") ? List.of("pipeline", "--out", run, "--scenes", "10") : List.of(command);
      assertUsageError("factrl " + command + ": unknown option --bogus", concat(base, "--bogus"));
      assertUsageError("factrl " + command + ": unknown option --bogus", concat(base, "--bogus=1"));
      assertUsageError("factrl " + command + ": unexpected argument 'stray'", concat(base, "stray"));
      assertUsageError("factrl " + command + ": unexpected argument '-x'", concat(base, "-x"));
      assertUsageError("factrl " + command + ": unknown option --bogus", concat(base, "--bogus", "--help"));
    }
    assertUsageError("factrl info: unknown option --bogus (it takes no options)", "info", "--bogus");
    assertUsageError("factrl pipeline: --seed given twice", "pipeline", "--run", run, "--seed", "1", "--seed", "2");
    assertUsageError("factrl pipeline: --scenes must be in 1..200000, got 0", "pipeline", "--run", run, "--scenes", "0");
    assertUsageError("factrl pipeline: 5 scenes leave the eval split empty", "pipeline", "--run", run, "--scenes", "5");
    assertUsageError("factrl pipeline: --run needs a value", "pipeline", "--run");
    assertUsageError("factrl pipeline: --run is the old spelling of --out", "pipeline", "--out", run, "--run", run);
    assertUsageError("factrl pipeline: --until must be data, base, sft, prefs, rm, ppo or eval, got 'nope'", "pipeline",
        "--out", run, "--until", "nope");
    assertUsageError("factrl help: unexpected argument 'extra'", "help", "data", "extra");
    assertUsageError("factrl help: unknown option --bogus", "help", "--bogus");
    assertUsageError("factrl help: unknown command 'nosuch'", "help", "nosuch");
    assertUsageError("factrl: unknown command 'nosuch'", "nosuch");
    assertUsageError("factrl: 'bench' runs through the launcher", "bench");
    assertUsageError("usage: bin/factrl COMMAND");
    assertEquals(before, TreeSnapshot.of(dir), "nothing written for a command line that cannot run");
  }

  @Test
  void helpPrintsToStdoutAndExitsZero() {
    for (String[] argv : List.of(new String[] {"help"}, new String[] {"--help"}, new String[] {"-h"},
        new String[] {"help", "--help"})) {
      Result r = run(argv);
      assertEquals(0, r.code, r.err);
      assertTrue(r.out.contains("pipeline") && r.out.contains("data") && r.out.contains("info"), r.out);
    }
    for (String command : List.of("info", "pipeline", "data")) {
      for (Result r : List.of(run("help", command), run(command, "--help"), run(command, "-h"))) {
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.startsWith("usage: bin/factrl " + command), r.out);
        assertEquals("", r.err);
      }
    }
  }

  private static String[] concat(List<String> base, String... more) {
    return java.util.stream.Stream.concat(base.stream(), java.util.Arrays.stream(more)).toArray(String[]::new);
  }
}

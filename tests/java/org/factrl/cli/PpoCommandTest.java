package org.factrl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/factrl ppo's options: help, required options, config errors naming the key, resume's rules. */
class PpoCommandTest {
  @TempDir Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    out.reset();
    err.reset();
    return Main.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
        args);
  }

  private String all() {
    return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void helpRequiredOptionsAndConfigErrors() throws IOException {
    assertEquals(0, run("ppo", "--help"));
    assertTrue(all().contains("--variant=rlhf|fact-rlhf"), all());
    assertEquals(2, run("ppo", "--data", "d", "--out", "o", "--rm", "r"));
    assertTrue(all().contains("--sft"), all());
    assertEquals(2, run("ppo", "--data", "d", "--out", "o", "--resume", "--sft", "s"));
    Path cfg = dir.resolve("ppo.json");
    Files.writeString(cfg, "{\"betta\": 0.2}");
    assertNotEquals(0, run("ppo", "--data", "d", "--out", dir.resolve("o").toString(), "--sft", "s", "--rm", "r",
        "--config", cfg.toString()));
    assertTrue(all().contains("unknown key 'betta'"), all());
    assertNotEquals(0, run("ppo", "--data", "d", "--out", dir.resolve("o").toString(), "--sft", "s", "--rm", "r",
        "--variant", "plain"));
    assertTrue(all().contains("'variant'"), all());
    assertTrue(Files.notExists(dir.resolve("o")), "nothing written for a bad command line");
  }
}

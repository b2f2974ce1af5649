package org.factrl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.factrl.train.MetricsLog;
import org.factrl.train.StepMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotCommandTest {
  @TempDir Path dir;

  private int run(ByteArrayOutputStream out, ByteArrayOutputStream err, String... argv) {
    return Main.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
        argv);
  }

  @Test
  void drawsTheLogsPlotsAndNamesThem() throws IOException {
    Path f = dir.resolve("metrics.jsonl");
    try (MetricsLog log = MetricsLog.create(f)) {
      log.append(new StepMetrics(1, 2.0, 1e-3, 0.5, 100, 40, 1000, 0.1));
      log.append(new StepMetrics(2, 1.5, 1e-3, 0.5, 100, 40, 1000, 0.1));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Path plots = dir.resolve("plots");
    assertEquals(0, run(out, err, "plot", "--metrics", f.toString(), "--out", plots.toString()), err.toString());
    assertEquals(plots.resolve("loss.png").toString(), out.toString(StandardCharsets.UTF_8).strip());
    assertTrue(Files.size(plots.resolve("loss.png")) > 1000);
  }

  @Test
  void aMissingFileOrOptionIsAUsageError() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(2, run(out, err, "plot", "--metrics", dir.resolve("none.jsonl").toString(), "--out", "x"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("none.jsonl"), err.toString());
    assertEquals(2, run(out, err, "plot", "--out", dir.toString()));
  }
}

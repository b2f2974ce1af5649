package org.factrl.plots;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.factrl.engine.FactRlException;
import org.factrl.ppo.PpoStepMetrics;
import org.factrl.train.MetricsLog;
import org.factrl.train.StepMetrics;
import org.jfree.chart.JFreeChart;
import org.jfree.data.xy.XYDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plots carry exactly the logged numbers (tested on the data, not the pixels) and are real PNGs. */
class MetricsPlotsTest {
  @TempDir Path dir;

  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  /** A PPO log as PpoStepMetrics writes it, with values that differ per step and per field. */
  private Path ppoLog(int steps) throws IOException {
    return ppoLog(steps, false);
  }

  /** With {@code judged}, steps after the first carry the hallucination monitor (step 1 judged nothing). */
  private Path ppoLog(int steps, boolean judged) throws IOException {
    Path f = dir.resolve("ppo-metrics.jsonl");
    StringBuilder sb = new StringBuilder();
    for (int s = 1; s <= steps; s++) {
      int n = judged && s > 1 ? s : 0;
      PpoStepMetrics m = new PpoStepMetrics(s, 0.5 * s, 0.4 * s + 0.01, -0.3 + s, 0.1 * s * s, 10 + s, 2.0 - 0.1 * s,
          0.01 * s, 1.0 / s, -0.02 * s, s % 3 == 0 ? 0.25 : 0.0, Math.sin(s), s == steps, s > 2 ? 1.5 * s : Double.NaN,
          0.1, 0.5, n, n > 0 ? 1.0 / n : Double.NaN, n > 0 ? 2.0 : Double.NaN);
      sb.append(m.toJson()).append('\n');
    }
    Files.writeString(f, sb.toString(), StandardCharsets.UTF_8);
    return f;
  }

  @Test
  void ppoChartsHoldEveryLoggedValueByStep() throws IOException {
    Path f = ppoLog(7);
    List<JsonObject> records = MetricsLog.read(f);
    Map<String, ChartSpec> byFile = MetricsPlots.specs(records).stream()
        .collect(Collectors.toMap(ChartSpec::file, c -> c, (a, b) -> a, TreeMap::new));
    assertEquals(List.of("kl.png", "length.png", "monitors.png", "policy.png", "reward.png", "value_loss.png"),
        new ArrayList<>(byFile.keySet()), "no SFT loss, RM accuracy or hallucination chart for a PPO log without them");
    for (ChartSpec c : byFile.values()) {
      for (ChartSpec.Series s : c.series()) {
        assertEquals(7, s.size(), c.file() + " " + s.key());
        for (int i = 0; i < 7; i++) {
          JsonObject r = records.get(i);
          assertEquals(r.get("step").getAsLong(), s.steps()[i]);
          assertEquals(r.get(s.key()).getAsDouble(), s.values()[i], 0.0, c.file() + " " + s.key() + " step " + (i + 1));
        }
      }
    }
    assertEquals(List.of("reward", "score", "rm_score"),
        byFile.get("reward.png").series().stream().map(ChartSpec.Series::key).toList());
    assertEquals(49 * 0.1, byFile.get("kl.png").series().get(0).values()[6], 1e-12);
    // the rendered chart's dataset is the spec's, point for point
    for (ChartSpec c : byFile.values()) {
      JFreeChart chart = MetricsPlots.render(c);
      XYDataset d = chart.getXYPlot().getDataset();
      assertEquals(c.series().size(), d.getSeriesCount(), c.file());
      for (int k = 0; k < d.getSeriesCount(); k++) {
        ChartSpec.Series s = c.series().get(k);
        assertEquals(s.key(), d.getSeriesKey(k));
        assertEquals(s.size(), d.getItemCount(k));
        for (int i = 0; i < s.size(); i++) {
          assertEquals(s.steps()[i], d.getXValue(k, i), 0.0);
          assertEquals(s.values()[i], d.getYValue(k, i), 0.0);
        }
      }
    }
  }

  @Test
  void recordsWithoutAKeyOrWithANonFiniteValueAreSkippedNotDrawnAsZero() {
    List<JsonObject> records = new ArrayList<>();
    for (int s = 1; s <= 6; s++) {
      JsonObject o = new JsonObject();
      o.addProperty("step", s);
      o.addProperty("loss", 3.0 - 0.25 * s);
      o.addProperty("batch_accuracy", 0.5 + 0.05 * s);
      if (s % 2 == 0) { // the RM's held-out numbers come every eval_every steps
        o.addProperty("heldout_accuracy", 0.6 + 0.01 * s);
      }
      if (s == 4) {
        o.addProperty("heldout_loss", Double.NaN);
      }
      o.addProperty("kl_blow_up", true); // not a number: never a curve
      records.add(o);
    }
    List<ChartSpec> specs = MetricsPlots.specs(records);
    assertEquals(List.of("loss.png", "accuracy.png"), specs.stream().map(ChartSpec::file).toList());
    assertEquals(List.of("loss"), specs.get(0).series().stream().map(ChartSpec.Series::key).toList(),
        "heldout_loss had no finite value");
    ChartSpec.Series held = specs.get(1).series().get(1);
    assertEquals("heldout_accuracy", held.key());
    assertArrayEquals(new long[] {2, 4, 6}, held.steps());
    assertArrayEquals(new double[] {0.62, 0.64, 0.66}, held.values(), 1e-12);
  }

  @Test
  void writeDrawsValidPngsOfTheExpectedSizeFromAnSftLog() throws IOException {
    Path f = dir.resolve("metrics.jsonl");
    try (MetricsLog log = MetricsLog.create(f)) {
      for (int s = 1; s <= 5; s++) {
        log.append(new StepMetrics(s, 4.0 / s, 1e-3, 0.5, 100, 40, 1000, 0.1));
      }
    }
    Path out = dir.resolve("plots");
    List<Path> written = MetricsPlots.write(f, out);
    assertEquals(List.of(out.resolve("loss.png")), written);
    byte[] bytes = Files.readAllBytes(written.get(0));
    byte[] head = java.util.Arrays.copyOf(bytes, 8);
    assertArrayEquals(PNG_SIGNATURE, head);
    BufferedImage img = ImageIO.read(written.get(0).toFile());
    assertEquals(MetricsPlots.WIDTH, img.getWidth());
    assertEquals(MetricsPlots.HEIGHT, img.getHeight());
    // drawing again (the next checkpoint) replaces the file, leaving nothing else behind
    MetricsPlots.write(f, out);
    try (var s = Files.list(out)) {
      assertEquals(List.of(out.resolve("loss.png")), s.toList());
    }
  }

  @Test
  void ppoLogGivesOnePngPerChart() throws IOException {
    List<Path> written = MetricsPlots.write(ppoLog(4), dir.resolve("p"));
    assertEquals(6, written.size());
    for (Path p : written) {
      BufferedImage img = ImageIO.read(p.toFile());
      assertEquals(MetricsPlots.WIDTH, img.getWidth(), p.toString());
      assertEquals(MetricsPlots.HEIGHT, img.getHeight(), p.toString());
    }
  }

  @Test
  void ppoHallucinationIsPlottedByStepFromTheKeyPpoLogs() throws IOException {
    Path f = ppoLog(5, true);
    List<JsonObject> records = MetricsLog.read(f);
    ChartSpec h = MetricsPlots.specs(records).stream().filter(c -> c.file().equals("hallucination.png")).findFirst()
        .orElseThrow(() -> new AssertionError("no hallucination chart for a log with hallucination_rate"));
    assertEquals(1, h.series().size());
    assertEquals("hallucination_rate", h.series().get(0).key());
    assertArrayEquals(new long[] {2, 3, 4, 5}, h.series().get(0).steps(), "step 1 judged nothing: no point");
    assertArrayEquals(new double[] {1.0 / 2, 1.0 / 3, 1.0 / 4, 1.0 / 5}, h.series().get(0).values(), 0.0);
    List<Path> written = MetricsPlots.write(f, dir.resolve("p"));
    assertTrue(written.contains(dir.resolve("p").resolve("hallucination.png")), written.toString());
    assertArrayEquals(PNG_SIGNATURE, java.util.Arrays.copyOf(Files.readAllBytes(dir.resolve("p/hallucination.png")), 8));
  }

  @Test
  void aMissingLogIsAnErrorNamingTheFile() {
    Path missing = dir.resolve("nope.jsonl");
    FactRlException e = assertThrows(FactRlException.class, () -> MetricsPlots.write(missing, dir.resolve("o")));
    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    assertFalse(Files.exists(dir.resolve("o")));
  }
}

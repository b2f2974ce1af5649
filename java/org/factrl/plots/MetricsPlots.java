package org.factrl.plots;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.factrl.engine.FactRlException;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;
import org.factrl.train.MetricsLog;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * PNG plots of a stage's {@code metrics.jsonl} (issue 12 item 5), drawn with JFreeChart: loss (SFT,
 * RM, with the RM's held-out loss), RM accuracy (batch and held-out), and by PPO step reward
 * (reward, score, raw RM score), KL, response length, hallucination rate (when a record logs
 * {@code hallucination_rate}), value loss, policy entropy / clip fraction and the reward-hacking
 * monitors (reward–length correlation, share cut off without EOS). A chart is drawn only when the
 * log holds at least one finite value of one of its keys, so one class serves every stage; records
 * without a key (the RM's held-out numbers come every {@code eval_every} steps) are skipped in that
 * curve, not drawn as zero.
 *
 * <p>Extraction ({@link #specs}) is separate from drawing ({@link #render}) so the numbers can be
 * tested without reading pixels. Files are written atomically (a reader never sees half a PNG) and
 * replaced on every call: the stages redraw them at each checkpoint and at the end, which costs tens
 * of milliseconds for a few thousand points. AWT runs headless (no display is needed or used).
 */
public final class MetricsPlots {
  public static final int WIDTH = 800;
  public static final int HEIGHT = 500;
  /** The folder a stage writes its plots into, beside {@code checkpoints/}. */
  public static final String DIR = "plots";

  static {
    // Before any AWT class loads: a training box has no display, and JFreeChart needs none.
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  /** One chart's definition: the file, titles and the metric keys it draws. */
  private record Def(String file, String title, String yLabel, String... keys) {}

  private static final List<Def> DEFS = List.of(
      new Def("loss.png", "Training loss", "loss", "loss", "heldout_loss"),
      new Def("accuracy.png", "Reward-model accuracy", "accuracy", "batch_accuracy", "heldout_accuracy"),
      new Def("reward.png", "PPO reward", "reward", "reward", "score", "rm_score"),
      new Def("kl.png", "KL to the reference policy", "nats per response", "kl"),
      new Def("length.png", "Response length", "tokens", "length"),
      new Def("hallucination.png", "Hallucination rate", "rate", "hallucination_rate"),
      new Def("value_loss.png", "Value loss", "loss", "value_loss"),
      new Def("policy.png", "Policy entropy and clip fraction", "value", "entropy", "clip_fraction"),
      new Def("monitors.png", "Reward-hacking monitors", "value", "reward_length_correlation", "no_eos_share"));

  private MetricsPlots() {}

  /** The charts a metrics log supports, with their curves (see the class comment). */
  public static List<ChartSpec> specs(List<JsonObject> records) {
    List<ChartSpec> out = new ArrayList<>();
    for (Def d : DEFS) {
      List<ChartSpec.Series> series = new ArrayList<>();
      for (String key : d.keys()) {
        ChartSpec.Series s = seriesOf(records, key);
        if (s.size() > 0) {
          series.add(s);
        }
      }
      if (!series.isEmpty()) {
        out.add(new ChartSpec(d.file(), d.title(), d.yLabel(), series));
      }
    }
    return out;
  }

  /** The finite values of {@code key} by step, in the log's order (records without it, or with a non-number, are skipped). */
  public static ChartSpec.Series seriesOf(List<JsonObject> records, String key) {
    long[] steps = new long[records.size()];
    double[] values = new double[records.size()];
    int n = 0;
    for (JsonObject r : records) {
      JsonElement e = r.get(key);
      if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
        continue;
      }
      double v = e.getAsDouble();
      if (!Double.isFinite(v)) {
        continue;
      }
      steps[n] = r.get("step").getAsLong();
      values[n] = v;
      n++;
    }
    return new ChartSpec.Series(key, java.util.Arrays.copyOf(steps, n), java.util.Arrays.copyOf(values, n));
  }

  /** A line chart of {@code spec}: the step on x, one line per series, the legend naming each key. */
  public static JFreeChart render(ChartSpec spec) {
    XYSeriesCollection data = new XYSeriesCollection();
    for (ChartSpec.Series s : spec.series()) {
      XYSeries xy = new XYSeries(s.key(), false, true);
      long[] steps = s.steps();
      double[] values = s.values();
      for (int i = 0; i < steps.length; i++) {
        xy.add(steps[i], values[i]);
      }
      data.addSeries(xy);
    }
    JFreeChart chart = ChartFactory.createXYLineChart(spec.title(), "step", spec.yLabel(), data,
        PlotOrientation.VERTICAL, true, false, false);
    chart.setBackgroundPaint(Color.WHITE);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    return chart;
  }

  /** The PNG bytes of {@code spec} at {@link #WIDTH}×{@link #HEIGHT}. */
  public static byte[] png(ChartSpec spec) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      ChartUtils.writeChartAsPNG(bytes, render(spec), WIDTH, HEIGHT);
    } catch (IOException e) {
      throw new FactRlException("plot '" + spec.file() + "': cannot encode the PNG: " + e, e);
    }
    return bytes.toByteArray();
  }

  /**
   * Draws every chart {@code metricsFile} supports into {@code outDir} (created when absent),
   * replacing earlier plots of the same names; returns the files written (none for an empty log).
   */
  public static List<Path> write(Path metricsFile, Path outDir) {
    if (!Files.isRegularFile(metricsFile)) {
      throw new FactRlException(metricsFile + ": no metrics log (not a regular file)");
    }
    List<ChartSpec> specs = specs(MetricsLog.read(metricsFile));
    try {
      Files.createDirectories(outDir);
    } catch (IOException e) {
      throw new FactRlException(outDir + ": cannot create the plot folder: " + e, e);
    }
    List<Path> written = new ArrayList<>();
    for (ChartSpec s : specs) {
      Path f = outDir.resolve(s.file());
      AtomicWrite.writeBytes(f, IfExists.REPLACE, png(s));
      written.add(f);
    }
    return written;
  }

  /**
   * {@link #write} for a training stage: a plot that cannot be drawn (a broken font setup, a full
   * disk) is reported on {@code err} and the run goes on, since the curves are a record of the run,
   * not part of its result; {@code metrics.jsonl} still holds every number.
   */
  public static void writeForStage(Path metricsFile, Path outDir, PrintStream err) {
    try {
      write(metricsFile, outDir);
    } catch (RuntimeException | LinkageError e) {
      if (err != null) {
        err.println("warning: plots of " + metricsFile + " not written: " + e);
      }
    }
  }
}

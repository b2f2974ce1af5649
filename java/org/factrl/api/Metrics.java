package org.factrl.api;

import com.google.common.collect.ImmutableList;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalDouble;
import java.util.Set;
import org.factrl.plots.ChartSpec;
import org.factrl.plots.MetricsPlots;
import org.factrl.train.MetricsLog;

/**
 * A stage's {@code metrics.jsonl} (SFT, RM or PPO): one record per step. Numbers by key
 * ({@code loss}, {@code heldout_accuracy}, {@code reward}, {@code kl}, {@code length}, ...); a
 * record without a key, or with a non-finite value, has no point in that key's series.
 */
public final class Metrics {
  private final Path file;
  private final ImmutableList<JsonObject> records;

  private Metrics(Path file, List<JsonObject> records) {
    this.file = file;
    this.records = ImmutableList.copyOf(records);
  }

  /** Reads the log (a torn last line from a killed run is skipped; any other bad line is an error naming it). */
  public static Metrics read(Path metricsJsonl) {
    return new Metrics(metricsJsonl, MetricsLog.read(metricsJsonl));
  }

  /** The steps logged, in order. */
  public long[] steps() {
    return records.stream().mapToLong(r -> r.get("step").getAsLong()).toArray();
  }

  /** Every key some record holds, in first-seen order. */
  public Set<String> keys() {
    Set<String> k = new LinkedHashSet<>();
    for (JsonObject r : records) {
      k.addAll(r.keySet());
    }
    return k;
  }

  /** The finite numbers of {@code key} with their steps. */
  public Series series(String key) {
    ChartSpec.Series s = MetricsPlots.seriesOf(records, key);
    return new Series(key, s.steps(), s.values());
  }

  /** The last finite value of {@code key}, if any. */
  public OptionalDouble last(String key) {
    double[] v = series(key).values();
    return v.length == 0 ? OptionalDouble.empty() : OptionalDouble.of(v[v.length - 1]);
  }

  /** The raw records (a copy of each is not made: do not change them). */
  public List<JsonObject> records() {
    return records;
  }

  /** Draws the PNG plots of this log into {@code outDir} (as the stages and {@code bin/factrl plot} do). */
  public List<Path> plot(Path outDir) {
    return MetricsPlots.write(file, outDir);
  }

  /** A key's values by step. */
  public record Series(String key, long[] steps, double[] values) {
    public Series {
      steps = steps.clone();
      values = values.clone();
    }

    @Override
    public long[] steps() {
      return steps.clone();
    }

    @Override
    public double[] values() {
      return values.clone();
    }
  }
}

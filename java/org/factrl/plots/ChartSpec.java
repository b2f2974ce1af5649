package org.factrl.plots;

import com.google.common.collect.ImmutableList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One plot's data, extracted from a metrics log before anything is drawn: the PNG's file name, the
 * titles and the curves. Tests compare these numbers with the log; {@link MetricsPlots#render} turns
 * a spec into a chart without changing them.
 *
 * @param file the PNG's name in the plot folder ({@code loss.png})
 * @param title the chart's title
 * @param yLabel the value axis label (the x axis is always the step)
 * @param series the curves, each non-empty
 */
public record ChartSpec(String file, String title, String yLabel, List<Series> series) {
  public ChartSpec {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(title, "title");
    Objects.requireNonNull(yLabel, "yLabel");
    series = ImmutableList.copyOf(series);
  }

  /**
   * One curve: the metric {@code key} against the step, at the records that logged a finite value.
   *
   * @param key the metrics field ({@code loss}, {@code kl}, ...), also the legend label
   */
  public record Series(String key, long[] steps, double[] values) {
    public Series {
      Objects.requireNonNull(key, "key");
      if (steps.length != values.length) {
        throw new IllegalArgumentException("series '" + key + "': " + steps.length + " steps but " + values.length
            + " values");
      }
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

    public int size() {
      return steps.length;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Series s && key.equals(s.key) && Arrays.equals(steps, s.steps)
          && Arrays.equals(values, s.values);
    }

    @Override
    public int hashCode() {
      return Objects.hash(key, Arrays.hashCode(steps), Arrays.hashCode(values));
    }

    @Override
    public String toString() {
      return key + Arrays.toString(values);
    }
  }
}

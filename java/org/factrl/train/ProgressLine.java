package org.factrl.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The progress of a training run on stderr: {@code sft  120/500  loss 1.234  1,234 tok/s  ETA 3m05s}.
 * On a terminal the line is rewritten in place ({@code \r}) every step; otherwise (a log file, a
 * pipe, a test) one line is printed every {@code every} steps and at the last step, so logs stay
 * short. ETA = the mean step time of this run so far × the steps left.
 */
public final class ProgressLine {
  private final PrintStream err;
  private final String label;
  private final long total;
  private final boolean inPlace;
  private final long every;
  private final long firstStep;
  private final long startNanos = System.nanoTime();
  private int lastWidth;

  /**
   * @param inPlace rewrite one line ({@code System.console() != null} is the usual test)
   * @param every print every this many steps when not in place
   * @param firstStep the step this run starts after (a resumed run's ETA counts only its own steps)
   */
  public ProgressLine(PrintStream err, String label, long total, boolean inPlace, long every, long firstStep) {
    this.err = err;
    this.label = label;
    this.total = total;
    this.inPlace = inPlace;
    this.every = Math.max(1, every);
    this.firstStep = firstStep;
  }

  /** Reports step {@code m.step()} of {@code total}. */
  public void update(StepMetrics m) {
    boolean last = m.step() >= total;
    if (!inPlace && m.step() % every != 0 && !last) {
      return;
    }
    double elapsed = (System.nanoTime() - startNanos) / 1e9;
    long done = m.step() - firstStep;
    double eta = done > 0 ? elapsed / done * (total - m.step()) : 0;
    String line = String.format(Locale.ROOT, "%s %6d/%d  loss %.4f  lr %.2e  %,.0f tok/s  ETA %s", label, m.step(),
        total, m.loss(), m.lr(), m.tokensPerSecond(), duration(eta));
    if (inPlace) {
      String pad = line.length() < lastWidth ? " ".repeat(lastWidth - line.length()) : "";
      err.print("\r" + line + pad + (last ? "\n" : ""));
      lastWidth = line.length();
    } else {
      err.println(line);
    }
    err.flush();
  }

  static String duration(double seconds) {
    long s = Math.round(seconds);
    if (s >= 3600) {
      return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
    }
    return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
  }
}

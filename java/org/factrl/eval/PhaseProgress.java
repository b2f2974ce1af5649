package org.factrl.eval;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The progress of one evaluation phase on stderr: {@code eval mmhal   40/96  3.1 answers/s  ETA 0m18s}.
 * Like the training stages' {@link org.factrl.train.ProgressLine}: on a terminal the line is
 * rewritten in place; otherwise one line per update (the answer source reports once per batch), so
 * a log holds a line per batch. ETA = the mean time per answer so far × the answers left.
 */
public final class PhaseProgress {
  private final PrintStream err;
  private final String label;
  private final int total;
  private final boolean inPlace;
  private final long startNanos = System.nanoTime();
  private int lastWidth;

  /** @param err where the line goes, or null for none */
  public PhaseProgress(PrintStream err, String label, int total, boolean inPlace) {
    this.err = err;
    this.label = label;
    this.total = total;
    this.inPlace = inPlace;
  }

  /** {@code done} of {@code total} answered. */
  public void update(int done) {
    if (err == null) {
      return;
    }
    double elapsed = (System.nanoTime() - startNanos) / 1e9;
    double rate = elapsed > 0 ? done / elapsed : 0;
    double eta = done > 0 ? elapsed / done * (total - done) : 0;
    String line = String.format(Locale.ROOT, "%-18s %5d/%d  %.2f answers/s  ETA %s", label, done, total, rate,
        duration(eta));
    boolean last = done >= total;
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

package org.factrl.ppo;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import org.factrl.engine.FactRlException;

/**
 * The KL blow-up monitor of PPO (issue 12 item 5): a step's mean summed KL per response is flagged
 * when it is above {@code threshold} ({@code kl_warning}), or when it grew {@code factor} times over
 * the last {@code window} steps: {@code kl_s ≥ factor · max(kl_{s−window}, floor)}. The floor keeps
 * the first steps quiet — the policy starts equal to the reference, so KL starts at 0 and any later
 * value is "infinitely" larger than it; with the floor a growth flag needs at least
 * {@code factor · floor} nats. {@code factor} 0 turns the growth test off.
 *
 * <p>The monitor keeps the last {@code window} KL values; the trainer saves them with its state so
 * a resumed run flags the same steps as an uninterrupted one.
 */
public final class KlMonitor {
  /**
   * One step's verdict.
   *
   * @param growth {@code kl / max(kl_{s−window}, floor)}, or NaN while fewer than {@code window} steps are known
   */
  public record Verdict(double kl, boolean aboveThreshold, double growth, boolean grew) {
    public boolean blowUp() {
      return aboveThreshold || grew;
    }

    /** The warning line's reason, e.g. {@code KL 6.20 above kl_warning 5.00}; empty when not a blow-up. */
    public String reason(double threshold, double factor, int window) {
      StringBuilder sb = new StringBuilder();
      if (aboveThreshold) {
        sb.append(String.format(Locale.ROOT, "KL %.3f above kl_warning %.3f", kl, threshold));
      }
      if (grew) {
        sb.append(sb.length() > 0 ? "; " : "").append(String.format(Locale.ROOT,
            "KL %.3f grew %.1fx over %d steps (kl_growth_factor %.1f)", kl, growth, window, factor));
      }
      return sb.toString();
    }
  }

  private final double threshold;
  private final double factor;
  private final int window;
  private final double floor;
  private final Deque<Double> recent = new ArrayDeque<>();

  public KlMonitor(double threshold, double factor, int window, double floor) {
    if (!(threshold >= 0) || !(factor >= 0) || window < 1 || !(floor > 0)) {
      throw new FactRlException("KL monitor: need threshold ≥ 0, factor ≥ 0, window ≥ 1, floor > 0; got " + threshold
          + ", " + factor + ", " + window + ", " + floor);
    }
    this.threshold = threshold;
    this.factor = factor;
    this.window = window;
    this.floor = floor;
  }

  public static KlMonitor of(PpoConfig c) {
    return new KlMonitor(c.klWarning(), c.klGrowthFactor(), c.klGrowthWindow(), c.klGrowthFloor());
  }

  /** Judges this step's KL and then remembers it. */
  public Verdict observe(double kl) {
    double growth = Double.NaN;
    boolean grew = false;
    if (recent.size() == window) {
      growth = kl / Math.max(recent.peekFirst(), floor);
      grew = factor > 0 && growth >= factor;
    }
    recent.addLast(kl);
    if (recent.size() > window) {
      recent.removeFirst();
    }
    return new Verdict(kl, kl > threshold, growth, grew);
  }

  /** The remembered KL values, oldest first (at most {@code window}). */
  public double[] history() {
    return recent.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** Replaces the remembered values (a resumed run's); only the last {@code window} are kept. */
  public void restore(double[] history) {
    recent.clear();
    for (double v : history) {
      recent.addLast(v);
      if (recent.size() > window) {
        recent.removeFirst();
      }
    }
  }

  public double threshold() {
    return threshold;
  }

  public double factor() {
    return factor;
  }

  public int window() {
    return window;
  }
}

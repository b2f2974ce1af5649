package org.factrl.train;

import org.factrl.engine.FactRlException;

/**
 * Linear warm-up then cosine decay to a floor: the learning rate for each optimizer step.
 *
 * <p>Same formula as Hugging Face's {@code get_cosine_with_min_lr_schedule_with_warmup} (with
 * {@code num_cycles = 0.5}), which is {@code get_cosine_schedule_with_warmup} when the floor is 0:
 *
 * <pre>
 *   step &lt; warmup:  lr = peak * step / max(1, warmup)
 *   otherwise:      p  = (step - warmup) / max(1, total - warmup)
 *                   c  = max(0, 0.5 * (1 + cos(pi * p)))
 *                   lr = peak * (c * (1 - floorRatio) + floorRatio)
 * </pre>
 *
 * <p>{@code step} counts optimizer steps from 0 (the first update uses {@code lr(0)}, which is 0
 * with any warm-up, exactly as with a PyTorch {@code LambdaLR} created before the first step).
 * Past {@code totalSteps} the rate stays at the floor. Immutable and thread-safe.
 */
public final class LearningRateSchedule {
  private final double peak;
  private final long warmupSteps;
  private final long totalSteps;
  private final double floorRatio;

  private LearningRateSchedule(double peak, long warmupSteps, long totalSteps, double floorRatio) {
    this.peak = peak;
    this.warmupSteps = warmupSteps;
    this.totalSteps = totalSteps;
    this.floorRatio = floorRatio;
  }

  /**
   * @param peak the rate reached at the end of warm-up (e.g. 3e-5)
   * @param warmupSteps steps of linear warm-up from 0 (e.g. 5)
   * @param totalSteps steps after which the rate reaches the floor
   * @param floorRatio the floor as a fraction of {@code peak}, in [0, 1]
   */
  public static LearningRateSchedule warmupCosine(
      double peak, long warmupSteps, long totalSteps, double floorRatio) {
    if (!(peak >= 0) || Double.isInfinite(peak)) {
      throw new FactRlException("peak must be finite and >= 0, got " + peak);
    }
    if (warmupSteps < 0) {
      throw new FactRlException("warmupSteps must be >= 0, got " + warmupSteps);
    }
    if (totalSteps < warmupSteps) {
      throw new FactRlException(
          "totalSteps (" + totalSteps + ") must be >= warmupSteps (" + warmupSteps + ")");
    }
    if (!(floorRatio >= 0 && floorRatio <= 1)) {
      throw new FactRlException("floorRatio must be in [0, 1], got " + floorRatio);
    }
    return new LearningRateSchedule(peak, warmupSteps, totalSteps, floorRatio);
  }

  /** A rate that never changes (no warm-up, no decay). */
  public static LearningRateSchedule constant(double lr) {
    return warmupCosine(lr, 0, 0, 1.0);
  }

  /** The learning rate for optimizer step {@code step} (0-based). */
  public double lr(long step) {
    if (step < 0) {
      throw new FactRlException("step must be >= 0, got " + step);
    }
    if (step < warmupSteps) {
      return peak * step / Math.max(1, warmupSteps);
    }
    double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
    double cosine = Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * Math.min(1.0, progress))));
    return peak * (cosine * (1.0 - floorRatio) + floorRatio);
  }

  public double peak() {
    return peak;
  }

  public long warmupSteps() {
    return warmupSteps;
  }

  public long totalSteps() {
    return totalSteps;
  }

  public double floorRatio() {
    return floorRatio;
  }

  @Override
  public String toString() {
    return "LearningRateSchedule{peak=" + peak + ", warmup=" + warmupSteps + ", total="
        + totalSteps + ", floorRatio=" + floorRatio + "}";
  }
}

package org.factrl.train;

import java.util.Locale;
import java.util.Objects;
import java.util.function.Predicate;
import org.factrl.engine.Native;

/**
 * The hyperparameters of {@link AdamW}: the learning-rate schedule, betas, eps, decoupled weight
 * decay, global-norm gradient clipping and which entries get no weight decay. Immutable; build one
 * with {@link #builder()}. Defaults are PyTorch's {@code torch.optim.AdamW} defaults (lr 1e-3
 * constant, betas (0.9, 0.999), eps 1e-8, weight decay 0.01), clipping off, every entry decayed.
 */
public final class AdamWConfig {
  /**
   * The usual no-decay set (Hugging Face Trainer's rule): biases and the weights of normalisation
   * layers — any entry whose name ends in {@code bias} or whose module (the name's second-to-last
   * dotted part) contains {@code norm}: {@code input_layernorm.weight}, {@code model.norm.weight},
   * CLIP's {@code layer_norm1.weight} and {@code pre_layrnorm.weight}.
   */
  public static final Predicate<String> BIASES_AND_NORMS = AdamWConfig::isBiasOrNorm;

  private static final Predicate<String> NONE = name -> false;

  private final LearningRateSchedule schedule;
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private final double maxGradNorm;
  private final Predicate<String> noDecay;

  private AdamWConfig(Builder b) {
    this.schedule = b.schedule;
    this.beta1 = b.beta1;
    this.beta2 = b.beta2;
    this.eps = b.eps;
    this.weightDecay = b.weightDecay;
    this.maxGradNorm = b.maxGradNorm;
    this.noDecay = b.noDecay;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this configuration. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.schedule = schedule;
    b.beta1 = beta1;
    b.beta2 = beta2;
    b.eps = eps;
    b.weightDecay = weightDecay;
    b.maxGradNorm = maxGradNorm;
    b.noDecay = noDecay;
    return b;
  }

  private static boolean isBiasOrNorm(String name) {
    if (name.endsWith("bias")) {
      return true;
    }
    String[] parts = name.split("\\.");
    String module = parts.length >= 2 ? parts[parts.length - 2] : "";
    return module.toLowerCase(Locale.ROOT).contains("norm");
  }

  /** Collects the hyperparameters; {@link #build()} checks them. */
  public static final class Builder {
    private LearningRateSchedule schedule = LearningRateSchedule.constant(1e-3);
    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double eps = 1e-8;
    private double weightDecay = 0.01;
    private double maxGradNorm = 0;
    private Predicate<String> noDecay = NONE;

    private Builder() {}

    /** A constant learning rate (replaces any schedule). */
    public Builder lr(double lr) {
      Native.checkArgument(Double.isFinite(lr) && lr >= 0, "lr", "must be finite and >= 0, got %s", lr);
      this.schedule = LearningRateSchedule.constant(lr);
      return this;
    }

    /** The learning rate per step (e.g. warm-up + cosine); replaces {@link #lr(double)}. */
    public Builder schedule(LearningRateSchedule schedule) {
      this.schedule = Native.checkNotNull(schedule, "schedule");
      return this;
    }

    public Builder betas(double beta1, double beta2) {
      this.beta1 = beta1;
      this.beta2 = beta2;
      return this;
    }

    public Builder eps(double eps) {
      this.eps = eps;
      return this;
    }

    public Builder weightDecay(double weightDecay) {
      this.weightDecay = weightDecay;
      return this;
    }

    /** Clip the global gradient norm to this value; {@code <= 0} turns clipping off. */
    public Builder maxGradNorm(double maxGradNorm) {
      this.maxGradNorm = maxGradNorm;
      return this;
    }

    /**
     * Entries (by name) that get no weight decay, e.g. {@link AdamWConfig#BIASES_AND_NORMS}. Must
     * be a pure function of the name.
     */
    public Builder noDecay(Predicate<String> noDecay) {
      this.noDecay = Native.checkNotNull(noDecay, "noDecay");
      return this;
    }

    public AdamWConfig build() {
      Native.checkArgument(beta1 >= 0 && beta1 < 1, "beta1", "must be in [0, 1), got %s", beta1);
      Native.checkArgument(beta2 >= 0 && beta2 < 1, "beta2", "must be in [0, 1), got %s", beta2);
      Native.checkArgument(Double.isFinite(eps) && eps >= 0, "eps", "must be finite and >= 0, got %s", eps);
      Native.checkArgument(Double.isFinite(weightDecay) && weightDecay >= 0, "weightDecay",
          "must be finite and >= 0, got %s", weightDecay);
      Native.checkArgument(!Double.isNaN(maxGradNorm) && maxGradNorm != Double.POSITIVE_INFINITY, "maxGradNorm",
          "must be finite (<= 0 turns clipping off), got %s", maxGradNorm);
      return new AdamWConfig(this);
    }
  }

  public LearningRateSchedule schedule() {
    return schedule;
  }

  public double beta1() {
    return beta1;
  }

  public double beta2() {
    return beta2;
  }

  public double eps() {
    return eps;
  }

  public double weightDecay() {
    return weightDecay;
  }

  /** The clipping threshold; {@code <= 0} when clipping is off. */
  public double maxGradNorm() {
    return maxGradNorm;
  }

  public boolean clips() {
    return maxGradNorm > 0;
  }

  /** Whether the named entry is excluded from weight decay. */
  public boolean excludedFromDecay(String name) {
    return noDecay.test(Objects.requireNonNull(name, "name"));
  }

  @Override
  public String toString() {
    return "AdamWConfig{schedule=" + schedule + ", betas=(" + beta1 + ", " + beta2 + "), eps=" + eps
        + ", weightDecay=" + weightDecay + ", maxGradNorm=" + (clips() ? maxGradNorm : "off") + "}";
  }
}

package org.factrl.pretrain;

import com.google.common.base.MoreObjects;
import com.google.common.base.Preconditions;

/**
 * Settings of {@link VisionPretrainer} (immutable; {@link #builder()}). Defaults: 300 steps of 32
 * images, peak rate 1e-3 after 20 warm-up steps then cosine to 10%, weight decay 0.01 (not on
 * biases and norms), gradient clipping at norm 1, seed 0, evaluation every 100 steps (0: only at
 * the end) on at most 512 eval-split scenes.
 */
public final class VisionPretrainConfig {
  private final int steps;
  private final int batchSize;
  private final double lr;
  private final int warmupSteps;
  private final double weightDecay;
  private final double maxGradNorm;
  private final long seed;
  private final int evalEvery;
  private final int maxEvalScenes;
  private final float headInitStd;

  private VisionPretrainConfig(Builder b) {
    steps = b.steps;
    batchSize = b.batchSize;
    lr = b.lr;
    warmupSteps = b.warmupSteps;
    weightDecay = b.weightDecay;
    maxGradNorm = b.maxGradNorm;
    seed = b.seed;
    evalEvery = b.evalEvery;
    maxEvalScenes = b.maxEvalScenes;
    headInitStd = b.headInitStd;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder().steps(steps).batchSize(batchSize).lr(lr).warmupSteps(warmupSteps).weightDecay(weightDecay)
        .maxGradNorm(maxGradNorm).seed(seed).evalEvery(evalEvery).maxEvalScenes(maxEvalScenes)
        .headInitStd(headInitStd);
  }

  /** Optimizer steps (each one batch). */
  public int steps() {
    return steps;
  }

  /** Images per step. */
  public int batchSize() {
    return batchSize;
  }

  /** Peak learning rate (linear warm-up, then cosine to 10% at the last step). */
  public double lr() {
    return lr;
  }

  public int warmupSteps() {
    return warmupSteps;
  }

  public double weightDecay() {
    return weightDecay;
  }

  /** Global gradient-norm clip (<= 0: no clipping). */
  public double maxGradNorm() {
    return maxGradNorm;
  }

  /** Seeds the heads' initial weights and the batch order. */
  public long seed() {
    return seed;
  }

  /** Evaluate every this many steps (0: only after the last). */
  public int evalEvery() {
    return evalEvery;
  }

  /** The evaluation reads at most this many eval-split scenes (the first ones). */
  public int maxEvalScenes() {
    return maxEvalScenes;
  }

  /** Standard deviation of the heads' initial weights (biases start at 0). */
  public float headInitStd() {
    return headInitStd;
  }

  @Override
  public String toString() {
    return MoreObjects.toStringHelper(this).add("steps", steps).add("batchSize", batchSize).add("lr", lr)
        .add("warmupSteps", warmupSteps).add("weightDecay", weightDecay).add("maxGradNorm", maxGradNorm)
        .add("seed", seed).add("evalEvery", evalEvery).add("maxEvalScenes", maxEvalScenes)
        .add("headInitStd", headInitStd).toString();
  }

  /** Builder; {@link #build} checks every field. */
  public static final class Builder {
    private int steps = 300;
    private int batchSize = 32;
    private double lr = 1e-3;
    private int warmupSteps = 20;
    private double weightDecay = 0.01;
    private double maxGradNorm = 1.0;
    private long seed;
    private int evalEvery = 100;
    private int maxEvalScenes = 512;
    private float headInitStd = 0.02f;

    private Builder() {}

    public Builder steps(int v) {
      steps = v;
      return this;
    }

    public Builder batchSize(int v) {
      batchSize = v;
      return this;
    }

    public Builder lr(double v) {
      lr = v;
      return this;
    }

    public Builder warmupSteps(int v) {
      warmupSteps = v;
      return this;
    }

    public Builder weightDecay(double v) {
      weightDecay = v;
      return this;
    }

    public Builder maxGradNorm(double v) {
      maxGradNorm = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder evalEvery(int v) {
      evalEvery = v;
      return this;
    }

    public Builder maxEvalScenes(int v) {
      maxEvalScenes = v;
      return this;
    }

    public Builder headInitStd(float v) {
      headInitStd = v;
      return this;
    }

    public VisionPretrainConfig build() {
      Preconditions.checkArgument(steps >= 1, "steps must be >= 1, got %s", steps);
      Preconditions.checkArgument(batchSize >= 1, "batchSize must be >= 1, got %s", batchSize);
      Preconditions.checkArgument(Double.isFinite(lr) && lr > 0, "lr must be finite and > 0, got %s", lr);
      Preconditions.checkArgument(warmupSteps >= 0 && warmupSteps <= steps,
          "warmupSteps must be in [0, steps = %s], got %s", steps, warmupSteps);
      Preconditions.checkArgument(Double.isFinite(weightDecay) && weightDecay >= 0,
          "weightDecay must be finite and >= 0, got %s", weightDecay);
      Preconditions.checkArgument(Double.isFinite(maxGradNorm), "maxGradNorm must be finite, got %s", maxGradNorm);
      Preconditions.checkArgument(evalEvery >= 0, "evalEvery must be >= 0, got %s", evalEvery);
      Preconditions.checkArgument(maxEvalScenes >= 1, "maxEvalScenes must be >= 1, got %s", maxEvalScenes);
      Preconditions.checkArgument(Float.isFinite(headInitStd) && headInitStd >= 0,
          "headInitStd must be finite and >= 0, got %s", headInitStd);
      return new VisionPretrainConfig(this);
    }
  }
}

package org.factrl.train;

import com.google.gson.JsonObject;
import java.util.List;
import java.util.Objects;

/**
 * The optimisation settings every training stage shares (SFT, reward model, PPO, and pretraining
 * to come): learning rate and its warm-up + cosine schedule, weight decay, gradient clip, step
 * count, seed and checkpoint / log cadence. Immutable; the builder checks each value and names its
 * config key. In a stage's config file these are top-level keys beside the stage's own
 * ({@link #KEYS}); {@link #read} takes the ones present over a stage's defaults.
 *
 * <table>
 * <caption>keys</caption>
 * <tr><th>key</th><th>range</th><th>meaning</th></tr>
 * <tr><td>lr</td><td>(0, 1]</td><td>peak learning rate</td></tr>
 * <tr><td>min_lr_ratio</td><td>[0, 1]</td><td>the cosine's floor as a share of lr</td></tr>
 * <tr><td>warmup_steps</td><td>≥ 0</td><td>linear warm-up steps (not more than steps)</td></tr>
 * <tr><td>steps</td><td>≥ 0</td><td>optimizer steps; 0: from the stage's epochs (PPO needs ≥ 1)</td></tr>
 * <tr><td>weight_decay</td><td>[0, 1000]</td><td>AdamW's decoupled decay</td></tr>
 * <tr><td>max_grad_norm</td><td>[0, 1e12]</td><td>global-norm clip; 0: none</td></tr>
 * <tr><td>seed</td><td>any 64-bit</td><td>data order and initialisation</td></tr>
 * <tr><td>checkpoint_every</td><td>≥ 0</td><td>a checkpoint every N steps and after the last; 0: only the last</td></tr>
 * <tr><td>log_every</td><td>≥ 1</td><td>a progress line every N steps</td></tr>
 * </table>
 */
public final class TrainingSettings {
  /** The keys, in the order configs write them. */
  public static final List<String> KEYS = List.of("lr", "min_lr_ratio", "warmup_steps", "steps", "weight_decay",
      "max_grad_norm", "seed", "checkpoint_every", "log_every");

  private final double lr;
  private final double minLrRatio;
  private final long warmupSteps;
  private final long steps;
  private final double weightDecay;
  private final double maxGradNorm;
  private final long seed;
  private final long checkpointEvery;
  private final long logEvery;

  private TrainingSettings(Builder b) {
    lr = b.lr;
    minLrRatio = b.minLrRatio;
    warmupSteps = b.warmupSteps;
    steps = b.steps;
    weightDecay = b.weightDecay;
    maxGradNorm = b.maxGradNorm;
    seed = b.seed;
    checkpointEvery = b.checkpointEvery;
    logEvery = b.logEvery;
  }

  /** A builder over the shared defaults ({@link RecipeDefaults}); stages then set their own lr etc. */
  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return builder().lr(lr).minLrRatio(minLrRatio).warmupSteps(warmupSteps).steps(steps).weightDecay(weightDecay)
        .maxGradNorm(maxGradNorm).seed(seed).checkpointEvery(checkpointEvery).logEvery(logEvery);
  }

  public double lr() {
    return lr;
  }

  public double minLrRatio() {
    return minLrRatio;
  }

  public long warmupSteps() {
    return warmupSteps;
  }

  /** Optimizer steps; 0 means the stage derives them from its epochs. */
  public long steps() {
    return steps;
  }

  public double weightDecay() {
    return weightDecay;
  }

  /** 0: no clipping. */
  public double maxGradNorm() {
    return maxGradNorm;
  }

  public long seed() {
    return seed;
  }

  /** A checkpoint every this many steps (and always after the last); 0: only after the last. */
  public long checkpointEvery() {
    return checkpointEvery;
  }

  public long logEvery() {
    return logEvery;
  }

  /** Adds the keys to {@code o} (a stage's config object). */
  public void writeTo(JsonObject o) {
    o.addProperty("lr", lr);
    o.addProperty("min_lr_ratio", minLrRatio);
    o.addProperty("warmup_steps", warmupSteps);
    o.addProperty("steps", steps);
    o.addProperty("weight_decay", weightDecay);
    o.addProperty("max_grad_norm", maxGradNorm);
    o.addProperty("seed", seed);
    o.addProperty("checkpoint_every", checkpointEvery);
    o.addProperty("log_every", logEvery);
  }

  /** The keys {@code r} has, over {@code defaults}; errors name the source and key. */
  public static TrainingSettings read(ConfigReader r, TrainingSettings defaults) {
    Builder b = defaults.toBuilder();
    if (r.has("lr")) {
      b.lr(r.number("lr", 0, 1));
    }
    if (r.has("min_lr_ratio")) {
      b.minLrRatio(r.number("min_lr_ratio", 0, 1));
    }
    if (r.has("warmup_steps")) {
      b.warmupSteps(r.integer("warmup_steps", 0, Long.MAX_VALUE));
    }
    if (r.has("steps")) {
      b.steps(r.integer("steps", 0, Long.MAX_VALUE / 2));
    }
    if (r.has("weight_decay")) {
      b.weightDecay(r.number("weight_decay", 0, 1e3));
    }
    if (r.has("max_grad_norm")) {
      b.maxGradNorm(r.number("max_grad_norm", 0, 1e12));
    }
    if (r.has("seed")) {
      b.seed(r.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE));
    }
    if (r.has("checkpoint_every")) {
      b.checkpointEvery(r.integer("checkpoint_every", 0, Long.MAX_VALUE));
    }
    if (r.has("log_every")) {
      b.logEvery(r.integer("log_every", 1, Long.MAX_VALUE));
    }
    return r.build(b::build);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TrainingSettings t && lr == t.lr && minLrRatio == t.minLrRatio && warmupSteps == t.warmupSteps
        && steps == t.steps && weightDecay == t.weightDecay && maxGradNorm == t.maxGradNorm && seed == t.seed
        && checkpointEvery == t.checkpointEvery && logEvery == t.logEvery;
  }

  @Override
  public int hashCode() {
    return Objects.hash(lr, minLrRatio, warmupSteps, steps, weightDecay, maxGradNorm, seed, checkpointEvery, logEvery);
  }

  @Override
  public String toString() {
    JsonObject o = new JsonObject();
    writeTo(o);
    return "TrainingSettings" + o;
  }

  /** Checks each value as it is set, naming its key. */
  public static final class Builder {
    private double lr = RecipeDefaults.SFT_LR;
    private double minLrRatio = RecipeDefaults.MIN_LR_RATIO;
    private long warmupSteps = 0;
    private long steps = 0;
    private double weightDecay = RecipeDefaults.WEIGHT_DECAY;
    private double maxGradNorm = RecipeDefaults.MAX_GRAD_NORM;
    private long seed = RecipeDefaults.SEED;
    private long checkpointEvery = 100;
    private long logEvery = 10;

    private Builder() {}

    public Builder lr(double v) {
      lr = ConfigReader.checkAbove("lr", v, 0, 1);
      return this;
    }

    public Builder minLrRatio(double v) {
      minLrRatio = ConfigReader.checkRange("min_lr_ratio", v, 0, 1);
      return this;
    }

    public Builder warmupSteps(long v) {
      warmupSteps = ConfigReader.checkRange("warmup_steps", v, 0, Long.MAX_VALUE);
      return this;
    }

    /** 0: the stage derives its steps from its epochs. */
    public Builder steps(long v) {
      steps = ConfigReader.checkRange("steps", v, 0, Long.MAX_VALUE / 2);
      return this;
    }

    public Builder weightDecay(double v) {
      weightDecay = ConfigReader.checkRange("weight_decay", v, 0, 1e3);
      return this;
    }

    /** 0 turns clipping off. */
    public Builder maxGradNorm(double v) {
      maxGradNorm = ConfigReader.checkRange("max_grad_norm", v, 0, 1e12);
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder checkpointEvery(long v) {
      checkpointEvery = ConfigReader.checkRange("checkpoint_every", v, 0, Long.MAX_VALUE);
      return this;
    }

    public Builder logEvery(long v) {
      logEvery = ConfigReader.checkRange("log_every", v, 1, Long.MAX_VALUE);
      return this;
    }

    /** Checks what depends on two keys (warm-up within the steps) and builds. */
    public TrainingSettings build() {
      if (steps > 0 && warmupSteps > steps) {
        throw ConfigReader.bad("warmup_steps", warmupSteps + " is more than steps " + steps);
      }
      return new TrainingSettings(this);
    }
  }
}

package org.factrl.stages;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.factrl.model.LoraSpec;
import org.factrl.model.LoraTarget;
import org.factrl.model.io.IfExists;
import org.factrl.train.ConfigReader;
import org.factrl.train.RecipeDefaults;
import org.factrl.train.TrainingSettings;

/**
 * The reward-model stage's settings (DESIGN.md §4.2 and "Defaults ... Reward head ... RM loss").
 * Immutable; {@link #builder()} checks every value and fails naming its JSON key; {@link #read} is
 * strict ({@link ConfigReader}: unknown keys, wrong types and out-of-range values are errors naming
 * the file and key; absent keys take the defaults); {@link #toJson()} writes every key, the
 * shared {@link TrainingSettings} ones included (the effective config saved with each checkpoint).
 * Defaults: {@link RecipeDefaults}.
 *
 * <table>
 * <caption>keys</caption>
 * <tr><th>key</th><th>default</th><th>LLaVA-RLHF (7B)</th><th>why the default differs</th></tr>
 * <tr><td>facts</td><td>true</td><td>true (Fact-RLHF)</td><td>false: the standard RLHF reward model</td></tr>
 * <tr><td>lr</td><td>1e-3</td><td>2e-5</td><td>a 2.5M-parameter model with a small adapter takes far larger steps</td></tr>
 * <tr><td>min_lr_ratio / warmup_steps</td><td>0 / 5</td><td>cosine to 0, 3% warm-up</td><td></td></tr>
 * <tr><td>epochs / steps</td><td>1 / 0 (0: from epochs)</td><td>1 epoch</td><td></td></tr>
 * <tr><td>pairs_per_step</td><td>8 (16 rows)</td><td>32</td><td>2 CPU cores</td></tr>
 * <tr><td>held_out_pairs</td><td>64</td><td>500</td><td>the shapes world's RM split is small</td></tr>
 * <tr><td>eval_every</td><td>50 (0: at the end only)</td><td></td><td></td></tr>
 * <tr><td>lora_rank / lora_alpha / lora_targets</td><td>16 / 16 / q,k,v,o,gate,up,down</td><td>64 / 16 / same</td>
 *   <td>d = 192: rank 16 is already a twelfth of the width</td></tr>
 * <tr><td>centring</td><td>0.001</td><td>0.001</td><td>the coefficient of |mean(s_pref + s_other)|</td></tr>
 * <tr><td>head_init_std</td><td>0.02</td><td>0.02 (initializer_range)</td><td>a zero head passes no gradient
 *   to the adapter</td></tr>
 * <tr><td>max_length</td><td>512</td><td>2048</td><td>the tiny preset's positions</td></tr>
 * <tr><td>weight_decay / max_grad_norm</td><td>0 / 1.0</td><td>0 / 1.0</td><td></td></tr>
 * <tr><td>seed</td><td>0</td><td></td><td>held-out split, data order, caption shuffles, adapter and head init</td></tr>
 * <tr><td>checkpoint_every / log_every</td><td>100 / 10</td><td></td><td>0: checkpoint only at the end</td></tr>
 * <tr><td>preferences</td><td>preferences.json</td><td></td><td>the pairs file: relative to the data set folder,
 *   or absolute (e.g. the judged SFT samples of {@link PrefsStage}); images still come from the data set</td></tr>
 * </table>
 */
public final class RmConfig {
  public static final String FILE_NAME = "rm_config.json";
  private static final List<String> OWN_KEYS = List.of("facts", "epochs", "pairs_per_step", "held_out_pairs",
      "eval_every", "lora_rank", "lora_alpha", "lora_targets", "centring", "head_init_std", "max_length", "preferences");
  private static final List<String> KEYS = SftConfig.concat(OWN_KEYS, TrainingSettings.KEYS);

  /** The stage's training defaults (the rest are {@link TrainingSettings}'). */
  public static final TrainingSettings DEFAULT_TRAINING = TrainingSettings.builder().lr(RecipeDefaults.RM_LR)
      .warmupSteps(RecipeDefaults.RM_WARMUP_STEPS).checkpointEvery(100).logEvery(10).build();

  private final boolean facts;
  private final long epochs;
  private final int pairsPerStep;
  private final int heldOutPairs;
  private final long evalEvery;
  private final int loraRank;
  private final float loraAlpha;
  private final Set<LoraTarget> loraTargets;
  private final double centring;
  private final float headInitStd;
  private final int maxLength;
  private final TrainingSettings training;
  private final String preferences;

  private RmConfig(Builder b, TrainingSettings training) {
    facts = b.facts;
    epochs = b.epochs;
    pairsPerStep = b.pairsPerStep;
    heldOutPairs = b.heldOutPairs;
    evalEvery = b.evalEvery;
    loraRank = b.loraRank;
    loraAlpha = b.loraAlpha;
    loraTargets = Collections.unmodifiableSet(EnumSet.copyOf(b.loraTargets));
    centring = b.centring;
    headInitStd = b.headInitStd;
    maxLength = b.maxLength;
    this.training = training;
    preferences = b.preferences;
  }

  public static RmConfig defaults() {
    return builder().build();
  }

  /** The config keys, in the order {@link #toJson} writes them. */
  public static List<String> keys() {
    return KEYS;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return builder().facts(facts).epochs(epochs).pairsPerStep(pairsPerStep).heldOutPairs(heldOutPairs)
        .evalEvery(evalEvery).loraRank(loraRank).loraAlpha(loraAlpha).loraTargets(loraTargets).centring(centring)
        .headInitStd(headInitStd).maxLength(maxLength).training(training)
        .preferences(preferences);
  }

  // ---- accessors ----------------------------------------------------------------------------

  /** Whether the RM input carries the image's facts ({@link org.factrl.reward.FactTemplate}). */
  public boolean facts() {
    return facts;
  }

  /** The shared optimisation settings (lr, schedule, clip, seed, cadence). */
  public TrainingSettings training() {
    return training;
  }

  public double lr() {
    return training.lr();
  }

  public double minLrRatio() {
    return training.minLrRatio();
  }

  public long warmupSteps() {
    return training.warmupSteps();
  }

  public long epochs() {
    return epochs;
  }

  /** Optimizer steps; 0 means {@code ceil(epochs · training pairs / pairs_per_step)}. */
  public long steps() {
    return training.steps();
  }

  /** The steps of a run over {@code pairs} training pairs. */
  public long totalSteps(int pairs) {
    return steps() > 0 ? steps() : Math.max(1, (epochs * pairs + pairsPerStep - 1) / pairsPerStep);
  }

  /** Pairs per step; each step's batch holds both responses of each pair (2 × this many rows). */
  public int pairsPerStep() {
    return pairsPerStep;
  }

  /** Pairs kept out of training for accuracy (a seeded choice). */
  public int heldOutPairs() {
    return heldOutPairs;
  }

  /** Held-out accuracy every this many steps (and always after the last); 0: after the last only. */
  public long evalEvery() {
    return evalEvery;
  }

  /** The RM adapter's shape (decoder targets only: vision encoder and projector stay frozen). */
  public LoraSpec loraSpec() {
    return new LoraSpec(loraRank, loraAlpha, loraTargets);
  }

  /** The coefficient c of the centring term c·|mean(s_pref + s_other)|. */
  public double centring() {
    return centring;
  }

  public float headInitStd() {
    return headInitStd;
  }

  public int maxLength() {
    return maxLength;
  }

  public double weightDecay() {
    return training.weightDecay();
  }

  public double maxGradNorm() {
    return training.maxGradNorm();
  }

  public long seed() {
    return training.seed();
  }

  public long checkpointEvery() {
    return training.checkpointEvery();
  }

  public long logEvery() {
    return training.logEvery();
  }

  /** The {@code preferences} key as given: a path relative to the data set folder, or absolute. */
  public String preferences() {
    return preferences;
  }

  /** The preferences file a run on {@code dataDir} trains on. */
  public Path preferencesFile(Path dataDir) {
    return dataDir.resolve(preferences).toAbsolutePath().normalize();
  }

  // ---- JSON ---------------------------------------------------------------------------------

  /** Every key: the stage's own, then the shared training keys. */
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("facts", facts);
    o.addProperty("epochs", epochs);
    o.addProperty("pairs_per_step", pairsPerStep);
    o.addProperty("held_out_pairs", heldOutPairs);
    o.addProperty("eval_every", evalEvery);
    o.addProperty("lora_rank", loraRank);
    o.addProperty("lora_alpha", loraAlpha);
    o.add("lora_targets", ConfigReader.targetsJson(loraTargets));
    o.addProperty("centring", centring);
    o.addProperty("head_init_std", headInitStd);
    o.addProperty("max_length", maxLength);
    o.addProperty("preferences", preferences);
    training.writeTo(o);
    return o;
  }

  public void write(Path file, IfExists ifExists) {
    ConfigReader.write(toJson(), file, ifExists);
  }

  /** Reads a config file; errors name the file and the key. */
  public static RmConfig read(Path file) {
    return from(ConfigReader.open(file, "reward-model", KEYS));
  }

  /** Parses a config's JSON text; errors start with {@code source} and name the key. */
  public static RmConfig parse(String json, String source) {
    return from(ConfigReader.parse(json, source, "reward-model", KEYS));
  }

  private static RmConfig from(ConfigReader r) {
    Builder b = builder();
    return r.build(() -> {
      if (r.has("facts")) {
        b.facts(r.bool("facts"));
      }
      if (r.has("epochs")) {
        b.epochs(r.integer("epochs", 1, 1_000_000));
      }
      if (r.has("pairs_per_step")) {
        b.pairsPerStep((int) r.integer("pairs_per_step", 1, 1 << 16));
      }
      if (r.has("held_out_pairs")) {
        b.heldOutPairs((int) r.integer("held_out_pairs", 1, 1 << 24));
      }
      if (r.has("eval_every")) {
        b.evalEvery(r.integer("eval_every", 0, Long.MAX_VALUE));
      }
      if (r.has("lora_rank")) {
        b.loraRank((int) r.integer("lora_rank", 1, 4096));
      }
      if (r.has("lora_alpha")) {
        b.loraAlpha((float) r.number("lora_alpha", 0, 1e6));
      }
      if (r.has("lora_targets")) {
        b.loraTargets(r.loraTargets("lora_targets", false));
      }
      if (r.has("centring")) {
        b.centring(r.number("centring", 0, 1e3));
      }
      if (r.has("head_init_std")) {
        b.headInitStd((float) r.number("head_init_std", 0, 10));
      }
      if (r.has("max_length")) {
        b.maxLength((int) r.integer("max_length", 2, 1 << 20));
      }
      if (r.has("preferences")) {
        b.preferences(r.string("preferences"));
      }
      b.training(TrainingSettings.read(r, DEFAULT_TRAINING));
      return b.build();
    });
  }

  /** The keys whose values differ from {@code other}'s, as {@code key: this vs other}; empty when equal. */
  public String differences(RmConfig other) {
    return ConfigReader.differences(toJson(), other.toJson());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RmConfig c && toJson().equals(c.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return "RmConfig" + toJson();
  }

  // ---- builder ------------------------------------------------------------------------------

  /** Checks each value as it is set; errors name the JSON key. */
  public static final class Builder {
    private boolean facts = true;
    private long epochs = RecipeDefaults.RM_EPOCHS;
    private int pairsPerStep = RecipeDefaults.RM_PAIRS_PER_STEP;
    private int heldOutPairs = RecipeDefaults.RM_HELD_OUT_PAIRS;
    private long evalEvery = 50;
    private int loraRank = RecipeDefaults.RM_LORA_RANK;
    private float loraAlpha = RecipeDefaults.RM_LORA_ALPHA;
    private Set<LoraTarget> loraTargets = EnumSet.copyOf(RecipeDefaults.LORA_TARGETS);
    private double centring = RecipeDefaults.RM_CENTRING;
    private float headInitStd = RecipeDefaults.RM_HEAD_INIT_STD;
    private int maxLength = RecipeDefaults.RM_MAX_LENGTH;
    private TrainingSettings.Builder training = DEFAULT_TRAINING.toBuilder();
    private String preferences = "preferences.json";

    private Builder() {}

    public Builder facts(boolean v) {
      facts = v;
      return this;
    }

    /** Replaces every shared training setting. */
    public Builder training(TrainingSettings v) {
      training = Objects.requireNonNull(v, "training").toBuilder();
      return this;
    }

    public Builder lr(double v) {
      training.lr(v);
      return this;
    }

    public Builder minLrRatio(double v) {
      training.minLrRatio(v);
      return this;
    }

    public Builder warmupSteps(long v) {
      training.warmupSteps(v);
      return this;
    }

    public Builder epochs(long v) {
      epochs = ConfigReader.checkRange("epochs", v, 1, 1_000_000);
      return this;
    }

    public Builder steps(long v) {
      training.steps(v);
      return this;
    }

    public Builder pairsPerStep(int v) {
      pairsPerStep = (int) ConfigReader.checkRange("pairs_per_step", v, 1, 1 << 16);
      return this;
    }

    /** At least 1: accuracy needs held-out pairs. */
    public Builder heldOutPairs(int v) {
      heldOutPairs = (int) ConfigReader.checkRange("held_out_pairs", v, 1, 1 << 24);
      return this;
    }

    /** 0: at the end only. */
    public Builder evalEvery(long v) {
      evalEvery = ConfigReader.checkRange("eval_every", v, 0, Long.MAX_VALUE);
      return this;
    }

    public Builder loraRank(int v) {
      loraRank = (int) ConfigReader.checkRange("lora_rank", v, 1, 4096);
      return this;
    }

    public Builder loraAlpha(float v) {
      loraAlpha = (float) ConfigReader.checkAbove("lora_alpha", v, 0, 1e6);
      return this;
    }

    public Builder loraTargets(Set<LoraTarget> v) {
      if (v == null || v.isEmpty()) {
        throw ConfigReader.bad("lora_targets", "must name at least one layer");
      }
      if (v.contains(LoraTarget.PROJECTOR)) {
        throw ConfigReader.bad("lora_targets", "must not name the projector (frozen during RM training, DESIGN.md §4)");
      }
      loraTargets = EnumSet.copyOf(v);
      return this;
    }

    public Builder centring(double v) {
      centring = ConfigReader.checkRange("centring", v, 0, 1e3);
      return this;
    }

    public Builder headInitStd(float v) {
      headInitStd = (float) ConfigReader.checkRange("head_init_std", v, 0, 10);
      return this;
    }

    public Builder maxLength(int v) {
      maxLength = (int) ConfigReader.checkRange("max_length", v, 2, 1 << 20);
      return this;
    }

    public Builder weightDecay(double v) {
      training.weightDecay(v);
      return this;
    }

    public Builder maxGradNorm(double v) {
      training.maxGradNorm(v);
      return this;
    }

    public Builder seed(long v) {
      training.seed(v);
      return this;
    }

    public Builder checkpointEvery(long v) {
      training.checkpointEvery(v);
      return this;
    }

    public Builder logEvery(long v) {
      training.logEvery(v);
      return this;
    }

    /** The pairs file: relative to the data set folder (default {@code preferences.json}), or absolute. */
    public Builder preferences(String v) {
      if (v == null || v.isBlank()) {
        throw ConfigReader.bad("preferences", "must name a file (relative to the data set folder, or absolute)");
      }
      try {
        Path.of(v);
      } catch (java.nio.file.InvalidPathException e) {
        throw ConfigReader.bad("preferences", "is not a valid path: " + e.getMessage());
      }
      preferences = v;
      return this;
    }

    public RmConfig build() {
      return new RmConfig(this, training.build());
    }
  }
}

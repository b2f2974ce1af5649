package org.factrl.stages;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.factrl.engine.FactRlException;
import org.factrl.model.LoraSpec;
import org.factrl.model.LoraTarget;
import org.factrl.model.ModelConfig;
import org.factrl.model.ParamGroup;
import org.factrl.model.io.IfExists;
import org.factrl.train.ConfigReader;
import org.factrl.train.LoraTargetNames;
import org.factrl.train.RecipeDefaults;
import org.factrl.train.TrainingSettings;

/**
 * The SFT stage's settings (DESIGN.md §4.1). Immutable; {@link #builder()} checks every value and
 * fails naming its JSON key. On disk it is a JSON object with the keys below plus the shared
 * {@link TrainingSettings} keys; {@link #read} is strict ({@link ConfigReader}: unknown keys, wrong
 * types and out-of-range values are errors naming the file and key; absent keys take the
 * defaults). {@link #toJson()} writes every key (the effective config, saved with each checkpoint).
 * {@code lora_targets} takes q or q_proj alike ({@link LoraTargetNames}) and is written q_proj.
 *
 * <p>Defaults ({@link RecipeDefaults}) — LLaVA's SFT recipe scaled to the {@code tiny} preset
 * (2.5M parameters, CPU):
 * <table>
 * <caption>keys</caption>
 * <tr><th>key</th><th>default</th><th>LLaVA-1.5 (7B)</th><th>why the default differs</th></tr>
 * <tr><td>finetune</td><td>full</td><td>full (LoRA variant: r 128, α 256)</td><td></td></tr>
 * <tr><td>trainable_groups</td><td>[projector, decoder] (full), [projector] (lora)</td>
 *   <td>vision tower frozen, projector and LM trained</td><td></td></tr>
 * <tr><td>lora_rank / lora_alpha / lora_targets</td><td>64 / 16 / q,k,v,o,gate,up,down</td>
 *   <td>DESIGN §4 (LLaVA-RLHF's LoRA)</td><td></td></tr>
 * <tr><td>lr</td><td>5e-4</td><td>2e-5 (full), 2e-4 (LoRA)</td><td>a 2.5M-parameter model takes far
 *   larger steps</td></tr>
 * <tr><td>min_lr_ratio</td><td>0</td><td>0 (cosine to zero)</td><td></td></tr>
 * <tr><td>warmup_steps</td><td>10</td><td>3% of the steps</td><td>a few hundred steps in all</td></tr>
 * <tr><td>epochs / steps</td><td>1 / 0 (0: from epochs)</td><td>1 epoch</td><td></td></tr>
 * <tr><td>batch_size</td><td>8</td><td>128</td><td>2 CPU cores</td></tr>
 * <tr><td>max_length</td><td>320</td><td>2048</td><td>64 image tokens + the shapes world's short turns</td></tr>
 * <tr><td>weight_decay / max_grad_norm</td><td>0 / 1.0</td><td>0 / 1.0</td><td></td></tr>
 * <tr><td>seed</td><td>0</td><td></td><td>data order and LoRA initialisation</td></tr>
 * <tr><td>checkpoint_every / log_every</td><td>100 / 10</td><td></td><td>0: checkpoint only at the end</td></tr>
 * <tr><td>preset / init_std</td><td>tiny / 0.02</td><td></td><td>the base when none is given (tests,
 *   overfit checks; a real run starts from a pretrained base)</td></tr>
 * </table>
 */
public final class SftConfig {
  public static final String FILE_NAME = "sft_config.json";
  /** The stage's own keys; the shared ones are {@link TrainingSettings#KEYS}. */
  private static final List<String> OWN_KEYS = List.of("finetune", "trainable_groups", "lora_rank", "lora_alpha",
      "lora_targets", "epochs", "batch_size", "max_length", "preset", "init_std");
  private static final List<String> KEYS = concat(OWN_KEYS, TrainingSettings.KEYS);

  /** The stage's training defaults (the rest are {@link TrainingSettings}'). */
  public static final TrainingSettings DEFAULT_TRAINING = TrainingSettings.builder().lr(RecipeDefaults.SFT_LR)
      .warmupSteps(RecipeDefaults.SFT_WARMUP_STEPS).checkpointEvery(100).logEvery(10).build();

  private final FineTuning finetune;
  private final Set<ParamGroup> trainableGroups;
  private final int loraRank;
  private final float loraAlpha;
  private final Set<LoraTarget> loraTargets;
  private final long epochs;
  private final int batchSize;
  private final int maxLength;
  private final String preset;
  private final float initStd;
  private final TrainingSettings training;

  private SftConfig(Builder b, TrainingSettings training) {
    finetune = b.finetune;
    trainableGroups = Collections.unmodifiableSet(EnumSet.copyOf(b.resolvedGroups()));
    loraRank = b.loraRank;
    loraAlpha = b.loraAlpha;
    loraTargets = Collections.unmodifiableSet(EnumSet.copyOf(b.loraTargets));
    epochs = b.epochs;
    batchSize = b.batchSize;
    maxLength = b.maxLength;
    preset = b.preset;
    initStd = b.initStd;
    this.training = training;
  }

  static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return List.copyOf(out);
  }

  /** The defaults (see the class comment). */
  public static SftConfig defaults() {
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
    Builder b = new Builder();
    b.finetune = finetune;
    b.trainableGroups = trainableGroups.isEmpty() ? EnumSet.noneOf(ParamGroup.class) : EnumSet.copyOf(trainableGroups);
    b.loraRank = loraRank;
    b.loraAlpha = loraAlpha;
    b.loraTargets = EnumSet.copyOf(loraTargets);
    b.epochs = epochs;
    b.batchSize = batchSize;
    b.maxLength = maxLength;
    b.preset = preset;
    b.initStd = initStd;
    b.training = training.toBuilder();
    return b;
  }

  // ---- accessors ----------------------------------------------------------------------------

  public FineTuning finetune() {
    return finetune;
  }

  /** Base groups whose weights train (beside the adapter in LoRA mode); may be empty with LoRA. */
  public Set<ParamGroup> trainableGroups() {
    return trainableGroups;
  }

  /** The adapter's shape (LoRA mode). */
  public LoraSpec loraSpec() {
    return new LoraSpec(loraRank, loraAlpha, loraTargets);
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

  /** Optimizer steps; 0 means {@code ceil(epochs · examples / batch_size)}. */
  public long steps() {
    return training.steps();
  }

  /** The steps of a run over {@code examples} examples. */
  public long totalSteps(int examples) {
    return steps() > 0 ? steps() : Math.max(1, (epochs * examples + batchSize - 1) / batchSize);
  }

  public int batchSize() {
    return batchSize;
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

  /** A checkpoint every this many steps (and always after the last); 0: only after the last. */
  public long checkpointEvery() {
    return training.checkpointEvery();
  }

  public long logEvery() {
    return training.logEvery();
  }

  public String preset() {
    return preset;
  }

  public float initStd() {
    return initStd;
  }

  // ---- JSON ---------------------------------------------------------------------------------

  /** Every key: the stage's own, then the shared training keys. */
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("finetune", finetune.jsonName());
    JsonArray groups = new JsonArray();
    trainableGroups.forEach(g -> groups.add(g.name().toLowerCase(Locale.ROOT)));
    o.add("trainable_groups", groups);
    o.addProperty("lora_rank", loraRank);
    o.addProperty("lora_alpha", loraAlpha);
    o.add("lora_targets", ConfigReader.targetsJson(loraTargets));
    o.addProperty("epochs", epochs);
    o.addProperty("batch_size", batchSize);
    o.addProperty("max_length", maxLength);
    o.addProperty("preset", preset);
    o.addProperty("init_std", initStd);
    training.writeTo(o);
    return o;
  }

  /** Writes {@link #toJson()} to {@code file} atomically. */
  public void write(Path file, IfExists ifExists) {
    ConfigReader.write(toJson(), file, ifExists);
  }

  /** Reads a config file (see the class comment); errors name the file and the key. */
  public static SftConfig read(Path file) {
    return from(ConfigReader.open(file, "SFT", KEYS));
  }

  /** Parses a config's JSON text; errors start with {@code source} and name the key. */
  public static SftConfig parse(String json, String source) {
    return from(ConfigReader.parse(json, source, "SFT", KEYS));
  }

  private static SftConfig from(ConfigReader r) {
    Builder b = builder();
    return r.build(() -> {
      if (r.has("finetune")) {
        String s = r.choice("finetune", List.of("full", "lora"));
        b.finetune(FineTuning.of(s));
      }
      if (r.has("trainable_groups")) {
        EnumSet<ParamGroup> groups = EnumSet.noneOf(ParamGroup.class);
        for (String s : r.strings("trainable_groups")) {
          groups.add(switch (s) {
            case "vision" -> ParamGroup.VISION;
            case "projector" -> ParamGroup.PROJECTOR;
            case "decoder" -> ParamGroup.DECODER;
            default -> throw r.error("trainable_groups", "has \"" + s + "\"; expected vision, projector or decoder");
          });
        }
        b.trainableGroups(groups);
      }
      if (r.has("lora_rank")) {
        b.loraRank((int) r.integer("lora_rank", 1, 4096));
      }
      if (r.has("lora_alpha")) {
        b.loraAlpha((float) r.number("lora_alpha", 0, 1e6));
      }
      if (r.has("lora_targets")) {
        b.loraTargets(r.loraTargets("lora_targets", true));
      }
      if (r.has("epochs")) {
        b.epochs(r.integer("epochs", 1, 1_000_000));
      }
      if (r.has("batch_size")) {
        b.batchSize((int) r.integer("batch_size", 1, 1 << 20));
      }
      if (r.has("max_length")) {
        b.maxLength((int) r.integer("max_length", 2, 1 << 20));
      }
      if (r.has("preset")) {
        b.preset(r.string("preset"));
      }
      if (r.has("init_std")) {
        b.initStd((float) r.number("init_std", 0, 10));
      }
      b.training(TrainingSettings.read(r, DEFAULT_TRAINING));
      return b.build();
    });
  }

  /** The keys whose values differ from {@code other}'s, as {@code key: this vs other}; empty when equal. */
  public String differences(SftConfig other) {
    return ConfigReader.differences(toJson(), other.toJson());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SftConfig c && toJson().equals(c.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return "SftConfig" + toJson();
  }

  // ---- builder ------------------------------------------------------------------------------

  /** Collects the settings; each setter checks its value and names its key. */
  public static final class Builder {
    private FineTuning finetune = FineTuning.FULL;
    private Set<ParamGroup> trainableGroups; // null: the default of the fine-tuning mode
    private int loraRank = RecipeDefaults.SFT_LORA_RANK;
    private float loraAlpha = RecipeDefaults.SFT_LORA_ALPHA;
    private Set<LoraTarget> loraTargets = EnumSet.copyOf(RecipeDefaults.LORA_TARGETS);
    private long epochs = RecipeDefaults.SFT_EPOCHS;
    private int batchSize = RecipeDefaults.SFT_BATCH_SIZE;
    private int maxLength = RecipeDefaults.SFT_MAX_LENGTH;
    private String preset = "tiny";
    private float initStd = 0.02f;
    private TrainingSettings.Builder training = DEFAULT_TRAINING.toBuilder();

    private Builder() {}

    private static FactRlException bad(String key, String problem) {
      return ConfigReader.bad(key, problem);
    }

    public Builder finetune(FineTuning v) {
      finetune = Objects.requireNonNull(v, "finetune");
      return this;
    }

    /** The trained base groups; unset: {projector, decoder} for full, {projector} for LoRA. */
    public Builder trainableGroups(Set<ParamGroup> v) {
      Objects.requireNonNull(v, "trainable_groups");
      trainableGroups = v.isEmpty() ? EnumSet.noneOf(ParamGroup.class) : EnumSet.copyOf(v);
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
        throw bad("lora_targets", "must name at least one layer");
      }
      loraTargets = EnumSet.copyOf(v);
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

    public Builder batchSize(int v) {
      batchSize = (int) ConfigReader.checkRange("batch_size", v, 1, 1 << 20);
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

    /** 0 turns clipping off. */
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

    public Builder preset(String v) {
      Objects.requireNonNull(v, "preset");
      try {
        ModelConfig.preset(v);
      } catch (FactRlException e) {
        throw bad("preset", "\"" + v + "\" is not one of tiny, small, llava-7b");
      }
      preset = v;
      return this;
    }

    public Builder initStd(float v) {
      initStd = (float) ConfigReader.checkRange("init_std", v, 0, 10);
      return this;
    }

    private Set<ParamGroup> resolvedGroups() {
      if (trainableGroups != null) {
        return trainableGroups.isEmpty() ? EnumSet.noneOf(ParamGroup.class) : trainableGroups;
      }
      return finetune == FineTuning.FULL ? EnumSet.of(ParamGroup.PROJECTOR, ParamGroup.DECODER)
          : EnumSet.of(ParamGroup.PROJECTOR);
    }

    /** Checks what depends on several keys and builds. */
    public SftConfig build() {
      if (finetune == FineTuning.FULL && resolvedGroups().isEmpty()) {
        throw bad("trainable_groups", "is empty: full fine-tuning must train at least one group");
      }
      return new SftConfig(this, training.build());
    }
  }
}

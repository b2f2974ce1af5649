package org.factrl.stages;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.StrictJson;
import org.factrl.engine.FactRlException;
import org.factrl.model.LoraSpec;
import org.factrl.model.LoraTarget;
import org.factrl.model.ModelConfig;
import org.factrl.model.ParamGroup;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;
import org.factrl.train.JsonFields;

/**
 * The SFT stage's settings (DESIGN.md §4.1). Immutable; {@link #builder()} checks every value and
 * fails naming its JSON key. On disk it is a JSON object with the keys below; {@link #read} is
 * strict: unknown keys, wrong types and out-of-range values are errors naming the key; absent keys
 * take the defaults. {@link #toJson()} writes every key (the effective config, saved with each
 * checkpoint).
 *
 * <p>Defaults — LLaVA's SFT recipe scaled to the {@code tiny} preset (2.5M parameters, CPU):
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
  private static final List<String> KEYS = List.of("finetune", "trainable_groups", "lora_rank", "lora_alpha",
      "lora_targets", "lr", "min_lr_ratio", "warmup_steps", "epochs", "steps", "batch_size", "max_length",
      "weight_decay", "max_grad_norm", "seed", "checkpoint_every", "log_every", "preset", "init_std");

  private final FineTuning finetune;
  private final Set<ParamGroup> trainableGroups;
  private final int loraRank;
  private final float loraAlpha;
  private final Set<LoraTarget> loraTargets;
  private final double lr;
  private final double minLrRatio;
  private final long warmupSteps;
  private final long epochs;
  private final long steps;
  private final int batchSize;
  private final int maxLength;
  private final double weightDecay;
  private final double maxGradNorm;
  private final long seed;
  private final long checkpointEvery;
  private final long logEvery;
  private final String preset;
  private final float initStd;

  private SftConfig(Builder b) {
    finetune = b.finetune;
    trainableGroups = Collections.unmodifiableSet(EnumSet.copyOf(b.resolvedGroups()));
    loraRank = b.loraRank;
    loraAlpha = b.loraAlpha;
    loraTargets = Collections.unmodifiableSet(EnumSet.copyOf(b.loraTargets));
    lr = b.lr;
    minLrRatio = b.minLrRatio;
    warmupSteps = b.warmupSteps;
    epochs = b.epochs;
    steps = b.steps;
    batchSize = b.batchSize;
    maxLength = b.maxLength;
    weightDecay = b.weightDecay;
    maxGradNorm = b.maxGradNorm;
    seed = b.seed;
    checkpointEvery = b.checkpointEvery;
    logEvery = b.logEvery;
    preset = b.preset;
    initStd = b.initStd;
  }

  /** The defaults (see the class comment). */
  public static SftConfig defaults() {
    return builder().build();
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
    b.lr = lr;
    b.minLrRatio = minLrRatio;
    b.warmupSteps = warmupSteps;
    b.epochs = epochs;
    b.steps = steps;
    b.batchSize = batchSize;
    b.maxLength = maxLength;
    b.weightDecay = weightDecay;
    b.maxGradNorm = maxGradNorm;
    b.seed = seed;
    b.checkpointEvery = checkpointEvery;
    b.logEvery = logEvery;
    b.preset = preset;
    b.initStd = initStd;
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

  public double lr() {
    return lr;
  }

  public double minLrRatio() {
    return minLrRatio;
  }

  public long warmupSteps() {
    return warmupSteps;
  }

  public long epochs() {
    return epochs;
  }

  /** Optimizer steps; 0 means {@code ceil(epochs · examples / batch_size)}. */
  public long steps() {
    return steps;
  }

  /** The steps of a run over {@code examples} examples. */
  public long totalSteps(int examples) {
    return steps > 0 ? steps : Math.max(1, (epochs * examples + batchSize - 1) / batchSize);
  }

  public int batchSize() {
    return batchSize;
  }

  public int maxLength() {
    return maxLength;
  }

  public double weightDecay() {
    return weightDecay;
  }

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

  public String preset() {
    return preset;
  }

  public float initStd() {
    return initStd;
  }

  // ---- JSON ---------------------------------------------------------------------------------

  /** Every key, in the documented order. */
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("finetune", finetune.jsonName());
    JsonArray groups = new JsonArray();
    trainableGroups.forEach(g -> groups.add(g.name().toLowerCase(Locale.ROOT)));
    o.add("trainable_groups", groups);
    o.addProperty("lora_rank", loraRank);
    o.addProperty("lora_alpha", loraAlpha);
    JsonArray targets = new JsonArray();
    loraTargets.forEach(t -> targets.add(targetName(t)));
    o.add("lora_targets", targets);
    o.addProperty("lr", lr);
    o.addProperty("min_lr_ratio", minLrRatio);
    o.addProperty("warmup_steps", warmupSteps);
    o.addProperty("epochs", epochs);
    o.addProperty("steps", steps);
    o.addProperty("batch_size", batchSize);
    o.addProperty("max_length", maxLength);
    o.addProperty("weight_decay", weightDecay);
    o.addProperty("max_grad_norm", maxGradNorm);
    o.addProperty("seed", seed);
    o.addProperty("checkpoint_every", checkpointEvery);
    o.addProperty("log_every", logEvery);
    o.addProperty("preset", preset);
    o.addProperty("init_std", initStd);
    return o;
  }

  private static String targetName(LoraTarget t) {
    return t == LoraTarget.PROJECTOR ? "multi_modal_projector" : t.peftName();
  }

  /** Writes {@link #toJson()} to {@code file} atomically. */
  public void write(Path file, IfExists ifExists) {
    AtomicWrite.writeBytes(file, ifExists, (JsonRecords.toPrettyJson(toJson()) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /** Reads a config file (see the class comment); errors name the file and the key. */
  public static SftConfig read(Path file) {
    Objects.requireNonNull(file, "file");
    if (!Files.isRegularFile(file)) {
      throw new FactRlException(file + ": no such config file");
    }
    return parse(JsonRecords.readText(file), file.toString());
  }

  /** Parses a config's JSON text; errors start with {@code source} and name the key. */
  public static SftConfig parse(String json, String source) {
    JsonElement root = StrictJson.parse(json, source);
    if (!root.isJsonObject()) {
      throw new FactRlException(source + ": expected a JSON object of SFT settings");
    }
    JsonObject o = root.getAsJsonObject();
    for (String key : new TreeSet<>(o.keySet())) {
      if (!KEYS.contains(key)) {
        throw new FactRlException(source + ": unknown key '" + key + "' (known: " + String.join(", ", KEYS) + ")");
      }
    }
    JsonFields f = new JsonFields(o, source);
    Builder b = builder();
    try {
      if (f.has("finetune")) {
        String s = f.string("finetune");
        FineTuning ft = FineTuning.of(s);
        if (ft == null) {
          throw f.error("finetune", "must be \"full\" or \"lora\", got \"" + s + "\"");
        }
        b.finetune(ft);
      }
      if (f.has("trainable_groups")) {
        EnumSet<ParamGroup> groups = EnumSet.noneOf(ParamGroup.class);
        for (String s : strings(f, "trainable_groups")) {
          ParamGroup g = switch (s) {
            case "vision" -> ParamGroup.VISION;
            case "projector" -> ParamGroup.PROJECTOR;
            case "decoder" -> ParamGroup.DECODER;
            default -> throw f.error("trainable_groups", "has \"" + s + "\"; expected vision, projector or decoder");
          };
          groups.add(g);
        }
        b.trainableGroups(groups);
      }
      if (f.has("lora_rank")) {
        b.loraRank((int) f.integer("lora_rank", 1, 4096));
      }
      if (f.has("lora_alpha")) {
        b.loraAlpha((float) f.number("lora_alpha", Float.MIN_VALUE, 1e6));
      }
      if (f.has("lora_targets")) {
        EnumSet<LoraTarget> targets = EnumSet.noneOf(LoraTarget.class);
        for (String s : strings(f, "lora_targets")) {
          LoraTarget found = null;
          for (LoraTarget t : LoraTarget.values()) {
            if (targetName(t).equals(s)) {
              found = t;
            }
          }
          if (found == null) {
            throw f.error("lora_targets", "has \"" + s + "\"; expected q_proj, k_proj, v_proj, o_proj, gate_proj,"
                + " up_proj, down_proj or multi_modal_projector");
          }
          targets.add(found);
        }
        b.loraTargets(targets);
      }
      if (f.has("lr")) {
        b.lr(f.number("lr", 0, 1));
      }
      if (f.has("min_lr_ratio")) {
        b.minLrRatio(f.number("min_lr_ratio", 0, 1));
      }
      if (f.has("warmup_steps")) {
        b.warmupSteps(f.integer("warmup_steps", 0, Long.MAX_VALUE));
      }
      if (f.has("epochs")) {
        b.epochs(f.integer("epochs", 1, 1_000_000));
      }
      if (f.has("steps")) {
        b.steps(f.integer("steps", 0, Long.MAX_VALUE / 2));
      }
      if (f.has("batch_size")) {
        b.batchSize((int) f.integer("batch_size", 1, 1 << 20));
      }
      if (f.has("max_length")) {
        b.maxLength((int) f.integer("max_length", 2, 1 << 20));
      }
      if (f.has("weight_decay")) {
        b.weightDecay(f.number("weight_decay", 0, 1e3));
      }
      if (f.has("max_grad_norm")) {
        b.maxGradNorm(f.number("max_grad_norm", 0, 1e12));
      }
      if (f.has("seed")) {
        b.seed(f.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE));
      }
      if (f.has("checkpoint_every")) {
        b.checkpointEvery(f.integer("checkpoint_every", 0, Long.MAX_VALUE));
      }
      if (f.has("log_every")) {
        b.logEvery(f.integer("log_every", 1, Long.MAX_VALUE));
      }
      if (f.has("preset")) {
        b.preset(f.string("preset"));
      }
      if (f.has("init_std")) {
        b.initStd((float) f.number("init_std", 0, 10));
      }
      return b.build();
    } catch (FactRlException e) {
      throw e.getMessage().startsWith(source) ? e : new FactRlException(source + ": " + e.getMessage(), e);
    }
  }

  private static List<String> strings(JsonFields f, String key) {
    JsonElement v = f.raw(key);
    if (!v.isJsonArray()) {
      throw f.error(key, "must be an array of strings, got " + v);
    }
    List<String> out = new ArrayList<>();
    for (JsonElement e : v.getAsJsonArray()) {
      if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
        throw f.error(key, "must be an array of strings, has " + e);
      }
      if (out.contains(e.getAsString())) {
        throw f.error(key, "names \"" + e.getAsString() + "\" twice");
      }
      out.add(e.getAsString());
    }
    return out;
  }

  /** The keys whose values differ from {@code other}'s, as {@code key: this vs other}; empty when equal. */
  public String differences(SftConfig other) {
    JsonObject a = toJson();
    JsonObject b = other.toJson();
    List<String> out = new ArrayList<>();
    for (String k : KEYS) {
      if (!a.get(k).equals(b.get(k))) {
        out.add(k + ": " + a.get(k) + " vs " + b.get(k));
      }
    }
    return String.join(", ", out);
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
    private int loraRank = 64;
    private float loraAlpha = 16f;
    private Set<LoraTarget> loraTargets = EnumSet.range(LoraTarget.Q, LoraTarget.DOWN);
    private double lr = 5e-4;
    private double minLrRatio = 0;
    private long warmupSteps = 10;
    private long epochs = 1;
    private long steps = 0;
    private int batchSize = 8;
    private int maxLength = 320;
    private double weightDecay = 0;
    private double maxGradNorm = 1.0;
    private long seed = 0;
    private long checkpointEvery = 100;
    private long logEvery = 10;
    private String preset = "tiny";
    private float initStd = 0.02f;

    private Builder() {}

    private static FactRlException bad(String key, String problem) {
      return new FactRlException(FactRlException.Status.ARGUMENT, "key '" + key + "' " + problem);
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
      if (v < 1) {
        throw bad("lora_rank", "must be >= 1, got " + v);
      }
      loraRank = v;
      return this;
    }

    public Builder loraAlpha(float v) {
      if (!(Float.isFinite(v) && v > 0)) {
        throw bad("lora_alpha", "must be finite and > 0, got " + v);
      }
      loraAlpha = v;
      return this;
    }

    public Builder loraTargets(Set<LoraTarget> v) {
      if (v == null || v.isEmpty()) {
        throw bad("lora_targets", "must name at least one layer");
      }
      loraTargets = EnumSet.copyOf(v);
      return this;
    }

    public Builder lr(double v) {
      if (!(v > 0 && v <= 1)) {
        throw bad("lr", "must be in (0, 1], got " + v);
      }
      lr = v;
      return this;
    }

    public Builder minLrRatio(double v) {
      if (!(v >= 0 && v <= 1)) {
        throw bad("min_lr_ratio", "must be in [0, 1], got " + v);
      }
      minLrRatio = v;
      return this;
    }

    public Builder warmupSteps(long v) {
      if (v < 0) {
        throw bad("warmup_steps", "must be >= 0, got " + v);
      }
      warmupSteps = v;
      return this;
    }

    public Builder epochs(long v) {
      if (v < 1) {
        throw bad("epochs", "must be >= 1, got " + v);
      }
      epochs = v;
      return this;
    }

    public Builder steps(long v) {
      if (v < 0) {
        throw bad("steps", "must be >= 0 (0: from epochs), got " + v);
      }
      steps = v;
      return this;
    }

    public Builder batchSize(int v) {
      if (v < 1) {
        throw bad("batch_size", "must be >= 1, got " + v);
      }
      batchSize = v;
      return this;
    }

    public Builder maxLength(int v) {
      if (v < 2) {
        throw bad("max_length", "must be >= 2, got " + v);
      }
      maxLength = v;
      return this;
    }

    public Builder weightDecay(double v) {
      if (!(Double.isFinite(v) && v >= 0)) {
        throw bad("weight_decay", "must be finite and >= 0, got " + v);
      }
      weightDecay = v;
      return this;
    }

    /** 0 turns clipping off. */
    public Builder maxGradNorm(double v) {
      if (!(Double.isFinite(v) && v >= 0)) {
        throw bad("max_grad_norm", "must be finite and >= 0 (0: no clipping), got " + v);
      }
      maxGradNorm = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder checkpointEvery(long v) {
      if (v < 0) {
        throw bad("checkpoint_every", "must be >= 0 (0: only at the end), got " + v);
      }
      checkpointEvery = v;
      return this;
    }

    public Builder logEvery(long v) {
      if (v < 1) {
        throw bad("log_every", "must be >= 1, got " + v);
      }
      logEvery = v;
      return this;
    }

    public Builder preset(String v) {
      Objects.requireNonNull(v, "preset");
      try {
        ModelConfig.preset(v);
      } catch (FactRlException e) {
        throw bad("preset", "is \"" + v + "\"; expected tiny, small or llava-7b");
      }
      preset = v;
      return this;
    }

    public Builder initStd(float v) {
      if (!(Float.isFinite(v) && v >= 0)) {
        throw bad("init_std", "must be finite and >= 0, got " + v);
      }
      initStd = v;
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
      if (steps > 0 && warmupSteps > steps) {
        throw bad("warmup_steps", "is " + warmupSteps + ", more than steps " + steps);
      }
      return new SftConfig(this);
    }
  }
}

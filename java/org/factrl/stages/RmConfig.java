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
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.StrictJson;
import org.factrl.engine.FactRlException;
import org.factrl.model.LoraSpec;
import org.factrl.model.LoraTarget;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;
import org.factrl.train.JsonFields;

/**
 * The reward-model stage's settings (DESIGN.md §4.2 and "Defaults ... Reward head ... RM loss").
 * Immutable; {@link #builder()} checks every value and fails naming its JSON key; {@link #read} is
 * strict (unknown keys, wrong types and out-of-range values are errors naming the key; absent keys
 * take the defaults); {@link #toJson()} writes every key (the effective config saved with each
 * checkpoint).
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
  private static final List<String> KEYS = List.of("facts", "lr", "min_lr_ratio", "warmup_steps", "epochs", "steps",
      "pairs_per_step", "held_out_pairs", "eval_every", "lora_rank", "lora_alpha", "lora_targets", "centring",
      "head_init_std", "max_length", "weight_decay", "max_grad_norm", "seed", "checkpoint_every", "log_every",
      "preferences");

  private final boolean facts;
  private final double lr;
  private final double minLrRatio;
  private final long warmupSteps;
  private final long epochs;
  private final long steps;
  private final int pairsPerStep;
  private final int heldOutPairs;
  private final long evalEvery;
  private final int loraRank;
  private final float loraAlpha;
  private final Set<LoraTarget> loraTargets;
  private final double centring;
  private final float headInitStd;
  private final int maxLength;
  private final double weightDecay;
  private final double maxGradNorm;
  private final long seed;
  private final long checkpointEvery;
  private final long logEvery;
  private final String preferences;

  private RmConfig(Builder b) {
    facts = b.facts;
    lr = b.lr;
    minLrRatio = b.minLrRatio;
    warmupSteps = b.warmupSteps;
    epochs = b.epochs;
    steps = b.steps;
    pairsPerStep = b.pairsPerStep;
    heldOutPairs = b.heldOutPairs;
    evalEvery = b.evalEvery;
    loraRank = b.loraRank;
    loraAlpha = b.loraAlpha;
    loraTargets = Collections.unmodifiableSet(EnumSet.copyOf(b.loraTargets));
    centring = b.centring;
    headInitStd = b.headInitStd;
    maxLength = b.maxLength;
    weightDecay = b.weightDecay;
    maxGradNorm = b.maxGradNorm;
    seed = b.seed;
    checkpointEvery = b.checkpointEvery;
    logEvery = b.logEvery;
    preferences = b.preferences;
  }

  public static RmConfig defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return builder().facts(facts).lr(lr).minLrRatio(minLrRatio).warmupSteps(warmupSteps).epochs(epochs).steps(steps)
        .pairsPerStep(pairsPerStep).heldOutPairs(heldOutPairs).evalEvery(evalEvery).loraRank(loraRank)
        .loraAlpha(loraAlpha).loraTargets(loraTargets).centring(centring).headInitStd(headInitStd).maxLength(maxLength)
        .weightDecay(weightDecay).maxGradNorm(maxGradNorm).seed(seed).checkpointEvery(checkpointEvery)
        .logEvery(logEvery).preferences(preferences);
  }

  // ---- accessors ----------------------------------------------------------------------------

  /** Whether the RM input carries the image's facts ({@link org.factrl.reward.FactTemplate}). */
  public boolean facts() {
    return facts;
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

  /** Optimizer steps; 0 means {@code ceil(epochs · training pairs / pairs_per_step)}. */
  public long steps() {
    return steps;
  }

  /** The steps of a run over {@code pairs} training pairs. */
  public long totalSteps(int pairs) {
    return steps > 0 ? steps : Math.max(1, (epochs * pairs + pairsPerStep - 1) / pairsPerStep);
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
    return weightDecay;
  }

  public double maxGradNorm() {
    return maxGradNorm;
  }

  public long seed() {
    return seed;
  }

  public long checkpointEvery() {
    return checkpointEvery;
  }

  public long logEvery() {
    return logEvery;
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

  /** Every key, in the documented order. */
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("facts", facts);
    o.addProperty("lr", lr);
    o.addProperty("min_lr_ratio", minLrRatio);
    o.addProperty("warmup_steps", warmupSteps);
    o.addProperty("epochs", epochs);
    o.addProperty("steps", steps);
    o.addProperty("pairs_per_step", pairsPerStep);
    o.addProperty("held_out_pairs", heldOutPairs);
    o.addProperty("eval_every", evalEvery);
    o.addProperty("lora_rank", loraRank);
    o.addProperty("lora_alpha", loraAlpha);
    JsonArray targets = new JsonArray();
    loraTargets.forEach(t -> targets.add(t.peftName()));
    o.add("lora_targets", targets);
    o.addProperty("centring", centring);
    o.addProperty("head_init_std", headInitStd);
    o.addProperty("max_length", maxLength);
    o.addProperty("weight_decay", weightDecay);
    o.addProperty("max_grad_norm", maxGradNorm);
    o.addProperty("seed", seed);
    o.addProperty("checkpoint_every", checkpointEvery);
    o.addProperty("log_every", logEvery);
    o.addProperty("preferences", preferences);
    return o;
  }

  public void write(Path file, IfExists ifExists) {
    AtomicWrite.writeBytes(file, ifExists, (JsonRecords.toPrettyJson(toJson()) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  public static RmConfig read(Path file) {
    Objects.requireNonNull(file, "file");
    if (!Files.isRegularFile(file)) {
      throw new FactRlException(file + ": no such config file");
    }
    return parse(JsonRecords.readText(file), file.toString());
  }

  /** Parses a config's JSON text; errors start with {@code source} and name the key. */
  public static RmConfig parse(String json, String source) {
    JsonElement root = StrictJson.parse(json, source);
    if (!root.isJsonObject()) {
      throw new FactRlException(source + ": expected a JSON object of reward-model settings");
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
      if (f.has("facts")) {
        b.facts(f.bool("facts"));
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
      if (f.has("pairs_per_step")) {
        b.pairsPerStep((int) f.integer("pairs_per_step", 1, 1 << 16));
      }
      if (f.has("held_out_pairs")) {
        b.heldOutPairs((int) f.integer("held_out_pairs", 1, 1 << 24));
      }
      if (f.has("eval_every")) {
        b.evalEvery(f.integer("eval_every", 0, Long.MAX_VALUE));
      }
      if (f.has("lora_rank")) {
        b.loraRank((int) f.integer("lora_rank", 1, 4096));
      }
      if (f.has("lora_alpha")) {
        b.loraAlpha((float) f.number("lora_alpha", 0, 1e6));
      }
      if (f.has("lora_targets")) {
        JsonElement v = f.raw("lora_targets");
        if (!v.isJsonArray()) {
          throw f.error("lora_targets", "must be an array of strings, got " + v);
        }
        EnumSet<LoraTarget> targets = EnumSet.noneOf(LoraTarget.class);
        for (JsonElement e : v.getAsJsonArray()) {
          LoraTarget t = null;
          for (LoraTarget c : LoraTarget.values()) {
            if (c.isDecoder() && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()
                && c.peftName().equals(e.getAsString())) {
              t = c;
            }
          }
          if (t == null) {
            throw f.error("lora_targets", "has " + e + "; expected q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj"
                + " or down_proj (the vision encoder and projector stay frozen)");
          }
          if (!targets.add(t)) {
            throw f.error("lora_targets", "names " + e + " twice");
          }
        }
        b.loraTargets(targets);
      }
      if (f.has("centring")) {
        b.centring(f.number("centring", 0, 1e3));
      }
      if (f.has("head_init_std")) {
        b.headInitStd((float) f.number("head_init_std", 0, 10));
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
      if (f.has("preferences")) {
        b.preferences(f.string("preferences"));
      }
      return b.build();
    } catch (FactRlException e) {
      throw e.getMessage().startsWith(source) ? e : new FactRlException(source + ": " + e.getMessage(), e);
    }
  }

  /** The keys whose values differ from {@code other}'s, as {@code key: this vs other}; empty when equal. */
  public String differences(RmConfig other) {
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
    private double lr = 1e-3;
    private double minLrRatio = 0;
    private long warmupSteps = 5;
    private long epochs = 1;
    private long steps = 0;
    private int pairsPerStep = 8;
    private int heldOutPairs = 64;
    private long evalEvery = 50;
    private int loraRank = 16;
    private float loraAlpha = 16;
    private Set<LoraTarget> loraTargets = EnumSet.of(LoraTarget.Q, LoraTarget.K, LoraTarget.V, LoraTarget.O,
        LoraTarget.GATE, LoraTarget.UP, LoraTarget.DOWN);
    private double centring = 0.001;
    private float headInitStd = 0.02f;
    private int maxLength = 512;
    private double weightDecay = 0;
    private double maxGradNorm = 1.0;
    private long seed = 0;
    private long checkpointEvery = 100;
    private long logEvery = 10;
    private String preferences = "preferences.json";

    private Builder() {}

    private static FactRlException bad(String key, String problem) {
      return new FactRlException(FactRlException.Status.ARGUMENT, "key '" + key + "' " + problem);
    }

    public Builder facts(boolean v) {
      facts = v;
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

    public Builder pairsPerStep(int v) {
      if (v < 1) {
        throw bad("pairs_per_step", "must be >= 1, got " + v);
      }
      pairsPerStep = v;
      return this;
    }

    public Builder heldOutPairs(int v) {
      if (v < 1) {
        throw bad("held_out_pairs", "must be >= 1 (accuracy needs held-out pairs), got " + v);
      }
      heldOutPairs = v;
      return this;
    }

    public Builder evalEvery(long v) {
      if (v < 0) {
        throw bad("eval_every", "must be >= 0 (0: at the end only), got " + v);
      }
      evalEvery = v;
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
      if (v.contains(LoraTarget.PROJECTOR)) {
        throw bad("lora_targets", "must not name the projector (frozen during RM training, DESIGN.md §4)");
      }
      loraTargets = EnumSet.copyOf(v);
      return this;
    }

    public Builder centring(double v) {
      if (!(Double.isFinite(v) && v >= 0)) {
        throw bad("centring", "must be finite and >= 0, got " + v);
      }
      centring = v;
      return this;
    }

    public Builder headInitStd(float v) {
      if (!(Float.isFinite(v) && v >= 0)) {
        throw bad("head_init_std", "must be finite and >= 0, got " + v);
      }
      headInitStd = v;
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

    /** The pairs file: relative to the data set folder (default {@code preferences.json}), or absolute. */
    public Builder preferences(String v) {
      if (v == null || v.isBlank()) {
        throw bad("preferences", "must name a file (relative to the data set folder, or absolute)");
      }
      try {
        Path.of(v);
      } catch (java.nio.file.InvalidPathException e) {
        throw bad("preferences", "is not a valid path: " + e.getMessage());
      }
      preferences = v;
      return this;
    }

    public RmConfig build() {
      return new RmConfig(this);
    }
  }
}

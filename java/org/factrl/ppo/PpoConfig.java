package org.factrl.ppo;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.factrl.engine.FactRlException;
import org.factrl.model.LoraSpec;
import org.factrl.model.LoraTarget;
import org.factrl.model.io.IfExists;
import org.factrl.ppo.PpoMath.KlEstimator;
import org.factrl.train.ConfigReader;
import org.factrl.train.LoraTargetNames;
import org.factrl.train.RecipeDefaults;
import org.factrl.train.TrainingSettings;

/**
 * The PPO stage's settings (DESIGN.md §4 item 3 and its Defaults). Immutable: {@link #with} returns a
 * checked copy. On disk a JSON object: the keys below plus the shared {@link TrainingSettings} ones
 * (lr, min_lr_ratio, warmup_steps, steps ≥ 1, weight_decay, max_grad_norm, seed, checkpoint_every,
 * log_every); {@link #parse} is strict ({@link ConfigReader}: unknown keys, wrong types, values out
 * of range are errors naming the file and key); absent keys take the defaults
 * ({@link org.factrl.train.RecipeDefaults}); {@link #toJson} writes every key (the effective config,
 * saved at the run's root and in each checkpoint). {@code lora_targets} takes q or q_proj alike and
 * is written q_proj ({@link LoraTargetNames}).
 *
 * <p>Defaults: LLaVA-RLHF's recipe, the sizes scaled to the {@code tiny} preset on 2 CPU cores.
 * <table>
 * <caption>keys</caption>
 * <tr><th>key</th><th>default</th><th>recipe (7B)</th></tr>
 * <tr><td>beta / kl_mode / kl_estimator / kl_clamp</td><td>0.1 / fixed / k1 / true</td><td>same: r −= β·max(kl, 0)</td></tr>
 * <tr><td>kl_target / kl_horizon</td><td>6 / 10000</td><td>adaptive controller (option)</td></tr>
 * <tr><td>gamma / lambda</td><td>1 / 1</td><td>same</td></tr>
 * <tr><td>clip_range / value_clip_range / vf_coef</td><td>0.2 / 0.2 / 0.1</td><td>same</td></tr>
 * <tr><td>lora_rank / lora_alpha / lora_targets</td><td>16 / 4 / q..down</td><td>64 / 16 (scale 0.25 kept)</td></tr>
 * <tr><td>yes_no_reward / multiple_choice_reward / length_penalty / no_eos_penalty</td><td>1 / 2 / 10 / 8</td><td>same</td></tr>
 * <tr><td>reward_scale / whiten_rewards / reward_clip</td><td>10 / false / 0 (off)</td><td>RM score ×10 when not whitened</td></tr>
 * <tr><td>temperature / top_p</td><td>1 / 1</td><td>same</td></tr>
 * <tr><td>max_prompt_tokens / max_response_tokens</td><td>128 / 48</td><td>128 / 896</td></tr>
 * <tr><td>rollouts_per_step / minibatch / epochs</td><td>16 / 8 / 2</td><td>512 / 256 / 2</td></tr>
 * <tr><td>lr / warmup_steps / steps / max_grad_norm</td><td>1e-4 / 5 / 50 / 1.0</td><td>3e-5 cosine, 5 warm-up, clip 1.0</td></tr>
 * <tr><td>min_lr_ratio / weight_decay</td><td>0 / 0</td><td>same (cosine to 0, no weight decay)</td></tr>
 * <tr><td>symbolic_rewards / facts</td><td>true / true</td><td>Fact-RLHF ({@link #variant} "rlhf": both false)</td></tr>
 * <tr><td>kl_warning</td><td>5</td><td>mean summed KL per response (nats) above which a blow-up is reported</td></tr>
 * <tr><td>kl_growth_factor / kl_growth_window / kl_growth_floor</td><td>4 / 10 / 0.25</td><td>a blow-up is also
 * reported when KL grew this many times over this many steps, from at least the floor ({@link KlMonitor}); factor 0: off</td></tr>
 * <tr><td>seed / checkpoint_every / log_every</td><td>0 / 10 / 1</td><td></td></tr>
 * </table>
 */
public final class PpoConfig {
  public static final String FILE_NAME = "ppo_config.json";

  private enum Kind { INT, NUM, BOOL, CHOICE, TARGETS }

  private record Key(String name, Kind kind, double min, double max, Object def, List<String> choices) {}

  /** The stage's own keys; the shared ones are {@link TrainingSettings#KEYS}. */
  private static final Map<String, Key> KEYS = new LinkedHashMap<>();

  private static void num(String name, double def, double min, double max) {
    KEYS.put(name, new Key(name, Kind.NUM, min, max, def, List.of()));
  }

  private static void integer(String name, long def, long min, long max) {
    KEYS.put(name, new Key(name, Kind.INT, min, max, def, List.of()));
  }

  private static void bool(String name, boolean def) {
    KEYS.put(name, new Key(name, Kind.BOOL, 0, 0, def, List.of()));
  }

  private static void choice(String name, String def, String... choices) {
    KEYS.put(name, new Key(name, Kind.CHOICE, 0, 0, def, List.of(choices)));
  }

  static {
    num("beta", RecipeDefaults.BETA, 0, 100);
    choice("kl_mode", "fixed", "fixed", "adaptive");
    choice("kl_estimator", "k1", "k1", "k2", "k3");
    bool("kl_clamp", true);
    num("kl_target", 6.0, 1e-6, 1e6);
    integer("kl_horizon", 10000, 1, Long.MAX_VALUE);
    num("gamma", RecipeDefaults.GAMMA, 0, 1);
    num("lambda", RecipeDefaults.LAMBDA, 0, 1);
    num("clip_range", RecipeDefaults.CLIP_RANGE, 1e-6, 10);
    num("value_clip_range", RecipeDefaults.VALUE_CLIP_RANGE, 1e-6, 1e6);
    num("vf_coef", RecipeDefaults.VF_COEF, 0, 1e3);
    integer("lora_rank", RecipeDefaults.PPO_LORA_RANK, 1, 4096);
    num("lora_alpha", RecipeDefaults.PPO_LORA_ALPHA, 1e-6, 1e6);
    KEYS.put("lora_targets", new Key("lora_targets", Kind.TARGETS, 0, 0,
        names(EnumSet.copyOf(RecipeDefaults.LORA_TARGETS)), List.of()));
    num("yes_no_reward", RecipeDefaults.YES_NO_REWARD, 0, 1e3);
    num("multiple_choice_reward", RecipeDefaults.MULTIPLE_CHOICE_REWARD, 0, 1e3);
    num("length_penalty", RecipeDefaults.LENGTH_PENALTY, 0, 1e3);
    num("no_eos_penalty", RecipeDefaults.NO_EOS_PENALTY, 0, 1e3);
    num("reward_scale", RecipeDefaults.REWARD_SCALE, 1e-6, 1e6);
    bool("whiten_rewards", false);
    num("reward_clip", 0.0, 0, 1e6);
    num("temperature", RecipeDefaults.TEMPERATURE, 1e-3, 100);
    num("top_p", RecipeDefaults.TOP_P, 1e-6, 1);
    integer("max_prompt_tokens", RecipeDefaults.MAX_PROMPT_TOKENS, 1, 1 << 20);
    integer("max_response_tokens", RecipeDefaults.MAX_RESPONSE_TOKENS, 1, 1 << 20);
    integer("rollouts_per_step", RecipeDefaults.ROLLOUTS_PER_STEP, 1, 1 << 20);
    integer("minibatch", RecipeDefaults.MINIBATCH, 1, 1 << 20);
    integer("epochs", RecipeDefaults.PPO_EPOCHS, 1, 1000);
    bool("symbolic_rewards", true);
    bool("facts", true);
    num("kl_warning", 5.0, 0, 1e6);
    num("kl_growth_factor", 4.0, 0, 1e6);
    integer("kl_growth_window", 10, 1, 1_000_000);
    num("kl_growth_floor", 0.25, 1e-9, 1e6);
  }

  private static final List<String> ALL_KEYS;

  /** The stage's training defaults (the rest are {@link TrainingSettings}'). */
  public static final TrainingSettings DEFAULT_TRAINING = TrainingSettings.builder().lr(RecipeDefaults.PPO_LR)
      .warmupSteps(RecipeDefaults.PPO_WARMUP_STEPS).steps(RecipeDefaults.PPO_STEPS).checkpointEvery(10).logEvery(1)
      .build();

  private static final PpoConfig DEFAULTS;

  static {
    List<String> all = new ArrayList<>(KEYS.keySet());
    all.addAll(TrainingSettings.KEYS);
    ALL_KEYS = List.copyOf(all);
    Map<String, Object> m = new LinkedHashMap<>();
    for (Key k : KEYS.values()) {
      m.put(k.name(), k.def());
    }
    DEFAULTS = new PpoConfig(m, DEFAULT_TRAINING);
  }

  private final Map<String, Object> values;
  private final TrainingSettings training;

  private PpoConfig(Map<String, Object> values, TrainingSettings training) {
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    this.training = training;
    if (minibatch() > rolloutsPerStep()) {
      throw ConfigReader.bad("minibatch", minibatch() + " is more than rollouts_per_step " + rolloutsPerStep());
    }
    if (training.steps() < 1) {
      throw ConfigReader.bad("steps", "must be >= 1 (PPO has no epochs over a data set to count from)");
    }
  }

  /** The defaults (Fact-RLHF). */
  public static PpoConfig defaults() {
    return DEFAULTS;
  }

  /** The JSON key names, in the order {@link #toJson} writes them (the shared training keys last). */
  public static List<String> keys() {
    return ALL_KEYS;
  }

  /**
   * A copy with {@code key} set to {@code value} (Number, Boolean, String, or a List of target
   * names in either spelling); any key of {@link #keys()}, checked as a config file's would be.
   */
  public PpoConfig with(String key, Object value) {
    if (TrainingSettings.KEYS.contains(key)) {
      if (!(value instanceof Number n)) {
        throw ConfigReader.bad(key, "must be a number, got " + value);
      }
      JsonObject o = new JsonObject();
      o.addProperty(key, n);
      ConfigReader r = ConfigReader.parse(o.toString(), "PpoConfig.with", "PPO", List.of(key));
      return new PpoConfig(values, TrainingSettings.read(r, training));
    }
    Key k = KEYS.get(key);
    if (k == null) {
      throw new FactRlException("unknown key '" + key + "' (known: " + String.join(", ", ALL_KEYS) + ")");
    }
    Map<String, Object> m = new LinkedHashMap<>(values);
    m.put(key, check(k, value));
    return new PpoConfig(m, training);
  }

  /** A copy with every shared training setting replaced. */
  public PpoConfig withTraining(TrainingSettings t) {
    return new PpoConfig(values, Objects.requireNonNull(t, "training"));
  }

  /** The settings of a named variant over these: "rlhf" (no facts, no symbolic rewards) or "fact-rlhf". */
  public PpoConfig variant(String name) {
    return switch (Objects.requireNonNull(name, "name")) {
      case "rlhf" -> with("facts", false).with("symbolic_rewards", false);
      case "fact-rlhf" -> with("facts", true).with("symbolic_rewards", true);
      default -> throw new FactRlException("argument 'variant': must be rlhf or fact-rlhf, got '" + name + "'");
    };
  }

  private static Object check(Key k, Object v) {
    String key = k.name();
    switch (k.kind()) {
      case NUM, INT -> {
        if (!(v instanceof Number n)) {
          throw ConfigReader.bad(key, "must be a number, got " + v);
        }
        double d = n.doubleValue();
        if (k.kind() == Kind.INT && (d != Math.rint(d) || !Double.isFinite(d))) {
          throw ConfigReader.bad(key, "must be an integer, got " + v);
        }
        ConfigReader.checkRange(key, d, k.min(), k.max());
        return k.kind() == Kind.INT ? (Object) n.longValue() : (Object) d;
      }
      case BOOL -> {
        if (!(v instanceof Boolean)) {
          throw ConfigReader.bad(key, "must be true or false, got " + v);
        }
        return v;
      }
      case CHOICE -> {
        if (!(v instanceof String s) || !k.choices().contains(s)) {
          throw ConfigReader.bad(key, v + " is not one of " + String.join(", ", k.choices()));
        }
        return v;
      }
      case TARGETS -> {
        if (!(v instanceof List<?> list) || list.isEmpty()) {
          throw ConfigReader.bad(key, "must be a non-empty list of LoRA targets (q_proj ... down_proj,"
              + " multi_modal_projector; or q ... down, projector)");
        }
        Set<LoraTarget> seen = EnumSet.noneOf(LoraTarget.class);
        for (Object o : list) {
          LoraTarget t = o instanceof String s ? LoraTargetNames.parse(s) : null;
          if (t == null || !seen.add(t)) {
            throw ConfigReader.bad(key, "'" + o + "' is not a LoRA target (q_proj, k_proj, v_proj, o_proj, gate_proj,"
                + " up_proj, down_proj, multi_modal_projector; or q, k, v, o, gate, up, down, projector) or is repeated");
          }
        }
        return names(seen);
      }
      default -> throw new AssertionError(k);
    }
  }

  /** The targets' written names, in enum order. */
  private static List<String> names(Set<LoraTarget> targets) {
    return EnumSet.copyOf(targets).stream().map(LoraTargetNames::name).toList();
  }

  /** Reads a config file (see {@link #parse}). */
  public static PpoConfig read(Path file) {
    return from(ConfigReader.open(file, "PPO", ALL_KEYS));
  }

  /** Parses a config's JSON text; errors start with {@code source} and name the key. */
  public static PpoConfig parse(String json, String source) {
    return from(ConfigReader.parse(json, source, "PPO", ALL_KEYS));
  }

  private static PpoConfig from(ConfigReader r) {
    return r.build(() -> {
      Map<String, Object> m = new LinkedHashMap<>(DEFAULTS.values);
      for (Key k : KEYS.values()) {
        if (r.has(k.name())) {
          m.put(k.name(), r.build(() -> check(k, fromJson(r.raw(k.name())))));
        }
      }
      return new PpoConfig(m, TrainingSettings.read(r, DEFAULT_TRAINING));
    });
  }

  private static Object fromJson(JsonElement e) {
    if (e.isJsonArray()) {
      List<Object> out = new ArrayList<>();
      for (JsonElement x : e.getAsJsonArray()) {
        out.add(fromJson(x));
      }
      return out;
    }
    if (e.isJsonPrimitive()) {
      JsonPrimitive p = e.getAsJsonPrimitive();
      return p.isBoolean() ? (Object) p.getAsBoolean() : p.isNumber() ? (Object) p.getAsBigDecimal() : p.getAsString();
    }
    return e.toString();
  }

  /** Every key with its value: the stage's own, then the shared training keys. */
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    for (Map.Entry<String, Object> e : values.entrySet()) {
      Object v = e.getValue();
      if (v instanceof List<?> list) {
        JsonArray a = new JsonArray();
        list.forEach(x -> a.add((String) x));
        o.add(e.getKey(), a);
      } else if (v instanceof Number n) {
        o.addProperty(e.getKey(), n);
      } else if (v instanceof Boolean b) {
        o.addProperty(e.getKey(), b);
      } else {
        o.addProperty(e.getKey(), (String) v);
      }
    }
    training.writeTo(o);
    return o;
  }

  /** Writes {@link #toJson} to {@code file} (atomic). */
  public void write(Path file, IfExists ifExists) {
    ConfigReader.write(toJson(), file, ifExists);
  }

  /** The keys whose values differ from {@code other}'s, as {@code key: this vs other}; empty when equal. */
  public String differences(PpoConfig other) {
    return ConfigReader.differences(toJson(), other.toJson());
  }

  private double d(String k) {
    return ((Number) values.get(k)).doubleValue();
  }

  private long l(String k) {
    return ((Number) values.get(k)).longValue();
  }

  private boolean b(String k) {
    return (Boolean) values.get(k);
  }

  /** The shared optimisation settings (lr, schedule, clip, seed, cadence). */
  public TrainingSettings training() {
    return training;
  }

  public double beta() { return d("beta"); }
  public boolean adaptiveKl() { return values.get("kl_mode").equals("adaptive"); }
  public KlEstimator klEstimator() { return KlEstimator.of((String) values.get("kl_estimator")); }
  public boolean klClamp() { return b("kl_clamp"); }
  public double klTarget() { return d("kl_target"); }
  public long klHorizon() { return l("kl_horizon"); }
  public float gamma() { return (float) d("gamma"); }
  public float lambda() { return (float) d("lambda"); }
  public double clipRange() { return d("clip_range"); }
  public double valueClipRange() { return d("value_clip_range"); }
  public double vfCoef() { return d("vf_coef"); }
  public PpoMath.SymbolicWeights symbolicWeights() {
    return new PpoMath.SymbolicWeights(d("yes_no_reward"), d("multiple_choice_reward"), d("length_penalty"),
        d("no_eos_penalty"));
  }
  /** The factor on the RM score: {@code reward_scale} when rewards are not whitened, else 1. */
  public double rewardScale() { return whitenRewards() ? 1.0 : d("reward_scale"); }
  public boolean whitenRewards() { return b("whiten_rewards"); }
  public double rewardClip() { return d("reward_clip"); }
  public float temperature() { return (float) d("temperature"); }
  public float topP() { return (float) d("top_p"); }
  public int maxPromptTokens() { return (int) l("max_prompt_tokens"); }
  public int maxResponseTokens() { return (int) l("max_response_tokens"); }
  public int rolloutsPerStep() { return (int) l("rollouts_per_step"); }
  public int minibatch() { return (int) l("minibatch"); }
  public int epochs() { return (int) l("epochs"); }
  public double lr() { return training.lr(); }
  public double minLrRatio() { return training.minLrRatio(); }
  public double weightDecay() { return training.weightDecay(); }
  public long warmupSteps() { return training.warmupSteps(); }
  public long steps() { return training.steps(); }
  public double maxGradNorm() { return training.maxGradNorm(); }
  public boolean symbolicRewards() { return b("symbolic_rewards"); }
  public boolean facts() { return b("facts"); }
  public double klWarning() { return d("kl_warning"); }
  public double klGrowthFactor() { return d("kl_growth_factor"); }
  public int klGrowthWindow() { return (int) l("kl_growth_window"); }
  public double klGrowthFloor() { return d("kl_growth_floor"); }
  public long seed() { return training.seed(); }
  public long checkpointEvery() { return training.checkpointEvery(); }
  public long logEvery() { return training.logEvery(); }

  /** The policy's (and the value model's) LoRA. */
  public LoraSpec loraSpec() {
    Set<LoraTarget> t = EnumSet.noneOf(LoraTarget.class);
    for (Object s : (List<?>) values.get("lora_targets")) {
      t.add(LoraTargetNames.parse((String) s));
    }
    return new LoraSpec((int) l("lora_rank"), (float) d("lora_alpha"), t);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PpoConfig c && toJson().equals(c.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return "PpoConfig" + toJson();
  }
}

package org.factrl.ppo;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
import org.factrl.ppo.PpoMath.KlEstimator;

/**
 * The PPO stage's settings (DESIGN.md §4 item 3 and its Defaults). Immutable: {@link #with} returns a
 * checked copy. On disk a JSON object; {@link #parse} is strict (unknown keys, wrong types, values out
 * of range: errors naming the key); absent keys take the defaults; {@link #toJson} writes every key
 * (the effective config saved with each checkpoint).
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
    num("beta", 0.1, 0, 100);
    choice("kl_mode", "fixed", "fixed", "adaptive");
    choice("kl_estimator", "k1", "k1", "k2", "k3");
    bool("kl_clamp", true);
    num("kl_target", 6.0, 1e-6, 1e6);
    integer("kl_horizon", 10000, 1, Long.MAX_VALUE);
    num("gamma", 1.0, 0, 1);
    num("lambda", 1.0, 0, 1);
    num("clip_range", 0.2, 1e-6, 10);
    num("value_clip_range", 0.2, 1e-6, 1e6);
    num("vf_coef", 0.1, 0, 1e3);
    integer("lora_rank", 16, 1, 4096);
    num("lora_alpha", 4.0, 1e-6, 1e6);
    KEYS.put("lora_targets", new Key("lora_targets", Kind.TARGETS, 0, 0,
        List.of("q", "k", "v", "o", "gate", "up", "down"), List.of()));
    num("yes_no_reward", 1.0, 0, 1e3);
    num("multiple_choice_reward", 2.0, 0, 1e3);
    num("length_penalty", 10.0, 0, 1e3);
    num("no_eos_penalty", 8.0, 0, 1e3);
    num("reward_scale", 10.0, 1e-6, 1e6);
    bool("whiten_rewards", false);
    num("reward_clip", 0.0, 0, 1e6);
    num("temperature", 1.0, 1e-3, 100);
    num("top_p", 1.0, 1e-6, 1);
    integer("max_prompt_tokens", 128, 1, 1 << 20);
    integer("max_response_tokens", 48, 1, 1 << 20);
    integer("rollouts_per_step", 16, 1, 1 << 20);
    integer("minibatch", 8, 1, 1 << 20);
    integer("epochs", 2, 1, 1000);
    num("lr", 1e-4, 0, 1);
    integer("warmup_steps", 5, 0, Long.MAX_VALUE);
    integer("steps", 50, 1, Long.MAX_VALUE);
    num("max_grad_norm", 1.0, 0, 1e6);
    bool("symbolic_rewards", true);
    bool("facts", true);
    num("kl_warning", 5.0, 0, 1e6);
    num("kl_growth_factor", 4.0, 0, 1e6);
    integer("kl_growth_window", 10, 1, 1_000_000);
    num("kl_growth_floor", 0.25, 1e-9, 1e6);
    integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE);
    integer("checkpoint_every", 10, 0, Long.MAX_VALUE);
    integer("log_every", 1, 1, Long.MAX_VALUE);
  }

  private static final PpoConfig DEFAULTS;

  static {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Key k : KEYS.values()) {
      m.put(k.name(), k.def());
    }
    DEFAULTS = new PpoConfig(m);
  }

  private final Map<String, Object> values;

  private PpoConfig(Map<String, Object> values) {
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    if (minibatch() > rolloutsPerStep()) {
      throw new FactRlException("key 'minibatch' is " + minibatch() + ", more than 'rollouts_per_step' "
          + rolloutsPerStep());
    }
    if (warmupSteps() > steps()) {
      throw new FactRlException("key 'warmup_steps' is " + warmupSteps() + ", more than 'steps' " + steps());
    }
  }

  /** The defaults (Fact-RLHF). */
  public static PpoConfig defaults() {
    return DEFAULTS;
  }

  /** The JSON key names, in order. */
  public static List<String> keys() {
    return List.copyOf(KEYS.keySet());
  }

  /** A copy with {@code key} set to {@code value} (Number, Boolean, String, or a List of target names). */
  public PpoConfig with(String key, Object value) {
    Key k = KEYS.get(key);
    if (k == null) {
      throw new FactRlException("unknown key '" + key + "' (known: " + String.join(", ", KEYS.keySet()) + ")");
    }
    Map<String, Object> m = new LinkedHashMap<>(values);
    m.put(key, check(k, value, "key"));
    return new PpoConfig(m);
  }

  /** The settings of a named variant over these: "rlhf" (no facts, no symbolic rewards) or "fact-rlhf". */
  public PpoConfig variant(String name) {
    return switch (Objects.requireNonNull(name, "name")) {
      case "rlhf" -> with("facts", false).with("symbolic_rewards", false);
      case "fact-rlhf" -> with("facts", true).with("symbolic_rewards", true);
      default -> throw new FactRlException("argument 'variant': must be rlhf or fact-rlhf, got '" + name + "'");
    };
  }

  private static Object check(Key k, Object v, String what) {
    String name = what + " '" + k.name() + "'";
    switch (k.kind()) {
      case NUM, INT -> {
        if (!(v instanceof Number n)) {
          throw new FactRlException(name + ": must be a number, got " + v);
        }
        double d = n.doubleValue();
        if (k.kind() == Kind.INT && (d != Math.rint(d) || !Double.isFinite(d))) {
          throw new FactRlException(name + ": must be an integer, got " + v);
        }
        if (!Double.isFinite(d) || d < k.min() || d > k.max()) {
          throw new FactRlException(name + ": must be in [" + fmt(k.min()) + ", " + fmt(k.max()) + "], got " + v);
        }
        return k.kind() == Kind.INT ? (Object) n.longValue() : (Object) d;
      }
      case BOOL -> {
        if (!(v instanceof Boolean)) {
          throw new FactRlException(name + ": must be true or false, got " + v);
        }
        return v;
      }
      case CHOICE -> {
        if (!(v instanceof String s) || !k.choices().contains(s)) {
          throw new FactRlException(name + ": must be one of " + k.choices() + ", got " + v);
        }
        return v;
      }
      case TARGETS -> {
        if (!(v instanceof List<?> list) || list.isEmpty()) {
          throw new FactRlException(name + ": must be a non-empty list of q, k, v, o, gate, up, down, projector");
        }
        Set<String> seen = new TreeSet<>();
        for (Object o : list) {
          if (!(o instanceof String s) || target(s) == null || !seen.add(s)) {
            throw new FactRlException(name + ": '" + o + "' is not a LoRA target (q, k, v, o, gate, up, down, "
                + "projector) or is repeated");
          }
        }
        return List.copyOf(list);
      }
      default -> throw new AssertionError(k);
    }
  }

  private static String fmt(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }

  private static LoraTarget target(String s) {
    for (LoraTarget t : LoraTarget.values()) {
      if (t.name().toLowerCase(Locale.ROOT).equals(s)) {
        return t;
      }
    }
    return null;
  }

  /** Reads a config file (see {@link #parse}). */
  public static PpoConfig read(Path file) {
    Objects.requireNonNull(file, "file");
    if (!Files.isRegularFile(file)) {
      throw new FactRlException(file + ": no such config file");
    }
    return parse(JsonRecords.readText(file), file.toString());
  }

  /** Parses a config's JSON text; errors start with {@code source} and name the key. */
  public static PpoConfig parse(String json, String source) {
    JsonElement root = StrictJson.parse(json, source);
    if (!root.isJsonObject()) {
      throw new FactRlException(source + ": expected a JSON object of PPO settings");
    }
    JsonObject o = root.getAsJsonObject();
    Map<String, Object> m = new LinkedHashMap<>(DEFAULTS.values);
    for (String key : new TreeSet<>(o.keySet())) {
      Key k = KEYS.get(key);
      if (k == null) {
        throw new FactRlException(source + ": unknown key '" + key + "' (known: " + String.join(", ", KEYS.keySet())
            + ")");
      }
      m.put(key, check(k, fromJson(o.get(key)), source + ": key"));
    }
    try {
      return new PpoConfig(m);
    } catch (FactRlException e) {
      throw new FactRlException(source + ": " + e.getMessage(), e);
    }
  }

  private static Object fromJson(JsonElement e) {
    if (e.isJsonArray()) {
      List<Object> out = new java.util.ArrayList<>();
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

  /** Every key with its value. */
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
    return o;
  }

  /** Writes {@link #toJson} to {@code file} (atomic). */
  public void write(Path file, IfExists ifExists) {
    AtomicWrite.writeBytes(file, ifExists, (JsonRecords.toPrettyJson(toJson()) + "\n").getBytes(StandardCharsets.UTF_8));
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
  public double lr() { return d("lr"); }
  public long warmupSteps() { return l("warmup_steps"); }
  public long steps() { return l("steps"); }
  public double maxGradNorm() { return d("max_grad_norm"); }
  public boolean symbolicRewards() { return b("symbolic_rewards"); }
  public boolean facts() { return b("facts"); }
  public double klWarning() { return d("kl_warning"); }
  public double klGrowthFactor() { return d("kl_growth_factor"); }
  public int klGrowthWindow() { return (int) l("kl_growth_window"); }
  public double klGrowthFloor() { return d("kl_growth_floor"); }
  public long seed() { return l("seed"); }
  public long checkpointEvery() { return l("checkpoint_every"); }
  public long logEvery() { return l("log_every"); }

  /** The policy's (and the value model's) LoRA. */
  public LoraSpec loraSpec() {
    Set<LoraTarget> t = EnumSet.noneOf(LoraTarget.class);
    for (Object s : (List<?>) values.get("lora_targets")) {
      t.add(target((String) s));
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

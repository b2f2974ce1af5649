package org.factrl.reward;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.StrictJson;
import org.factrl.engine.FactRlException;
import org.factrl.train.JsonFields;

/**
 * Settings of {@link PreferenceSampler} (DESIGN.md §4.2, issue 12: "two responses sampled from the
 * SFT model per prompt, labelled by the exact judge"). Immutable; the builder checks each value and
 * fails naming its JSON key; {@link #parse} is strict (unknown keys, wrong types and out-of-range
 * values are errors naming the key).
 *
 * <table>
 * <caption>keys</caption>
 * <tr><th>key</th><th>default</th><th>why</th></tr>
 * <tr><td>pairs</td><td>1000</td><td>pairs in the output file, sampled and bootstrap together</td></tr>
 * <tr><td>bootstrap_share</td><td>0.2</td><td>share of the output taken from the data set's bootstrap
 *   pairs, in [0, 1): a supplement only (they carry corruption shortcuts a model's samples do not)</td></tr>
 * <tr><td>temperature / top_p</td><td>1 / 1</td><td>PPO's rollout settings: the reward model should rank
 *   what the policy will sample</td></tr>
 * <tr><td>max_new_tokens</td><td>48</td><td>PPO's {@code max_response_tokens} for the tiny preset</td></tr>
 * <tr><td>prompts_per_batch</td><td>16</td><td>prompts per generation call (2 rows each)</td></tr>
 * <tr><td>max_rounds</td><td>20</td><td>times each prompt may be sampled at most (a model that only
 *   gives ties cannot loop forever)</td></tr>
 * <tr><td>seed</td><td>0</td><td>prompt order, sampling streams, bootstrap choice</td></tr>
 * </table>
 */
public final class PreferenceSamplerConfig {
  private static final List<String> KEYS = List.of("pairs", "bootstrap_share", "temperature", "top_p",
      "max_new_tokens", "prompts_per_batch", "max_rounds", "seed");

  private final int pairs;
  private final double bootstrapShare;
  private final float temperature;
  private final float topP;
  private final int maxNewTokens;
  private final int promptsPerBatch;
  private final int maxRounds;
  private final long seed;

  private PreferenceSamplerConfig(Builder b) {
    pairs = b.pairs;
    bootstrapShare = b.bootstrapShare;
    temperature = b.temperature;
    topP = b.topP;
    maxNewTokens = b.maxNewTokens;
    promptsPerBatch = b.promptsPerBatch;
    maxRounds = b.maxRounds;
    seed = b.seed;
  }

  public static PreferenceSamplerConfig defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return builder().pairs(pairs).bootstrapShare(bootstrapShare).temperature(temperature).topP(topP)
        .maxNewTokens(maxNewTokens).promptsPerBatch(promptsPerBatch).maxRounds(maxRounds).seed(seed);
  }

  /** Pairs wanted in the output, sampled and bootstrap together. */
  public int pairs() {
    return pairs;
  }

  /** Share of the output that are bootstrap pairs, in [0, 1). */
  public double bootstrapShare() {
    return bootstrapShare;
  }

  /** Sampled pairs wanted: {@code pairs − round(pairs · bootstrap_share)}, at least 1. */
  public int sampledPairs() {
    return Math.max(1, pairs - (int) Math.round(pairs * bootstrapShare));
  }

  /** Bootstrap pairs to add to {@code sampled} sampled pairs so they make up {@code bootstrap_share}. */
  public int bootstrapPairsFor(int sampled) {
    return (int) Math.round(sampled * bootstrapShare / (1 - bootstrapShare));
  }

  public float temperature() {
    return temperature;
  }

  public float topP() {
    return topP;
  }

  public int maxNewTokens() {
    return maxNewTokens;
  }

  public int promptsPerBatch() {
    return promptsPerBatch;
  }

  public int maxRounds() {
    return maxRounds;
  }

  public long seed() {
    return seed;
  }

  /** Every key. */
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("pairs", pairs);
    o.addProperty("bootstrap_share", bootstrapShare);
    o.addProperty("temperature", temperature);
    o.addProperty("top_p", topP);
    o.addProperty("max_new_tokens", maxNewTokens);
    o.addProperty("prompts_per_batch", promptsPerBatch);
    o.addProperty("max_rounds", maxRounds);
    o.addProperty("seed", seed);
    return o;
  }

  public static PreferenceSamplerConfig read(Path file) {
    Objects.requireNonNull(file, "file");
    if (!Files.isRegularFile(file)) {
      throw new FactRlException(file + ": no such config file");
    }
    return parse(JsonRecords.readText(file), file.toString());
  }

  /** Parses a config's JSON text; errors start with {@code source} and name the key. */
  public static PreferenceSamplerConfig parse(String json, String source) {
    JsonElement root = StrictJson.parse(json, source);
    if (!root.isJsonObject()) {
      throw new FactRlException(source + ": expected a JSON object of preference-sampling settings");
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
      if (f.has("pairs")) {
        b.pairs((int) f.integer("pairs", 1, 1 << 24));
      }
      if (f.has("bootstrap_share")) {
        b.bootstrapShare(f.number("bootstrap_share", 0, 0.99));
      }
      if (f.has("temperature")) {
        b.temperature((float) f.number("temperature", 1e-3, 100));
      }
      if (f.has("top_p")) {
        b.topP((float) f.number("top_p", 1e-6, 1));
      }
      if (f.has("max_new_tokens")) {
        b.maxNewTokens((int) f.integer("max_new_tokens", 1, 1 << 20));
      }
      if (f.has("prompts_per_batch")) {
        b.promptsPerBatch((int) f.integer("prompts_per_batch", 1, 1 << 16));
      }
      if (f.has("max_rounds")) {
        b.maxRounds((int) f.integer("max_rounds", 1, 1 << 20));
      }
      if (f.has("seed")) {
        b.seed(f.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE));
      }
      return b.build();
    } catch (FactRlException e) {
      throw e.getMessage().startsWith(source) ? e : new FactRlException(source + ": " + e.getMessage(), e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PreferenceSamplerConfig c && toJson().equals(c.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return "PreferenceSamplerConfig" + toJson();
  }

  /** Checks each value as it is set; errors name the JSON key. */
  public static final class Builder {
    private int pairs = 1000;
    private double bootstrapShare = 0.2;
    private float temperature = 1f;
    private float topP = 1f;
    private int maxNewTokens = 48;
    private int promptsPerBatch = 16;
    private int maxRounds = 20;
    private long seed = 0;

    private Builder() {}

    private static FactRlException bad(String key, String problem) {
      return new FactRlException(FactRlException.Status.ARGUMENT, "key '" + key + "' " + problem);
    }

    public Builder pairs(int v) {
      if (v < 1) {
        throw bad("pairs", "must be >= 1, got " + v);
      }
      pairs = v;
      return this;
    }

    public Builder bootstrapShare(double v) {
      if (!(v >= 0 && v < 1)) {
        throw bad("bootstrap_share", "must be in [0, 1) (sampled pairs are the main data), got " + v);
      }
      bootstrapShare = v;
      return this;
    }

    /** Sampling only: greedy decoding would give two identical responses per prompt. */
    public Builder temperature(float v) {
      if (!(Float.isFinite(v) && v > 0)) {
        throw bad("temperature", "must be finite and > 0 (two greedy responses are identical), got " + v);
      }
      temperature = v;
      return this;
    }

    public Builder topP(float v) {
      if (!(v > 0 && v <= 1)) {
        throw bad("top_p", "must be in (0, 1], got " + v);
      }
      topP = v;
      return this;
    }

    public Builder maxNewTokens(int v) {
      if (v < 1) {
        throw bad("max_new_tokens", "must be >= 1, got " + v);
      }
      maxNewTokens = v;
      return this;
    }

    public Builder promptsPerBatch(int v) {
      if (v < 1) {
        throw bad("prompts_per_batch", "must be >= 1, got " + v);
      }
      promptsPerBatch = v;
      return this;
    }

    public Builder maxRounds(int v) {
      if (v < 1) {
        throw bad("max_rounds", "must be >= 1, got " + v);
      }
      maxRounds = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public PreferenceSamplerConfig build() {
      return new PreferenceSamplerConfig(this);
    }
  }
}

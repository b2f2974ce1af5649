package org.factrl.eval;

import com.google.gson.JsonObject;
import java.util.Optional;
import org.factrl.engine.FactRlException;
import org.factrl.model.GenerateConfig;

/**
 * How an evaluation generates and what it measures. Immutable; {@link #builder()} checks every
 * field in {@link Builder#build()}, naming it.
 *
 * <table>
 * <caption>Settings</caption>
 * <tr><th>key</th><th>default</th><th>meaning</th></tr>
 * <tr><td>batch_size</td><td>8</td><td>prompts generated together</td></tr>
 * <tr><td>max_new_tokens</td><td>128</td><td>tokens an answer may have (EOS included)</td></tr>
 * <tr><td>temperature</td><td>0</td><td>0 = greedy (the paper's evaluation decodes greedily)</td></tr>
 * <tr><td>top_p</td><td>1</td><td>nucleus mass when sampling</td></tr>
 * <tr><td>seed</td><td>0</td><td>sampling seed (unused when greedy)</td></tr>
 * <tr><td>chair</td><td>false</td><td>also ask for a detailed description of every MMHal image (CHAIRs/CHAIRi)</td></tr>
 * <tr><td>chair_prompt</td><td>"Describe the image in detail."</td><td>the description request (an SFT wording)</td></tr>
 * <tr><td>limit</td><td>0</td><td>only the first N records of each question file (0 = all)</td></tr>
 * <tr><td>adapter</td><td>(automatic)</td><td>the adapter set to answer with; automatic = the checkpoint's only
 *     one, or the base when it has none; {@value #BASE} = the base alone</td></tr>
 * </table>
 */
public final class EvalConfig {
  /** The {@code adapter} value that means "the base alone, no adapter". */
  public static final String BASE = "none";
  public static final String DEFAULT_CHAIR_PROMPT = "Describe the image in detail.";

  private final int batchSize;
  private final int maxNewTokens;
  private final float temperature;
  private final float topP;
  private final long seed;
  private final boolean chair;
  private final String chairPrompt;
  private final int limit;
  private final String adapter;

  private EvalConfig(Builder b) {
    batchSize = b.batchSize;
    maxNewTokens = b.maxNewTokens;
    temperature = b.temperature;
    topP = b.topP;
    seed = b.seed;
    chair = b.chair;
    chairPrompt = b.chairPrompt;
    limit = b.limit;
    adapter = b.adapter;
  }

  public static Builder builder() {
    return new Builder();
  }

  public static EvalConfig defaults() {
    return builder().build();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.batchSize = batchSize;
    b.maxNewTokens = maxNewTokens;
    b.temperature = temperature;
    b.topP = topP;
    b.seed = seed;
    b.chair = chair;
    b.chairPrompt = chairPrompt;
    b.limit = limit;
    b.adapter = adapter;
    return b;
  }

  public int batchSize() {
    return batchSize;
  }

  public int maxNewTokens() {
    return maxNewTokens;
  }

  public float temperature() {
    return temperature;
  }

  public float topP() {
    return topP;
  }

  public long seed() {
    return seed;
  }

  public boolean chair() {
    return chair;
  }

  public String chairPrompt() {
    return chairPrompt;
  }

  public int limit() {
    return limit;
  }

  /** The adapter asked for; empty = automatic. */
  public Optional<String> adapter() {
    return Optional.ofNullable(adapter);
  }

  /** Max new tokens, temperature, top-p and seed for the generator (EOS and pad come from the tokenizer). */
  public GenerateConfig generateConfig() {
    return GenerateConfig.builder().maxNewTokens(maxNewTokens).temperature(temperature).topP(topP).seed(seed).build();
  }

  /** The settings as the metrics file records them. */
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("batch_size", batchSize);
    o.addProperty("max_new_tokens", maxNewTokens);
    o.addProperty("temperature", temperature);
    o.addProperty("top_p", topP);
    o.addProperty("seed", Long.toString(seed));
    o.addProperty("chair", chair);
    o.addProperty("chair_prompt", chairPrompt);
    o.addProperty("limit", limit);
    o.addProperty("adapter", adapter == null ? "auto" : adapter);
    return o;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EvalConfig c && c.toJson().equals(toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return "EvalConfig" + toJson();
  }

  /** Mutable builder; {@link #build()} checks every field. */
  public static final class Builder {
    private int batchSize = 8;
    private int maxNewTokens = 128;
    private float temperature = 0f;
    private float topP = 1f;
    private long seed = 0;
    private boolean chair = false;
    private String chairPrompt = DEFAULT_CHAIR_PROMPT;
    private int limit = 0;
    private String adapter = null;

    private Builder() {}

    public Builder batchSize(int v) {
      batchSize = v;
      return this;
    }

    public Builder maxNewTokens(int v) {
      maxNewTokens = v;
      return this;
    }

    public Builder temperature(float v) {
      temperature = v;
      return this;
    }

    public Builder topP(float v) {
      topP = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder chair(boolean v) {
      chair = v;
      return this;
    }

    public Builder chairPrompt(String v) {
      chairPrompt = v;
      return this;
    }

    public Builder limit(int v) {
      limit = v;
      return this;
    }

    /** An adapter set's name, {@link EvalConfig#BASE} for none, or null for automatic. */
    public Builder adapter(String v) {
      adapter = v;
      return this;
    }

    public EvalConfig build() {
      check(batchSize >= 1 && batchSize <= 4096, "batch_size", "must be in 1..4096, got " + batchSize);
      check(maxNewTokens >= 1 && maxNewTokens <= 1 << 16, "max_new_tokens", "must be in 1..65536, got " + maxNewTokens);
      check(Float.isFinite(temperature) && temperature >= 0, "temperature",
          "must be 0 (greedy) or finite and > 0, got " + temperature);
      check(topP > 0 && topP <= 1, "top_p", "must be in (0, 1], got " + topP);
      check(chairPrompt != null && !chairPrompt.isBlank(), "chair_prompt", "must not be empty");
      check(limit >= 0, "limit", "must be >= 0, got " + limit);
      check(adapter == null || !adapter.isBlank(), "adapter", "must not be empty (null = automatic)");
      return new EvalConfig(this);
    }

    private static void check(boolean ok, String key, String message) {
      if (!ok) {
        throw new FactRlException("key '" + key + "': " + message);
      }
    }
  }
}

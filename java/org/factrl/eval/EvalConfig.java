package org.factrl.eval;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.factrl.model.GenerateConfig;
import org.factrl.train.ConfigReader;
import org.factrl.train.RecipeDefaults;

/**
 * How an evaluation generates and what it measures. Immutable; {@link #builder()} checks every
 * field in {@link Builder#build()}, naming it. On disk (like every stage's config) a strict JSON
 * object with the keys below ({@link #read}, {@link ConfigReader}: unknown keys and out-of-range
 * values are errors naming the file and key; absent keys take the defaults); {@link #toJson} writes
 * every key, and the eval's {@code metrics.json} records it under {@code settings}.
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
 * <tr><td>adapter</td><td>"auto"</td><td>the adapter set to answer with; {@value #AUTO} = the checkpoint's only
 *     one, or the base when it has none; {@value #BASE} = the base alone</td></tr>
 * </table>
 */
public final class EvalConfig {
  /** The {@code adapter} value that means "the base alone, no adapter". */
  public static final String BASE = "none";
  /** The {@code adapter} value in a config file that means "automatic" (null in the builder). */
  public static final String AUTO = "auto";
  private static final List<String> KEYS = List.of("batch_size", "max_new_tokens", "temperature", "top_p", "seed",
      "chair", "chair_prompt", "limit", "adapter");
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
    o.addProperty("seed", seed);
    o.addProperty("chair", chair);
    o.addProperty("chair_prompt", chairPrompt);
    o.addProperty("limit", limit);
    o.addProperty("adapter", adapter == null ? AUTO : adapter);
    return o;
  }

  /** The config keys, in the order {@link #toJson} writes them. */
  public static List<String> keys() {
    return KEYS;
  }

  /** Reads a config file; errors name the file and the key. */
  public static EvalConfig read(Path file) {
    return from(ConfigReader.open(file, "evaluation", KEYS), defaults());
  }

  /** Parses a config's JSON text; errors start with {@code source} and name the key. */
  public static EvalConfig parse(String json, String source) {
    return from(ConfigReader.parse(json, source, "evaluation", KEYS), defaults());
  }

  private static EvalConfig from(ConfigReader r, EvalConfig over) {
    Builder b = over.toBuilder();
    return r.build(() -> {
      if (r.has("batch_size")) {
        b.batchSize((int) r.integer("batch_size", 1, 4096));
      }
      if (r.has("max_new_tokens")) {
        b.maxNewTokens((int) r.integer("max_new_tokens", 1, 1 << 16));
      }
      if (r.has("temperature")) {
        b.temperature((float) r.number("temperature", 0, 100));
      }
      if (r.has("top_p")) {
        b.topP((float) r.number("top_p", 0, 1));
      }
      if (r.has("seed")) {
        b.seed(r.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE));
      }
      if (r.has("chair")) {
        b.chair(r.bool("chair"));
      }
      if (r.has("chair_prompt")) {
        b.chairPrompt(r.string("chair_prompt"));
      }
      if (r.has("limit")) {
        b.limit((int) r.integer("limit", 0, Integer.MAX_VALUE));
      }
      if (r.has("adapter")) {
        String a = r.string("adapter");
        b.adapter(a.equals(AUTO) ? null : a);
      }
      return b.build();
    });
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
    private int batchSize = RecipeDefaults.EVAL_BATCH_SIZE;
    private int maxNewTokens = RecipeDefaults.EVAL_MAX_NEW_TOKENS;
    private float temperature = (float) RecipeDefaults.EVAL_TEMPERATURE;
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
      ConfigReader.checkRange("batch_size", batchSize, 1, 4096);
      ConfigReader.checkRange("max_new_tokens", maxNewTokens, 1, 1 << 16);
      ConfigReader.checkRange("temperature", temperature, 0, 100); // 0 = greedy
      ConfigReader.checkAbove("top_p", topP, 0, 1);
      check(chairPrompt != null && !chairPrompt.isBlank(), "chair_prompt", "must not be empty");
      ConfigReader.checkRange("limit", limit, 0, Integer.MAX_VALUE);
      check(adapter == null || !adapter.isBlank(), "adapter", "must not be empty (null = automatic)");
      return new EvalConfig(this);
    }

    private static void check(boolean ok, String key, String message) {
      if (!ok) {
        throw ConfigReader.bad(key, message);
      }
    }
  }
}

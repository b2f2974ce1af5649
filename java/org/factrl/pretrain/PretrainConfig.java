package org.factrl.pretrain;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.StrictJson;
import org.factrl.engine.FactRlException;
import org.factrl.model.ModelConfig;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;
import org.factrl.train.JsonFields;

/**
 * The pretraining stage's settings ({@link PretrainStage}). Immutable; {@link #builder()} checks
 * every value and fails naming its JSON key; {@link #read} is strict (unknown keys, wrong types and
 * out-of-range values are errors naming the key; absent keys take the defaults); {@link #toJson()}
 * writes every key.
 *
 * <p>Phases, in the order they run (a phase with 0 steps is skipped):
 * <ol>
 * <li>{@code vision} ({@code vision_*}): the vision encoder's dense per-patch pretraining
 *   ({@link VisionPretrainer}): every patch of the SFT-split images classified by the shape, colour
 *   and size of the object that owns it, and each image by its environment, from the scenes'
 *   exact ground truth — 64 labels per image instead of one caption, which is what lets a ViT
 *   trained from scratch on 2 cores see shapes at all. Runs as one unit (interrupted, it restarts
 *   from its beginning; the same seed gives the same weights).
 * <li>{@code text} ({@code text_*}): the decoder and its embeddings trained in full as a language
 *   model on the world's text — every SFT conversation with its image removed, and every caption
 *   of pretrain.json as a text-only answer — so it learns the language and the answer format of
 *   each question type before it ever sees an image token.
 * <li>{@code align} ({@code align_*}): projector alignment on pretrain.json's image–caption
 *   conversations in the file's order (the curriculum: one-object scenes first). The projector
 *   always trains; {@code align_train_decoder} also unfreezes the decoder (LLaVA freezes it; a
 *   tiny from-scratch decoder may have to learn to read image tokens).
 * </ol>
 *
 * <p>Defaults (tiny preset, 2 CPU cores; the recipe of the committed {@code models/base-tiny}):
 * vision 3000 steps × 32, lr 3e-3; text 800 steps × 16, lr 1e-3; align 600 steps × 16,
 * lr 1e-3 (LLaVA-1.5 aligns at 1e-3, batch 256), decoder unfrozen; warm-up 20 steps and cosine to
 * 10% per phase; max_length 320; grad-norm clip 1.0; no weight decay; checkpoint every 100 steps;
 * the final base written as bf16 ({@code bf16}); 32 one-object captions for the image check.
 */
public final class PretrainConfig {
  public static final String FILE_NAME = "pretrain_config.json";
  static final List<String> KEYS = List.of("vision_steps", "vision_lr", "vision_batch_size", "text_steps", "text_lr", "text_batch_size",
      "align_steps", "align_lr", "align_batch_size", "align_train_decoder", "warmup_steps", "min_lr_ratio",
      "max_length", "weight_decay", "max_grad_norm", "seed", "checkpoint_every", "log_every", "preset", "init_std",
      "bf16", "eval_examples");

  private final JsonObject json; // every key, validated: the single source of the accessors below

  private PretrainConfig(JsonObject json) {
    this.json = json;
  }

  public static PretrainConfig defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.o = json.deepCopy();
    return b;
  }

  /** Steps of the vision phase (0: the vision tower stays as the base has it). */
  public long visionSteps() {
    return json.get("vision_steps").getAsLong();
  }

  public double visionLr() {
    return json.get("vision_lr").getAsDouble();
  }

  public int visionBatchSize() {
    return json.get("vision_batch_size").getAsInt();
  }

  public long textSteps() {
    return json.get("text_steps").getAsLong();
  }

  public double textLr() {
    return json.get("text_lr").getAsDouble();
  }

  public int textBatchSize() {
    return json.get("text_batch_size").getAsInt();
  }

  public long alignSteps() {
    return json.get("align_steps").getAsLong();
  }

  public double alignLr() {
    return json.get("align_lr").getAsDouble();
  }

  public int alignBatchSize() {
    return json.get("align_batch_size").getAsInt();
  }

  /** Whether the align phase also trains the decoder (the projector always trains). */
  public boolean alignTrainDecoder() {
    return json.get("align_train_decoder").getAsBoolean();
  }

  /** Warm-up steps of each phase's schedule (warm-up then cosine to {@code min_lr_ratio}). */
  public long warmupSteps() {
    return json.get("warmup_steps").getAsLong();
  }

  public double minLrRatio() {
    return json.get("min_lr_ratio").getAsDouble();
  }

  public int maxLength() {
    return json.get("max_length").getAsInt();
  }

  public double weightDecay() {
    return json.get("weight_decay").getAsDouble();
  }

  public double maxGradNorm() {
    return json.get("max_grad_norm").getAsDouble();
  }

  /** Seeds the random base (when none is given) and the text phase's data order. */
  public long seed() {
    return json.get("seed").getAsLong();
  }

  public long checkpointEvery() {
    return json.get("checkpoint_every").getAsLong();
  }

  public long logEvery() {
    return json.get("log_every").getAsLong();
  }

  /** The model preset of a random base ({@link ModelConfig#preset}). */
  public String preset() {
    return json.get("preset").getAsString();
  }

  public float initStd() {
    return json.get("init_std").getAsFloat();
  }

  /** Whether the final base's weights are written as bf16 (a committable file; loads back as f32). */
  public boolean bf16() {
    return json.get("bf16").getAsBoolean();
  }

  /** One-object captions (the file's first ones) scored with their own vs a mismatched image at the end. */
  public int evalExamples() {
    return json.get("eval_examples").getAsInt();
  }

  // ---- JSON ---------------------------------------------------------------------------------

  public JsonObject toJson() {
    return json.deepCopy();
  }

  public void write(Path file, IfExists ifExists) {
    AtomicWrite.writeBytes(file, ifExists, (JsonRecords.toPrettyJson(json) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  public static PretrainConfig read(Path file) {
    Objects.requireNonNull(file, "file");
    if (!Files.isRegularFile(file)) {
      throw new FactRlException(file + ": no such config file");
    }
    return parse(JsonRecords.readText(file), file.toString());
  }

  /** Strict parse (see the class comment); errors start with {@code source} and name the key. */
  public static PretrainConfig parse(String text, String source) {
    JsonElement root = StrictJson.parse(text, source);
    if (!root.isJsonObject()) {
      throw new FactRlException(source + ": expected a JSON object of pretraining settings");
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
      for (String key : KEYS) {
        if (!f.has(key)) {
          continue;
        }
        JsonElement d = b.o.get(key);
        if (d.getAsJsonPrimitive().isBoolean()) {
          b.o.addProperty(key, f.bool(key));
        } else if (d.getAsJsonPrimitive().isString()) {
          b.o.addProperty(key, f.string(key));
        } else if (INTEGERS.contains(key)) {
          b.o.addProperty(key, f.integer(key, Long.MIN_VALUE, Long.MAX_VALUE));
        } else {
          b.o.addProperty(key, f.number(key, -Double.MAX_VALUE, Double.MAX_VALUE));
        }
      }
      return b.build();
    } catch (FactRlException e) {
      throw e.getMessage().startsWith(source) ? e : new FactRlException(source + ": " + e.getMessage(), e);
    }
  }

  private static final List<String> INTEGERS = List.of("vision_steps", "vision_batch_size", "text_steps", "text_batch_size", "align_steps",
      "align_batch_size", "warmup_steps", "max_length", "seed", "checkpoint_every", "log_every", "eval_examples");

  /** The keys whose values differ, "key: this vs other", comma-separated. */
  public String differences(PretrainConfig other) {
    List<String> out = new ArrayList<>();
    for (String k : KEYS) {
      if (!json.get(k).equals(other.json.get(k))) {
        out.add(k + ": " + json.get(k) + " vs " + other.json.get(k));
      }
    }
    return String.join(", ", out);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PretrainConfig c && json.equals(c.json);
  }

  @Override
  public int hashCode() {
    return json.hashCode();
  }

  @Override
  public String toString() {
    return "PretrainConfig" + json;
  }

  // ---- builder ------------------------------------------------------------------------------

  /** Setters take the values as they are; {@link #build} checks them all and names the first bad key. */
  public static final class Builder {
    private JsonObject o = new JsonObject();

    private Builder() {
      o.addProperty("vision_steps", 3000L);
      o.addProperty("vision_lr", 3e-3);
      o.addProperty("vision_batch_size", 32);
      o.addProperty("text_steps", 800L);
      o.addProperty("text_lr", 1e-3);
      o.addProperty("text_batch_size", 16);
      o.addProperty("align_steps", 600L);
      o.addProperty("align_lr", 1e-3);
      o.addProperty("align_batch_size", 16);
      o.addProperty("align_train_decoder", true);
      o.addProperty("warmup_steps", 20L);
      o.addProperty("min_lr_ratio", 0.1);
      o.addProperty("max_length", 320);
      o.addProperty("weight_decay", 0.0);
      o.addProperty("max_grad_norm", 1.0);
      o.addProperty("seed", 0L);
      o.addProperty("checkpoint_every", 100L);
      o.addProperty("log_every", 10L);
      o.addProperty("preset", "tiny");
      o.addProperty("init_std", 0.02);
      o.addProperty("bf16", true);
      o.addProperty("eval_examples", 32);
    }

    public Builder visionSteps(long v) {
      o.addProperty("vision_steps", v);
      return this;
    }

    public Builder visionLr(double v) {
      o.addProperty("vision_lr", v);
      return this;
    }

    public Builder visionBatchSize(int v) {
      o.addProperty("vision_batch_size", v);
      return this;
    }

    public Builder textSteps(long v) {
      o.addProperty("text_steps", v);
      return this;
    }

    public Builder textLr(double v) {
      o.addProperty("text_lr", v);
      return this;
    }

    public Builder textBatchSize(int v) {
      o.addProperty("text_batch_size", v);
      return this;
    }

    public Builder alignSteps(long v) {
      o.addProperty("align_steps", v);
      return this;
    }

    public Builder alignLr(double v) {
      o.addProperty("align_lr", v);
      return this;
    }

    public Builder alignBatchSize(int v) {
      o.addProperty("align_batch_size", v);
      return this;
    }

    public Builder alignTrainDecoder(boolean v) {
      o.addProperty("align_train_decoder", v);
      return this;
    }

    public Builder warmupSteps(long v) {
      o.addProperty("warmup_steps", v);
      return this;
    }

    public Builder minLrRatio(double v) {
      o.addProperty("min_lr_ratio", v);
      return this;
    }

    public Builder maxLength(int v) {
      o.addProperty("max_length", v);
      return this;
    }

    public Builder weightDecay(double v) {
      o.addProperty("weight_decay", v);
      return this;
    }

    public Builder maxGradNorm(double v) {
      o.addProperty("max_grad_norm", v);
      return this;
    }

    public Builder seed(long v) {
      o.addProperty("seed", v);
      return this;
    }

    public Builder checkpointEvery(long v) {
      o.addProperty("checkpoint_every", v);
      return this;
    }

    public Builder logEvery(long v) {
      o.addProperty("log_every", v);
      return this;
    }

    public Builder preset(String v) {
      o.addProperty("preset", Objects.requireNonNull(v, "preset"));
      return this;
    }

    public Builder initStd(float v) {
      o.addProperty("init_std", Double.parseDouble(Float.toString(v))); // as the JSON reads it back
      return this;
    }

    public Builder bf16(boolean v) {
      o.addProperty("bf16", v);
      return this;
    }

    public Builder evalExamples(int v) {
      o.addProperty("eval_examples", v);
      return this;
    }

    private static FactRlException bad(String key, String problem) {
      return new FactRlException(FactRlException.Status.ARGUMENT, "key '" + key + "' " + problem);
    }

    private long range(String key, long min, long max) {
      long v = o.get(key).getAsLong();
      if (o.get(key).getAsDouble() != v || v < min || v > max) {
        throw bad(key, "must be an integer in [" + min + ", " + max + "], got " + o.get(key));
      }
      return v;
    }

    private double real(String key, double min, double max) {
      double v = o.get(key).getAsDouble();
      if (!(Double.isFinite(v) && v >= min && v <= max)) {
        throw bad(key, "must be in [" + min + ", " + max + "], got " + o.get(key));
      }
      return v;
    }

    public PretrainConfig build() {
      long vision = range("vision_steps", 0, 1 << 24);
      real("vision_lr", Double.MIN_VALUE, 1);
      range("vision_batch_size", 1, 1 << 16);
      long text = range("text_steps", 0, Long.MAX_VALUE / 2);
      long align = range("align_steps", 0, Long.MAX_VALUE / 2);
      real("text_lr", Double.MIN_VALUE, 1);
      real("align_lr", Double.MIN_VALUE, 1);
      range("text_batch_size", 1, 1 << 16);
      range("align_batch_size", 1, 1 << 16);
      long warmup = range("warmup_steps", 0, Long.MAX_VALUE / 2);
      for (String phase : List.of("vision", "text", "align")) {
        long steps = phase.equals("vision") ? vision : phase.equals("text") ? text : align;
        if (steps > 0 && warmup > steps) {
          throw bad("warmup_steps", "is " + warmup + ", more than " + phase + "_steps (" + steps + ")");
        }
      }
      real("min_lr_ratio", 0, 1);
      range("max_length", 2, 1 << 20);
      real("weight_decay", 0, 1e3);
      real("max_grad_norm", 0, 1e12);
      range("checkpoint_every", 0, Long.MAX_VALUE);
      range("log_every", 1, Long.MAX_VALUE);
      try {
        ModelConfig.preset(o.get("preset").getAsString());
      } catch (RuntimeException e) {
        throw bad("preset", "is \"" + o.get("preset").getAsString() + "\": " + e.getMessage());
      }
      real("init_std", 0, 10);
      range("eval_examples", 0, 1 << 16);
      return new PretrainConfig(o.deepCopy());
    }
  }
}

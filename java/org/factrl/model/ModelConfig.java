package org.factrl.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.factrl.data.format.StrictJson;
import org.factrl.data.text.SpecialTokens;
import org.factrl.engine.FactRlException;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;

/**
 * The shape of a {@link LlavaModel} (model.h's {@code frl_model_config}): a CLIP-style ViT, a
 * projector and a LLaMA decoder. Immutable and valid by construction: {@link Builder#build()}
 * checks every field and fails naming it.
 *
 * <p>On disk it is an HF {@code LlavaConfig} {@code config.json} ({@link #toJson()},
 * {@link #read(Path)}): {@code vision_config} and {@code text_config} with HF's key names,
 * {@code vision_feature_layer}, {@code image_token_index}, {@code projector_hidden_act}, plus
 * {@code "projector"} ({@code linear} or {@code mlp2x_gelu}, LLaVA's own projector names; HF's
 * LLaVA has only the MLP, the default when the key is absent). Reading is strict about what changes
 * the model's math: options this engine does not implement (grouped-query attention, tied
 * embeddings, RoPE scaling, attention or MLP biases in the decoder, activations other than the
 * ones model.h computes, keeping the class token) are errors naming the field; HF's defaults apply
 * to the numbers it defaults (eps, theta, channels, positions). CLIP's HF default activation is
 * {@code quick_gelu}, which this engine does not compute, so {@code vision_config.hidden_act} must
 * be present and {@code gelu}.
 */
public final class ModelConfig {
  /** config.json's file name in a checkpoint folder. */
  public static final String FILE_NAME = "config.json";

  /**
   * Vocabulary size of the shapes world's tokenizer as {@code bin/factrl data} writes it with its
   * defaults (1000 scenes, seed 0): 5 specials, 256 bytes, 648 merges. Another data set may learn a
   * few merges more or less; build a {@code tiny()} for its tokenizer with
   * {@code toBuilder().vocabSize(tokenizer.vocabSize())}.
   */
  public static final int SHAPES_VOCAB_SIZE = 909;
  /** The shapes tokenizer's {@code <image>} id (the specials come first: unk, s, /s, pad, image). */
  public static final int SHAPES_IMAGE_TOKEN_ID = SpecialTokens.ALL.indexOf(SpecialTokens.IMAGE);

  private final int imageSize;
  private final int imageChannels;
  private final int patchSize;
  private final int visionHidden;
  private final int visionLayers;
  private final int visionHeads;
  private final int visionIntermediate;
  private final int visionFeatureLayer;
  private final float visionLayerNormEps;
  private final Projector projector;
  private final int vocabSize;
  private final int hidden;
  private final int layers;
  private final int heads;
  private final int intermediate;
  private final int maxPositions;
  private final float ropeTheta;
  private final float rmsNormEps;
  private final int imageTokenId;

  private ModelConfig(Builder b) {
    imageSize = b.imageSize;
    imageChannels = b.imageChannels;
    patchSize = b.patchSize;
    visionHidden = b.visionHidden;
    visionLayers = b.visionLayers;
    visionHeads = b.visionHeads;
    visionIntermediate = b.visionIntermediate;
    visionFeatureLayer = b.visionFeatureLayer;
    visionLayerNormEps = b.visionLayerNormEps;
    projector = b.projector;
    vocabSize = b.vocabSize;
    hidden = b.hidden;
    layers = b.layers;
    heads = b.heads;
    intermediate = b.intermediate;
    maxPositions = b.maxPositions;
    ropeTheta = b.ropeTheta;
    rmsNormEps = b.rmsNormEps;
    imageTokenId = b.imageTokenId;
  }

  // ---- presets ------------------------------------------------------------------------------

  /**
   * The CPU demo and test model (DESIGN.md §2): 64×64 RGB images in 8×8 patches (64 image tokens),
   * a 2-layer ViT of width 128 (4 heads, MLP 512), a linear projector, a 4-layer decoder of width 192
   * (4 heads of 48, SwiGLU 512 ≈ 2.7·d), the shapes world's vocabulary and {@code <image>} id,
   * 512 positions. The features come from the last ViT block ({@code vision_feature_layer = -1}),
   * not LLaVA's penultimate: with two blocks the penultimate would leave half the tower unused.
   * 2,574,848 parameters.
   */
  public static ModelConfig tiny() {
    return builder()
        .imageSize(64).imageChannels(3).patchSize(8)
        .visionHidden(128).visionLayers(2).visionHeads(4).visionIntermediate(512)
        .visionFeatureLayer(-1).visionLayerNormEps(1e-5f)
        .projector(Projector.LINEAR)
        .vocabSize(SHAPES_VOCAB_SIZE).hidden(192).layers(4).heads(4).intermediate(512)
        .maxPositions(512).ropeTheta(10000f).rmsNormEps(1e-6f)
        .imageTokenId(SHAPES_IMAGE_TOKEN_ID)
        .build();
  }

  /**
   * The GPU demo model, 108,260,352 parameters: 128×128 images in 16×16 patches (64 image tokens),
   * a ViT-S/16-shaped tower (width 384, 12 layers, 6 heads, MLP 1536; features of the penultimate
   * block as LLaVA), a linear projector, a 12-layer decoder of width 768 (12 heads, SwiGLU 2048),
   * the shapes world's vocabulary, 1024 positions.
   */
  public static ModelConfig small() {
    return builder()
        .imageSize(128).imageChannels(3).patchSize(16)
        .visionHidden(384).visionLayers(12).visionHeads(6).visionIntermediate(1536)
        .visionFeatureLayer(-2).visionLayerNormEps(1e-5f)
        .projector(Projector.LINEAR)
        .vocabSize(SHAPES_VOCAB_SIZE).hidden(768).layers(12).heads(12).intermediate(2048)
        .maxPositions(1024).ropeTheta(10000f).rmsNormEps(1e-6f)
        .imageTokenId(SHAPES_IMAGE_TOKEN_ID)
        .build();
  }

  /**
   * LLaVA-1.5-7B's shapes (HF {@code llava-hf/llava-1.5-7b-hf}), for GPU benchmarks with random
   * weights: CLIP ViT-L/14-336 (336×336, 14×14 patches → 576 image tokens, width 1024, 24 layers,
   * 16 heads, MLP 4096, penultimate-layer features), the 2-layer GELU MLP projector, Vicuna-7B
   * (width 4096, 32 layers, 32 heads, SwiGLU 11008, vocabulary 32064 with {@code <image>} at 32000,
   * 4096 positions, RMSNorm eps 1e-5). 7,063,425,024 parameters: HF's 7,063,427,072 less CLIP's
   * {@code post_layernorm} (2,048), which LLaVA never reads.
   */
  public static ModelConfig llava7b() {
    return builder()
        .imageSize(336).imageChannels(3).patchSize(14)
        .visionHidden(1024).visionLayers(24).visionHeads(16).visionIntermediate(4096)
        .visionFeatureLayer(-2).visionLayerNormEps(1e-5f)
        .projector(Projector.MLP2X_GELU)
        .vocabSize(32064).hidden(4096).layers(32).heads(32).intermediate(11008)
        .maxPositions(4096).ropeTheta(10000f).rmsNormEps(1e-5f)
        .imageTokenId(32000)
        .build();
  }

  /** A preset by name: {@code tiny}, {@code small} or {@code llava-7b}. */
  public static ModelConfig preset(String name) {
    Objects.requireNonNull(name, "name");
    return switch (name) {
      case "tiny" -> tiny();
      case "small" -> small();
      case "llava-7b", "llava7b" -> llava7b();
      default -> throw new FactRlException(FactRlException.Status.ARGUMENT,
          "argument 'name': no model preset '" + name + "' (tiny, small, llava-7b)");
    };
  }

  // ---- derived sizes ------------------------------------------------------------------------

  /** Patches per image, P = (image_size / patch_size)²: the image tokens each image row holds. */
  public int patchesPerImage() {
    int side = imageSize / patchSize;
    return side * side;
  }

  /** The base parameters, name → shape, in the blob's order (model.h's list, HF names). */
  public Map<String, long[]> parameterShapes() {
    Map<String, long[]> s = new LinkedHashMap<>();
    long dv = visionHidden;
    long fv = visionIntermediate;
    long d = hidden;
    long f = intermediate;
    long v = vocabSize;
    String vm = "vision_tower.vision_model.";
    s.put(vm + "embeddings.patch_embedding.weight", new long[] {dv, imageChannels, patchSize, patchSize});
    s.put(vm + "embeddings.class_embedding", new long[] {dv});
    s.put(vm + "embeddings.position_embedding.weight", new long[] {patchesPerImage() + 1L, dv});
    s.put(vm + "pre_layrnorm.weight", new long[] {dv});
    s.put(vm + "pre_layrnorm.bias", new long[] {dv});
    for (int i = 0; i < visionLayers; i++) {
      String p = vm + "encoder.layers." + i + ".";
      s.put(p + "layer_norm1.weight", new long[] {dv});
      s.put(p + "layer_norm1.bias", new long[] {dv});
      for (String proj : new String[] {"q", "k", "v", "out"}) {
        s.put(p + "self_attn." + proj + "_proj.weight", new long[] {dv, dv});
      }
      for (String proj : new String[] {"q", "k", "v", "out"}) { // the four biases after the four weights
        s.put(p + "self_attn." + proj + "_proj.bias", new long[] {dv});
      }
      s.put(p + "layer_norm2.weight", new long[] {dv});
      s.put(p + "layer_norm2.bias", new long[] {dv});
      s.put(p + "mlp.fc1.weight", new long[] {fv, dv});
      s.put(p + "mlp.fc1.bias", new long[] {fv});
      s.put(p + "mlp.fc2.weight", new long[] {dv, fv});
      s.put(p + "mlp.fc2.bias", new long[] {dv});
    }
    s.put("multi_modal_projector.linear_1.weight", new long[] {d, dv});
    s.put("multi_modal_projector.linear_1.bias", new long[] {d});
    if (projector == Projector.MLP2X_GELU) {
      s.put("multi_modal_projector.linear_2.weight", new long[] {d, d});
      s.put("multi_modal_projector.linear_2.bias", new long[] {d});
    }
    String lm = "language_model.model.";
    s.put(lm + "embed_tokens.weight", new long[] {v, d});
    for (int i = 0; i < layers; i++) {
      String p = lm + "layers." + i + ".";
      s.put(p + "input_layernorm.weight", new long[] {d});
      for (String proj : new String[] {"q", "k", "v", "o"}) {
        s.put(p + "self_attn." + proj + "_proj.weight", new long[] {d, d});
      }
      s.put(p + "post_attention_layernorm.weight", new long[] {d});
      s.put(p + "mlp.gate_proj.weight", new long[] {f, d});
      s.put(p + "mlp.up_proj.weight", new long[] {f, d});
      s.put(p + "mlp.down_proj.weight", new long[] {d, f});
    }
    s.put(lm + "norm.weight", new long[] {d});
    s.put("language_model.lm_head.weight", new long[] {v, d});
    return s;
  }

  /**
   * The adapted modules of an adapter set, module name → {in, out} (A is [r, in], B is [out, r]),
   * in the blob's order (model.h): the projector's linear layers first, then decoder layers in
   * order, targets q, k, v, o, gate, up, down within a layer.
   */
  public Map<String, long[]> adapterModules(java.util.Set<LoraTarget> targets) {
    Map<String, long[]> m = new LinkedHashMap<>();
    long d = hidden;
    long f = intermediate;
    if (targets.contains(LoraTarget.PROJECTOR)) {
      m.put("multi_modal_projector.linear_1", new long[] {visionHidden, d});
      if (projector == Projector.MLP2X_GELU) {
        m.put("multi_modal_projector.linear_2", new long[] {d, d});
      }
    }
    for (int i = 0; i < layers; i++) {
      for (LoraTarget t : LoraTarget.values()) {
        if (t.isDecoder() && targets.contains(t)) {
          long in = t == LoraTarget.DOWN ? f : d;
          long out = t == LoraTarget.GATE || t == LoraTarget.UP ? f : d;
          m.put("language_model.model.layers." + i + "." + t.module(), new long[] {in, out});
        }
      }
    }
    return m;
  }

  /** Number of base parameters (the blob's elements): the sum over {@link #parameterShapes()}. */
  public long parameterCount() {
    long n = 0;
    for (long[] shape : parameterShapes().values()) {
      long e = 1;
      for (long x : shape) {
        e *= x;
      }
      n += e;
    }
    return n;
  }

  // ---- accessors ----------------------------------------------------------------------------

  public int imageSize() {
    return imageSize;
  }

  public int imageChannels() {
    return imageChannels;
  }

  public int patchSize() {
    return patchSize;
  }

  public int visionHidden() {
    return visionHidden;
  }

  public int visionLayers() {
    return visionLayers;
  }

  public int visionHeads() {
    return visionHeads;
  }

  public int visionIntermediate() {
    return visionIntermediate;
  }

  public int visionFeatureLayer() {
    return visionFeatureLayer;
  }

  public float visionLayerNormEps() {
    return visionLayerNormEps;
  }

  public Projector projector() {
    return projector;
  }

  public int vocabSize() {
    return vocabSize;
  }

  public int hidden() {
    return hidden;
  }

  public int layers() {
    return layers;
  }

  public int heads() {
    return heads;
  }

  public int intermediate() {
    return intermediate;
  }

  public int maxPositions() {
    return maxPositions;
  }

  public float ropeTheta() {
    return ropeTheta;
  }

  public float rmsNormEps() {
    return rmsNormEps;
  }

  public int imageTokenId() {
    return imageTokenId;
  }

  // ---- builder ------------------------------------------------------------------------------

  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this config's values. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.imageSize = imageSize;
    b.imageChannels = imageChannels;
    b.patchSize = patchSize;
    b.visionHidden = visionHidden;
    b.visionLayers = visionLayers;
    b.visionHeads = visionHeads;
    b.visionIntermediate = visionIntermediate;
    b.visionFeatureLayer = visionFeatureLayer;
    b.visionLayerNormEps = visionLayerNormEps;
    b.projector = projector;
    b.vocabSize = vocabSize;
    b.hidden = hidden;
    b.layers = layers;
    b.heads = heads;
    b.intermediate = intermediate;
    b.maxPositions = maxPositions;
    b.ropeTheta = ropeTheta;
    b.rmsNormEps = rmsNormEps;
    b.imageTokenId = imageTokenId;
    return b;
  }

  /**
   * Collects the fields; {@link #build()} checks them. Fields without a value keep HF's default
   * where HF has one (channels 3, eps 1e-5 / 1e-6, theta 10000, feature layer -2, MLP projector);
   * the sizes have none and must be set.
   */
  public static final class Builder {
    private int imageSize;
    private int imageChannels = 3;
    private int patchSize;
    private int visionHidden;
    private int visionLayers;
    private int visionHeads;
    private int visionIntermediate;
    private int visionFeatureLayer = -2;
    private float visionLayerNormEps = 1e-5f;
    private Projector projector = Projector.MLP2X_GELU;
    private int vocabSize;
    private int hidden;
    private int layers;
    private int heads;
    private int intermediate;
    private int maxPositions = 2048;
    private float ropeTheta = 10000f;
    private float rmsNormEps = 1e-6f;
    private int imageTokenId = -1;

    private Builder() {}

    public Builder imageSize(int v) {
      imageSize = v;
      return this;
    }

    public Builder imageChannels(int v) {
      imageChannels = v;
      return this;
    }

    public Builder patchSize(int v) {
      patchSize = v;
      return this;
    }

    public Builder visionHidden(int v) {
      visionHidden = v;
      return this;
    }

    public Builder visionLayers(int v) {
      visionLayers = v;
      return this;
    }

    public Builder visionHeads(int v) {
      visionHeads = v;
      return this;
    }

    public Builder visionIntermediate(int v) {
      visionIntermediate = v;
      return this;
    }

    public Builder visionFeatureLayer(int v) {
      visionFeatureLayer = v;
      return this;
    }

    public Builder visionLayerNormEps(float v) {
      visionLayerNormEps = v;
      return this;
    }

    public Builder projector(Projector v) {
      projector = v;
      return this;
    }

    public Builder vocabSize(int v) {
      vocabSize = v;
      return this;
    }

    public Builder hidden(int v) {
      hidden = v;
      return this;
    }

    public Builder layers(int v) {
      layers = v;
      return this;
    }

    public Builder heads(int v) {
      heads = v;
      return this;
    }

    public Builder intermediate(int v) {
      intermediate = v;
      return this;
    }

    public Builder maxPositions(int v) {
      maxPositions = v;
      return this;
    }

    public Builder ropeTheta(float v) {
      ropeTheta = v;
      return this;
    }

    public Builder rmsNormEps(float v) {
      rmsNormEps = v;
      return this;
    }

    public Builder imageTokenId(int v) {
      imageTokenId = v;
      return this;
    }

    /** Checks every field (model.h's rules); a violation names the field and its value. */
    public ModelConfig build() {
      positive("image_size", imageSize);
      positive("image_channels", imageChannels);
      positive("patch_size", patchSize);
      check(imageSize % patchSize == 0, "image_size", imageSize, "must be a multiple of patch_size (" + patchSize + ")");
      positive("vision_hidden", visionHidden);
      check(visionLayers >= 0, "vision_layers", visionLayers, "must be >= 0");
      positive("vision_heads", visionHeads);
      check(visionHidden % visionHeads == 0, "vision_heads", visionHeads,
          "must divide vision_hidden (" + visionHidden + ")");
      positive("vision_intermediate", visionIntermediate);
      check(visionFeatureLayer >= -(visionLayers + 1) && visionFeatureLayer <= visionLayers, "vision_feature_layer",
          visionFeatureLayer, "must be in [" + -(visionLayers + 1) + ", " + visionLayers + "] (HF hidden_states index)");
      check(Float.isFinite(visionLayerNormEps) && visionLayerNormEps > 0, "vision_layer_norm_eps", visionLayerNormEps,
          "must be finite and > 0");
      check(projector != null, "projector", null, "must be set");
      positive("vocab_size", vocabSize);
      positive("hidden", hidden);
      check(layers >= 0, "layers", layers, "must be >= 0");
      positive("heads", heads);
      check(hidden % heads == 0, "heads", heads, "must divide hidden (" + hidden + ")");
      check((hidden / heads) % 2 == 0, "heads", heads,
          "must leave an even head width for RoPE (hidden " + hidden + " / heads = " + hidden / heads + ")");
      positive("intermediate", intermediate);
      positive("max_positions", maxPositions);
      check(Float.isFinite(ropeTheta) && ropeTheta > 0, "rope_theta", ropeTheta, "must be finite and > 0");
      check(Float.isFinite(rmsNormEps) && rmsNormEps > 0, "rms_norm_eps", rmsNormEps, "must be finite and > 0");
      check(imageTokenId >= 0 && imageTokenId < vocabSize, "image_token_id", imageTokenId,
          "must be in [0, vocab_size = " + vocabSize + ")");
      return new ModelConfig(this);
    }

    private static void positive(String field, int value) {
      check(value > 0, field, value, "must be > 0");
    }

    private static void check(boolean ok, String field, Object value, String rule) {
      if (!ok) {
        throw new FactRlException(FactRlException.Status.ARGUMENT,
            "model config: field '" + field + "' is " + value + ": " + rule);
      }
    }
  }

  // ---- config.json --------------------------------------------------------------------------

  /** The HF {@code LlavaConfig} JSON of this config (pretty, keys in a fixed order). */
  public String toJson() {
    StringWriter out = new StringWriter();
    try (JsonWriter w = new JsonWriter(out)) {
      w.setIndent("  ");
      w.setHtmlSafe(false);
      w.beginObject();
      w.name("architectures").beginArray().value("LlavaForConditionalGeneration").endArray();
      w.name("model_type").value("llava");
      w.name("projector").value(projector.jsonName());
      w.name("projector_hidden_act").value("gelu");
      w.name("vision_feature_layer").value(visionFeatureLayer);
      w.name("vision_feature_select_strategy").value("default");
      w.name("image_token_index").value(imageTokenId);
      w.name("vision_config").beginObject();
      w.name("model_type").value("clip_vision_model");
      w.name("hidden_size").value(visionHidden);
      w.name("intermediate_size").value(visionIntermediate);
      w.name("num_hidden_layers").value(visionLayers);
      w.name("num_attention_heads").value(visionHeads);
      w.name("image_size").value(imageSize);
      w.name("patch_size").value(patchSize);
      w.name("num_channels").value(imageChannels);
      w.name("layer_norm_eps").value(Float.valueOf(visionLayerNormEps));
      w.name("hidden_act").value("gelu");
      w.endObject();
      w.name("text_config").beginObject();
      w.name("model_type").value("llama");
      w.name("vocab_size").value(vocabSize);
      w.name("hidden_size").value(hidden);
      w.name("intermediate_size").value(intermediate);
      w.name("num_hidden_layers").value(layers);
      w.name("num_attention_heads").value(heads);
      w.name("num_key_value_heads").value(heads);
      w.name("max_position_embeddings").value(maxPositions);
      w.name("rope_theta").value(Float.valueOf(ropeTheta));
      w.name("rms_norm_eps").value(Float.valueOf(rmsNormEps));
      w.name("hidden_act").value("silu");
      w.name("tie_word_embeddings").value(false);
      w.endObject();
      w.name("tie_word_embeddings").value(false);
      w.name("torch_dtype").value("float32");
      w.endObject();
    } catch (IOException e) {
      throw new AssertionError("a StringWriter does not fail", e);
    }
    return out + "\n";
  }

  /** Writes {@link #toJson()} to {@code file} atomically; replaces an existing file only if asked. */
  public void write(Path file, IfExists ifExists) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(ifExists, "ifExists");
    AtomicWrite.writeBytes(file, ifExists, toJson().getBytes(StandardCharsets.UTF_8));
  }

  /** Reads a {@code config.json}; errors name the file and the field. */
  public static ModelConfig read(Path file) {
    Objects.requireNonNull(file, "file");
    if (!Files.isRegularFile(file)) {
      throw new FactRlException(file + ": not a regular file" + (Files.exists(file) ? "" : " (does not exist)"));
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot read (or not UTF-8): " + e, e);
    }
    return parse(text, file.toString());
  }

  /** Parses the JSON of a {@code config.json}; errors start with {@code source} and name the field. */
  public static ModelConfig parse(String json, String source) {
    Objects.requireNonNull(json, "json");
    Objects.requireNonNull(source, "source");
    JsonObject root = object(StrictJson.parse(json, source), "", source);
    Fields top = new Fields(root, "", source);
    top.mustBe("model_type", "llava", true);
    top.mustBe("projector_hidden_act", "gelu", true);
    top.mustBe("vision_feature_select_strategy", "default", true);
    top.mustBe("tie_word_embeddings", "false", true);
    Fields vision = new Fields(object(root.get("vision_config"), "vision_config", source), "vision_config.", source);
    Fields text = new Fields(object(root.get("text_config"), "text_config", source), "text_config.", source);
    vision.mustBe("hidden_act", "gelu", false);
    text.mustBe("hidden_act", "silu", true);
    text.mustBe("tie_word_embeddings", "false", true);
    text.mustBe("attention_bias", "false", true);
    text.mustBe("mlp_bias", "false", true);
    text.mustBe("rope_scaling", "null", true);
    int heads = text.integer("num_attention_heads", null);
    text.mustBe("num_key_value_heads", Integer.toString(heads), true);
    Projector projector = Projector.MLP2X_GELU;
    String p = top.string("projector", Projector.MLP2X_GELU.jsonName());
    Projector found = null;
    for (Projector candidate : Projector.values()) {
      if (candidate.jsonName().equals(p)) {
        found = candidate;
      }
    }
    if (found == null) {
      throw new FactRlException(source + ": field 'projector' is '" + p + "'; expected 'linear' or 'mlp2x_gelu'");
    }
    projector = found;
    try {
      return builder()
          .imageSize(vision.integer("image_size", null))
          .imageChannels(vision.integer("num_channels", 3))
          .patchSize(vision.integer("patch_size", null))
          .visionHidden(vision.integer("hidden_size", null))
          .visionLayers(vision.integer("num_hidden_layers", null))
          .visionHeads(vision.integer("num_attention_heads", null))
          .visionIntermediate(vision.integer("intermediate_size", null))
          .visionLayerNormEps(vision.number("layer_norm_eps", 1e-5f))
          .visionFeatureLayer(top.integer("vision_feature_layer", -2))
          .projector(projector)
          .vocabSize(text.integer("vocab_size", null))
          .hidden(text.integer("hidden_size", null))
          .layers(text.integer("num_hidden_layers", null))
          .heads(heads)
          .intermediate(text.integer("intermediate_size", null))
          .maxPositions(text.integer("max_position_embeddings", 2048))
          .ropeTheta(text.number("rope_theta", 10000f))
          .rmsNormEps(text.number("rms_norm_eps", 1e-6f))
          .imageTokenId(top.integer("image_token_index", 32000))
          .build();
    } catch (FactRlException e) {
      throw new FactRlException(source + ": " + e.getMessage(), e);
    }
  }

  private static JsonObject object(JsonElement e, String field, String source) {
    if (e == null || !e.isJsonObject()) {
      throw new FactRlException(source + ": " + (field.isEmpty() ? "not a JSON object"
          : "field '" + field + "' " + (e == null ? "is missing" : "is not an object")));
    }
    return e.getAsJsonObject();
  }

  /** Typed, named reads of one JSON object's fields. */
  private static final class Fields {
    private final JsonObject o;
    private final String prefix;
    private final String source;

    Fields(JsonObject o, String prefix, String source) {
      this.o = o;
      this.prefix = prefix;
      this.source = source;
    }

    private FactRlException error(String field, String problem) {
      return new FactRlException(source + ": field '" + prefix + field + "' " + problem);
    }

    /** The field, when present, must be {@code expected} (its JSON text); absent is fine when {@code absentOk}. */
    void mustBe(String field, String expected, boolean absentOk) {
      JsonElement v = o.get(field);
      if (v == null) {
        if (!absentOk) {
          throw error(field, "is missing; only \"" + expected + "\" is supported (HF's CLIP default is quick_gelu,"
              + " which this engine does not compute)");
        }
        return;
      }
      String actual = v.isJsonPrimitive() && v.getAsJsonPrimitive().isString() ? v.getAsString() : v.toString();
      if (!actual.equals(expected)) {
        throw error(field, "is " + abbreviate(v.toString()) + "; only " + expected + " is supported");
      }
    }

    String string(String field, String fallback) {
      JsonElement v = o.get(field);
      if (v == null) {
        return fallback;
      }
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
        throw error(field, "is not a string");
      }
      return v.getAsString();
    }

    int integer(String field, Integer fallback) {
      JsonElement v = o.get(field);
      if (v == null) {
        if (fallback == null) {
          throw error(field, "is missing");
        }
        return fallback;
      }
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber() || !v.getAsString().matches("-?[0-9]{1,10}")) {
        throw error(field, "must be an integer, got " + abbreviate(v.toString()));
      }
      long n = Long.parseLong(v.getAsString());
      if (n != (int) n) {
        throw error(field, "is " + n + ", beyond the 32-bit range");
      }
      return (int) n;
    }

    float number(String field, float fallback) {
      JsonElement v = o.get(field);
      if (v == null) {
        return fallback;
      }
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
        throw error(field, "must be a number, got " + abbreviate(v.toString()));
      }
      float f = (float) Double.parseDouble(v.getAsString());
      if (!Float.isFinite(f)) {
        throw error(field, "is " + abbreviate(v.getAsString()) + ", beyond the float range");
      }
      return f;
    }

    private static String abbreviate(String s) {
      return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
  }

  // ---- value semantics ----------------------------------------------------------------------

  @Override
  public boolean equals(Object other) {
    if (!(other instanceof ModelConfig c)) {
      return false;
    }
    return imageSize == c.imageSize && imageChannels == c.imageChannels && patchSize == c.patchSize
        && visionHidden == c.visionHidden && visionLayers == c.visionLayers && visionHeads == c.visionHeads
        && visionIntermediate == c.visionIntermediate && visionFeatureLayer == c.visionFeatureLayer
        && Float.compare(visionLayerNormEps, c.visionLayerNormEps) == 0 && projector == c.projector
        && vocabSize == c.vocabSize && hidden == c.hidden && layers == c.layers && heads == c.heads
        && intermediate == c.intermediate && maxPositions == c.maxPositions
        && Float.compare(ropeTheta, c.ropeTheta) == 0 && Float.compare(rmsNormEps, c.rmsNormEps) == 0
        && imageTokenId == c.imageTokenId;
  }

  @Override
  public int hashCode() {
    return Objects.hash(imageSize, imageChannels, patchSize, visionHidden, visionLayers, visionHeads,
        visionIntermediate, visionFeatureLayer, visionLayerNormEps, projector, vocabSize, hidden, layers, heads,
        intermediate, maxPositions, ropeTheta, rmsNormEps, imageTokenId);
  }

  /** Every field as {@code name=value} in model.h's order (used to name the fields two configs differ in). */
  public Map<String, Object> fields() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("image_size", imageSize);
    m.put("image_channels", imageChannels);
    m.put("patch_size", patchSize);
    m.put("vision_hidden", visionHidden);
    m.put("vision_layers", visionLayers);
    m.put("vision_heads", visionHeads);
    m.put("vision_intermediate", visionIntermediate);
    m.put("vision_feature_layer", visionFeatureLayer);
    m.put("vision_layer_norm_eps", visionLayerNormEps);
    m.put("projector", projector.jsonName());
    m.put("vocab_size", vocabSize);
    m.put("hidden", hidden);
    m.put("layers", layers);
    m.put("heads", heads);
    m.put("intermediate", intermediate);
    m.put("max_positions", maxPositions);
    m.put("rope_theta", ropeTheta);
    m.put("rms_norm_eps", rmsNormEps);
    m.put("image_token_id", imageTokenId);
    return m;
  }

  /** The fields in which {@code other} differs, as {@code name: this vs other}; empty when equal. */
  public String differences(ModelConfig other) {
    StringBuilder sb = new StringBuilder();
    Map<String, Object> theirs = other.fields();
    for (Map.Entry<String, Object> e : fields().entrySet()) {
      Object t = theirs.get(e.getKey());
      if (!e.getValue().equals(t)) {
        sb.append(sb.length() == 0 ? "" : ", ").append(e.getKey()).append(" ").append(e.getValue()).append(" vs ")
            .append(t);
      }
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return "ModelConfig" + fields();
  }
}

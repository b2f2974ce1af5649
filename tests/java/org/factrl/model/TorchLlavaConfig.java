package org.factrl.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The LLaVA model's configuration for {@link TorchLlavaReference}: the fields of {@code
 * frl_model_config} (native/include/factrl/model.h), mirrored here so the reference depends on
 * nothing but that header's text. Immutable; made by {@link #builder()}, which checks every field
 * as the header states and names the field it rejects.
 *
 * <p>Also the single source of the weight names and shapes: {@link #baseShapes()} in the header's
 * order (vision, projector, decoder; within a block in the order listed) and {@link
 * #adapterShapes(int, int)} with PEFT names, targets in the order q, k, v, o, gate, up, down per
 * layer, the projector last.
 */
public final class TorchLlavaConfig {
  /** LoRA target bits, as FRL_LORA_* in model.h. */
  public static final int LORA_Q = 1, LORA_K = 2, LORA_V = 4, LORA_O = 8, LORA_GATE = 16, LORA_UP = 32,
      LORA_DOWN = 64, LORA_PROJECTOR = 128, LORA_ALL_DECODER = 127;

  /** The projector kinds, codes as FRL_PROJECTOR_* in model.h. */
  public enum Projector {
    LINEAR(0), MLP2X_GELU(1);

    public final int code;

    Projector(int code) {
      this.code = code;
    }
  }

  /** PEFT's prefix of every adapter weight name. */
  public static final String PEFT_PREFIX = "base_model.model.";
  static final String VISION = "vision_tower.vision_model.";
  static final String PROJECTOR = "multi_modal_projector.";
  static final String DECODER = "language_model.model.";

  public final int imageSize;
  public final int imageChannels;
  public final int patchSize;
  public final int visionHidden;
  public final int visionLayers;
  public final int visionHeads;
  public final int visionIntermediate;
  public final int visionFeatureLayer;
  public final float visionLayerNormEps;
  public final Projector projector;
  public final int vocabSize;
  public final int hidden;
  public final int layers;
  public final int heads;
  public final int intermediate;
  public final int maxPositions;
  public final float ropeTheta;
  public final float rmsNormEps;
  public final int imageTokenId;

  private TorchLlavaConfig(Builder b) {
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

  /** P: patches per image, (H / p)². */
  public int patches() {
    int g = imageSize / patchSize;
    return g * g;
  }

  /** How many vision blocks run: the feature layer as a non-negative hidden_states index. */
  public int visionBlocksRun() {
    return visionFeatureLayer < 0 ? visionFeatureLayer + visionLayers + 1 : visionFeatureLayer;
  }

  /** Every base weight by HF name, with its shape, in the header's order (immutable). */
  public Map<String, long[]> baseShapes() {
    Map<String, long[]> s = new LinkedHashMap<>();
    long dv = visionHidden, fv = visionIntermediate, d = hidden, f = intermediate;
    String e = VISION + "embeddings.";
    s.put(e + "patch_embedding.weight", new long[] {dv, imageChannels, patchSize, patchSize});
    s.put(e + "class_embedding", new long[] {dv});
    s.put(e + "position_embedding.weight", new long[] {patches() + 1, dv});
    s.put(VISION + "pre_layrnorm.weight", new long[] {dv});
    s.put(VISION + "pre_layrnorm.bias", new long[] {dv});
    for (int i = 0; i < visionLayers; i++) {
      String l = VISION + "encoder.layers." + i + ".";
      s.put(l + "layer_norm1.weight", new long[] {dv});
      s.put(l + "layer_norm1.bias", new long[] {dv});
      for (String p : new String[] {"q", "k", "v", "out"}) {
        s.put(l + "self_attn." + p + "_proj.weight", new long[] {dv, dv});
        s.put(l + "self_attn." + p + "_proj.bias", new long[] {dv});
      }
      s.put(l + "layer_norm2.weight", new long[] {dv});
      s.put(l + "layer_norm2.bias", new long[] {dv});
      s.put(l + "mlp.fc1.weight", new long[] {fv, dv});
      s.put(l + "mlp.fc1.bias", new long[] {fv});
      s.put(l + "mlp.fc2.weight", new long[] {dv, fv});
      s.put(l + "mlp.fc2.bias", new long[] {dv});
    }
    s.put(PROJECTOR + "linear_1.weight", new long[] {d, dv});
    s.put(PROJECTOR + "linear_1.bias", new long[] {d});
    if (projector == Projector.MLP2X_GELU) {
      s.put(PROJECTOR + "linear_2.weight", new long[] {d, d});
      s.put(PROJECTOR + "linear_2.bias", new long[] {d});
    }
    s.put(DECODER + "embed_tokens.weight", new long[] {vocabSize, d});
    for (int i = 0; i < layers; i++) {
      String l = DECODER + "layers." + i + ".";
      s.put(l + "input_layernorm.weight", new long[] {d});
      for (String p : new String[] {"q", "k", "v", "o"}) {
        s.put(l + "self_attn." + p + "_proj.weight", new long[] {d, d});
      }
      s.put(l + "post_attention_layernorm.weight", new long[] {d});
      s.put(l + "mlp.gate_proj.weight", new long[] {f, d});
      s.put(l + "mlp.up_proj.weight", new long[] {f, d});
      s.put(l + "mlp.down_proj.weight", new long[] {d, f});
    }
    s.put(DECODER + "norm.weight", new long[] {d});
    s.put("language_model.lm_head.weight", new long[] {vocabSize, d});
    return Collections.unmodifiableMap(s);
  }

  /**
   * Every LoRA weight of an adapter set of rank r over {@code targets} (LORA_* bits), PEFT names
   * ({@code base_model.model.<module>.lora_A.weight} [r, in], {@code lora_B.weight} [out, r]), in
   * the header's order (immutable).
   */
  public Map<String, long[]> adapterShapes(int rank, int targets) {
    if (rank <= 0) {
      throw new IllegalArgumentException("rank must be > 0, got " + rank);
    }
    if (targets == 0 || (targets & ~(LORA_ALL_DECODER | LORA_PROJECTOR)) != 0) {
      throw new IllegalArgumentException("targets must be a non-empty set of LORA_* bits, got " + targets);
    }
    Map<String, long[]> s = new LinkedHashMap<>();
    long d = hidden, f = intermediate;
    String[] names = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj",
        "mlp.up_proj", "mlp.down_proj"};
    long[][] inOut = {{d, d}, {d, d}, {d, d}, {d, d}, {d, f}, {d, f}, {f, d}};
    for (int i = 0; i < layers; i++) {
      for (int t = 0; t < names.length; t++) {
        if ((targets & (1 << t)) != 0) {
          putPair(s, DECODER + "layers." + i + "." + names[t], rank, inOut[t][0], inOut[t][1]);
        }
      }
    }
    if ((targets & LORA_PROJECTOR) != 0) {
      putPair(s, PROJECTOR + "linear_1", rank, visionHidden, d);
      if (projector == Projector.MLP2X_GELU) {
        putPair(s, PROJECTOR + "linear_2", rank, d, d);
      }
    }
    return Collections.unmodifiableMap(s);
  }

  private static void putPair(Map<String, long[]> s, String module, int rank, long in, long out) {
    s.put(loraA(module), new long[] {rank, in});
    s.put(loraB(module), new long[] {out, rank});
  }

  /** PEFT name of the A half of the adapter on {@code module} (an HF module path). */
  public static String loraA(String module) {
    return PEFT_PREFIX + module + ".lora_A.weight";
  }

  /** PEFT name of the B half of the adapter on {@code module}. */
  public static String loraB(String module) {
    return PEFT_PREFIX + module + ".lora_B.weight";
  }

  @Override
  public String toString() {
    return "TorchLlavaConfig{image " + imageChannels + "x" + imageSize + "² p" + patchSize + ", vision " + visionLayers
        + "x(Dv " + visionHidden + ", heads " + visionHeads + ", Fv " + visionIntermediate + "), feature layer "
        + visionFeatureLayer + ", " + projector + ", decoder " + layers + "x(d " + hidden + ", heads " + heads + ", F "
        + intermediate + "), V " + vocabSize + ", image token " + imageTokenId + "}";
  }

  /** Collects the fields; {@link #build()} checks them. Defaults: a tiny model for tests. */
  public static final class Builder {
    private int imageSize = 8;
    private int imageChannels = 3;
    private int patchSize = 4;
    private int visionHidden = 8;
    private int visionLayers = 2;
    private int visionHeads = 2;
    private int visionIntermediate = 16;
    private int visionFeatureLayer = -2;
    private float visionLayerNormEps = 1e-5f;
    private Projector projector = Projector.MLP2X_GELU;
    private int vocabSize = 32;
    private int hidden = 16;
    private int layers = 2;
    private int heads = 2;
    private int intermediate = 24;
    private int maxPositions = 64;
    private float ropeTheta = 10000f;
    private float rmsNormEps = 1e-6f;
    private int imageTokenId = 31;

    private Builder() {}

    public Builder imageSize(int v) { imageSize = v; return this; }
    public Builder imageChannels(int v) { imageChannels = v; return this; }
    public Builder patchSize(int v) { patchSize = v; return this; }
    public Builder visionHidden(int v) { visionHidden = v; return this; }
    public Builder visionLayers(int v) { visionLayers = v; return this; }
    public Builder visionHeads(int v) { visionHeads = v; return this; }
    public Builder visionIntermediate(int v) { visionIntermediate = v; return this; }
    public Builder visionFeatureLayer(int v) { visionFeatureLayer = v; return this; }
    public Builder visionLayerNormEps(float v) { visionLayerNormEps = v; return this; }
    public Builder projector(Projector v) { projector = v; return this; }
    public Builder vocabSize(int v) { vocabSize = v; return this; }
    public Builder hidden(int v) { hidden = v; return this; }
    public Builder layers(int v) { layers = v; return this; }
    public Builder heads(int v) { heads = v; return this; }
    public Builder intermediate(int v) { intermediate = v; return this; }
    public Builder maxPositions(int v) { maxPositions = v; return this; }
    public Builder ropeTheta(float v) { ropeTheta = v; return this; }
    public Builder rmsNormEps(float v) { rmsNormEps = v; return this; }
    public Builder imageTokenId(int v) { imageTokenId = v; return this; }

    public TorchLlavaConfig build() {
      positive("imageSize", imageSize);
      positive("imageChannels", imageChannels);
      positive("patchSize", patchSize);
      check(imageSize % patchSize == 0, "imageSize " + imageSize + " must be a multiple of patchSize " + patchSize);
      positive("visionHidden", visionHidden);
      check(visionLayers >= 0, "visionLayers must be >= 0, got " + visionLayers);
      positive("visionHeads", visionHeads);
      check(visionHidden % visionHeads == 0, "visionHeads " + visionHeads + " must divide visionHidden " + visionHidden);
      positive("visionIntermediate", visionIntermediate);
      check(visionFeatureLayer >= -(visionLayers + 1) && visionFeatureLayer <= visionLayers,
          "visionFeatureLayer " + visionFeatureLayer + " must be in [" + -(visionLayers + 1) + ", " + visionLayers + "]");
      check(visionLayerNormEps > 0 && Float.isFinite(visionLayerNormEps),
          "visionLayerNormEps must be finite and > 0, got " + visionLayerNormEps);
      check(projector != null, "projector must not be null");
      positive("vocabSize", vocabSize);
      positive("hidden", hidden);
      check(layers >= 0, "layers must be >= 0, got " + layers);
      positive("heads", heads);
      check(hidden % heads == 0 && (hidden / heads) % 2 == 0,
          "heads " + heads + " must divide hidden " + hidden + " into even head sizes (RoPE)");
      positive("intermediate", intermediate);
      positive("maxPositions", maxPositions);
      check(ropeTheta > 0 && Float.isFinite(ropeTheta), "ropeTheta must be finite and > 0, got " + ropeTheta);
      check(rmsNormEps > 0 && Float.isFinite(rmsNormEps), "rmsNormEps must be finite and > 0, got " + rmsNormEps);
      check(imageTokenId >= 0 && imageTokenId < vocabSize,
          "imageTokenId " + imageTokenId + " must be in [0, vocabSize " + vocabSize + ")");
      return new TorchLlavaConfig(this);
    }

    private static void positive(String field, int v) {
      check(v > 0, field + " must be > 0, got " + v);
    }

    private static void check(boolean ok, String message) {
      if (!ok) {
        throw new IllegalArgumentException(message);
      }
    }
  }
}

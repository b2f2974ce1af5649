package org.factrl.bindings;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.ByPtrPtr;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Platform;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.FactRlCore.frl_tensor;
import org.factrl.bindings.ViewNative.frl_blob;

/**
 * Raw JavaCPP binding of {@code native/include/factrl/model.h}: the LLaVA model (vision tower,
 * projector, LLaMA decoder) whose forward and backward are each one native call. The four structs
 * are bound field by field (each field a getter and a chained setter, JavaCPP's struct style).
 * Every function returns an {@code frl_status} (0 = OK); a Java {@code null} passes a C
 * {@code NULL} (the adapter name, optional tensors and blobs). Use {@code org.factrl.model.LlavaModel},
 * which checks arguments and throws.
 */
@Platform(include = {"factrl.h", "factrl/model.h"}, link = "factrl")
public final class ModelNative {
  static {
    Loader.load(FactRlCore.class);
    Loader.load();
  }

  private ModelNative() {}

  public static final int FRL_PROJECTOR_LINEAR = 0, FRL_PROJECTOR_MLP2X_GELU = 1;

  public static final int FRL_LORA_Q = 1, FRL_LORA_K = 2, FRL_LORA_V = 4, FRL_LORA_O = 8, FRL_LORA_GATE = 16,
      FRL_LORA_UP = 32, FRL_LORA_DOWN = 64, FRL_LORA_PROJECTOR = 128, FRL_LORA_ALL_DECODER = 127;

  public static final int FRL_GROUP_VISION = 1, FRL_GROUP_PROJECTOR = 2, FRL_GROUP_DECODER = 4, FRL_GROUP_ALL = 7;

  /** Opaque {@code frl_model*}. */
  @Opaque
  public static class frl_model extends Pointer {
    public frl_model() {
      super((Pointer) null);
    }

    public frl_model(Pointer p) {
      super(p);
    }
  }

  /** {@code frl_model_config}: the model's shape (see model.h for each field's rule). */
  public static class frl_model_config extends Pointer {
    static {
      Loader.load();
    }

    /** A value-initialised (zero) struct owned by this object (freed on close / GC). */
    public frl_model_config() {
      super((Pointer) null);
      allocate();
    }

    public frl_model_config(Pointer p) {
      super(p);
    }

    private native void allocate();

    public native @Cast("int32_t") int image_size();
    public native frl_model_config image_size(int v);
    public native @Cast("int32_t") int image_channels();
    public native frl_model_config image_channels(int v);
    public native @Cast("int32_t") int patch_size();
    public native frl_model_config patch_size(int v);
    public native @Cast("int32_t") int vision_hidden();
    public native frl_model_config vision_hidden(int v);
    public native @Cast("int32_t") int vision_layers();
    public native frl_model_config vision_layers(int v);
    public native @Cast("int32_t") int vision_heads();
    public native frl_model_config vision_heads(int v);
    public native @Cast("int32_t") int vision_intermediate();
    public native frl_model_config vision_intermediate(int v);
    public native @Cast("int32_t") int vision_feature_layer();
    public native frl_model_config vision_feature_layer(int v);
    public native float vision_layer_norm_eps();
    public native frl_model_config vision_layer_norm_eps(float v);
    public native @Cast("int32_t") int projector();
    public native frl_model_config projector(int v);
    public native @Cast("int32_t") int vocab_size();
    public native frl_model_config vocab_size(int v);
    public native @Cast("int32_t") int hidden();
    public native frl_model_config hidden(int v);
    public native @Cast("int32_t") int layers();
    public native frl_model_config layers(int v);
    public native @Cast("int32_t") int heads();
    public native frl_model_config heads(int v);
    public native @Cast("int32_t") int intermediate();
    public native frl_model_config intermediate(int v);
    public native @Cast("int32_t") int max_positions();
    public native frl_model_config max_positions(int v);
    public native float rope_theta();
    public native frl_model_config rope_theta(float v);
    public native float rms_norm_eps();
    public native frl_model_config rms_norm_eps(float v);
    public native @Cast("int32_t") int image_token_id();
    public native frl_model_config image_token_id(int v);
  }

  /** {@code frl_model_inputs}: token ids (required), images and targets (each NULL when absent). */
  public static class frl_model_inputs extends Pointer {
    static {
      Loader.load();
    }

    public frl_model_inputs() {
      super((Pointer) null);
      allocate();
    }

    public frl_model_inputs(Pointer p) {
      super(p);
    }

    private native void allocate();

    public native @Const frl_tensor input_ids();
    public native frl_model_inputs input_ids(frl_tensor t);
    public native @Const frl_tensor images();
    public native frl_model_inputs images(frl_tensor t);
    public native @Const frl_tensor targets();
    public native frl_model_inputs targets(frl_tensor t);
  }

  /** {@code frl_model_outputs}: logits, hidden, logp (each NULL when not wanted). */
  public static class frl_model_outputs extends Pointer {
    static {
      Loader.load();
    }

    public frl_model_outputs() {
      super((Pointer) null);
      allocate();
    }

    public frl_model_outputs(Pointer p) {
      super(p);
    }

    private native void allocate();

    public native frl_tensor logits();
    public native frl_model_outputs logits(frl_tensor t);
    public native frl_tensor hidden();
    public native frl_model_outputs hidden(frl_tensor t);
    public native frl_tensor logp();
    public native frl_model_outputs logp(frl_tensor t);
  }

  /** {@code frl_model_memory}: what the model holds, in bytes. */
  public static class frl_model_memory extends Pointer {
    static {
      Loader.load();
    }

    public frl_model_memory() {
      super((Pointer) null);
      allocate();
    }

    public frl_model_memory(Pointer p) {
      super(p);
    }

    private native void allocate();

    public native @Cast("int64_t") long base();
    public native frl_model_memory base(long v);
    public native @Cast("int64_t") long adapters();
    public native frl_model_memory adapters(long v);
    public native @Cast("int64_t") long arena();
    public native frl_model_memory arena(long v);
    public native @Cast("int64_t") long workspace();
    public native frl_model_memory workspace(long v);
    public native @Cast("int64_t") long total();
    public native frl_model_memory total(long v);
  }

  public static native int frl_model_create(frl_ctx ctx, @Const frl_model_config config, @ByPtrPtr frl_model outModel);

  public static native int frl_model_destroy(frl_model model);

  public static native int frl_model_get_config(@Const frl_model model, frl_model_config outConfig);

  public static native int frl_model_params(@Const frl_model model, @ByPtrPtr frl_blob outBlob);

  public static native int frl_model_init_weights(frl_model model, @Cast("uint64_t") long seed, float initStd);

  public static native int frl_model_add_adapter(frl_model model, @Cast("const char*") String name, int rank,
      float alpha, @Cast("uint32_t") int targets, @Cast("uint64_t") long seed);

  public static native int frl_model_remove_adapter(frl_model model, @Cast("const char*") String name);

  public static native int frl_model_adapter(@Const frl_model model, @Cast("const char*") String name,
      @ByPtrPtr frl_blob outBlob);

  public static native int frl_model_adapter_info(@Const frl_model model, @Cast("const char*") String name,
      @Cast("int32_t*") IntPointer outRank, FloatPointer outAlpha, @Cast("uint32_t*") IntPointer outTargets);

  public static native int frl_model_plan(frl_model model, @Cast("int64_t") long maxBatch, @Cast("int64_t") long maxSeq,
      @Cast("int64_t") long maxImages, int train);

  public static native int frl_model_memory_plan(@Const frl_model model, frl_model_memory outMemory);

  public static native int frl_model_forward(frl_model model, @Cast("const char*") String adapter,
      @Const frl_model_inputs inputs, @Const frl_model_outputs outputs, int train);

  public static native int frl_model_backward(frl_model model, @Const frl_tensor dLogp, @Const frl_tensor dHidden,
      frl_blob baseGrads, @Cast("uint32_t") int baseGroups, frl_blob adapterGrads, int mode);

  /** Vision tower alone: images [Bi, C, H, W] → features [Bi, P, Dv] (what the projector reads). */
  public static native int frl_model_vision_forward(frl_model model, @Const frl_tensor images, frl_tensor features,
      int train);

  /** Backward of the last training vision forward: writes only FRL_GROUP_VISION entries of baseGrads. */
  public static native int frl_model_vision_backward(frl_model model, @Const frl_tensor dFeatures, frl_blob baseGrads,
      int mode);
}

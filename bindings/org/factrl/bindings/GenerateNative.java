package org.factrl.bindings;

import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.ByPtrPtr;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Platform;
import org.factrl.bindings.FactRlCore.frl_tensor;
import org.factrl.bindings.ModelNative.frl_model;
import org.factrl.bindings.ModelNative.frl_model_inputs;

/**
 * Raw JavaCPP binding of {@code native/include/factrl/generate.h}: the KV cache, prefill, the
 * batched decode step and whole sampled generations in one native call. {@code frl_generate_config}
 * is bound field by field (getter and chained setter). Every function returns an {@code frl_status}
 * (0 = OK); a Java {@code null} passes a C {@code NULL} (the adapter name, optional tensors). Use
 * {@code org.factrl.model.Generator} and {@code org.factrl.model.KvCache}, which check arguments and
 * throw.
 */
@Platform(include = {"factrl.h", "factrl/model.h", "factrl/generate.h"}, link = "factrl")
public final class GenerateNative {
  static {
    Loader.load(FactRlCore.class);
    Loader.load(ModelNative.class);
    Loader.load();
  }

  private GenerateNative() {}

  /** Opaque {@code frl_kv_cache*}. */
  @Opaque
  public static class frl_kv_cache extends Pointer {
    public frl_kv_cache() {
      super((Pointer) null);
    }

    public frl_kv_cache(Pointer p) {
      super(p);
    }
  }

  /** {@code frl_generate_config}: sampling and stopping (see generate.h for each field's rule). */
  public static class frl_generate_config extends Pointer {
    static {
      Loader.load();
    }

    /** A value-initialised (zero) struct owned by this object (freed on close / GC). */
    public frl_generate_config() {
      super((Pointer) null);
      allocate();
    }

    public frl_generate_config(Pointer p) {
      super(p);
    }

    private native void allocate();

    public native @Cast("int32_t") int max_new_tokens();
    public native frl_generate_config max_new_tokens(int v);
    public native float temperature();
    public native frl_generate_config temperature(float v);
    public native float top_p();
    public native frl_generate_config top_p(float v);
    public native @Cast("int32_t") int eos_token_id();
    public native frl_generate_config eos_token_id(int v);
    public native @Cast("int32_t") int pad_token_id();
    public native frl_generate_config pad_token_id(int v);
    public native @Cast("uint64_t") long seed();
    public native frl_generate_config seed(long v);
  }

  public static native int frl_kv_cache_create(frl_model model, @Cast("int64_t") long maxBatch,
      @Cast("int64_t") long maxLen, @ByPtrPtr frl_kv_cache outCache);

  public static native int frl_kv_cache_destroy(frl_kv_cache cache);

  public static native int frl_kv_cache_bytes(@Const frl_kv_cache cache, @Cast("int64_t*") LongPointer outBytes);

  public static native int frl_kv_cache_lengths(@Const frl_kv_cache cache, @Cast("int32_t*") IntPointer outLengths,
      @Cast("int64_t") long count);

  public static native int frl_model_prefill(frl_model model, @Cast("const char*") String adapter, frl_kv_cache cache,
      @Const frl_model_inputs prompts, @Const frl_tensor promptLengths, frl_tensor lastLogits);

  public static native int frl_model_decode_step(frl_model model, frl_kv_cache cache, @Const frl_tensor tokens,
      @Const frl_tensor active, frl_tensor logits);

  public static native int frl_model_generate(frl_model model, @Cast("const char*") String adapter, frl_kv_cache cache,
      @Const frl_model_inputs prompts, @Const frl_tensor promptLengths, @Const frl_generate_config config,
      frl_tensor outTokens, frl_tensor outLogp, frl_tensor outLengths);
}

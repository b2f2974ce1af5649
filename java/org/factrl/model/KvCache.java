package org.factrl.model;

import static org.factrl.engine.Native.check;
import static org.factrl.engine.Native.checkArgument;
import static org.factrl.engine.Native.checkNotNull;

import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.factrl.bindings.GenerateNative;
import org.factrl.bindings.GenerateNative.frl_kv_cache;
import org.factrl.engine.FactRlException;

/**
 * A KV cache of a {@link LlavaModel} (generate.h): for every decoder layer K (after RoPE) and V of
 * up to {@code maxLen} positions of up to {@code maxBatch} rows, plus the decode step's scratch,
 * counted in the device's bytes in use. Filled by {@link Generator#prefill} or
 * {@link Generator#generate}, extended by {@link Generator#decodeStep}; one adapter set throughout
 * (the prefill's). Close it before its model. Not thread-safe.
 */
public final class KvCache implements AutoCloseable {
  private final LlavaModel model;
  private final long maxBatch;
  private final long maxLen;
  private frl_kv_cache handle;
  private int batch;  // the last prefill's batch (0: none, or it failed)

  private KvCache(LlavaModel model, long maxBatch, long maxLen, frl_kv_cache handle) {
    this.model = model;
    this.maxBatch = maxBatch;
    this.maxLen = maxLen;
    this.handle = handle;
  }

  /**
   * A cache for batches of up to {@code maxBatch} rows of up to {@code maxLen} positions (prompt plus
   * generated tokens; at most the model's max_positions). CUDA models have no generation path yet (UNAVAILABLE).
   */
  public static KvCache create(LlavaModel model, long maxBatch, long maxLen) {
    checkNotNull(model, "model");
    checkArgument(maxBatch > 0, "maxBatch", "must be > 0, got %d", maxBatch);
    checkArgument(maxLen > 0 && maxLen <= model.config().maxPositions(), "maxLen",
        "must be in [1, max_positions = %d], got %d", model.config().maxPositions(), maxLen);
    frl_kv_cache out = new frl_kv_cache();
    check(GenerateNative.frl_kv_cache_create(model.handle(), maxBatch, maxLen, out));
    return new KvCache(model, maxBatch, maxLen, out);
  }

  frl_kv_cache handle() {
    if (handle == null) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "KvCache (max batch " + maxBatch + ", max len "
          + maxLen + ") is closed");
    }
    return handle;
  }

  public LlavaModel model() {
    return model;
  }

  public long maxBatch() {
    return maxBatch;
  }

  public long maxLen() {
    return maxLen;
  }

  /** Bytes the cache holds (K, V and scratch): its share of the memory plan. */
  public long bytes() {
    try (LongPointer out = new LongPointer(1)) {
      check(GenerateNative.frl_kv_cache_bytes(handle(), out));
      return out.get();
    }
  }

  /** Rows of the last prefill (0 before any, or after a failed one). */
  public int batch() {
    return batch;
  }

  void setBatch(int b) {
    batch = b;
  }

  /** Cached positions per row of the last prefill's batch (empty before any prefill). */
  public int[] lengths() {
    try (IntPointer out = new IntPointer(Math.max(1, batch))) {
      check(GenerateNative.frl_kv_cache_lengths(handle(), out, batch));
      int[] r = new int[batch];
      out.get(r);
      return r;
    }
  }

  public boolean isClosed() {
    return handle == null;
  }

  /** Frees the cache. Closing twice is harmless. */
  @Override
  public void close() {
    if (handle == null) {
      return;
    }
    check(GenerateNative.frl_kv_cache_destroy(handle));
    handle = null;
  }

  @Override
  public String toString() {
    return "KvCache(max batch " + maxBatch + ", max len " + maxLen + (handle == null ? ", closed" : "") + ")";
  }
}

package org.factrl.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.FactRlCore.frl_tensor;

/**
 * Raw JavaCPP binding of {@code native/include/factrl/attention.h}: multi-head scaled dot-product
 * attention, forward and backward, unmasked and masked (per-row key lengths and query offsets); CPU only so far. Every function returns an {@code frl_status}
 * (0 = OK); use {@code org.factrl.layers.Attention}, which validates arguments, owns no handles and
 * turns statuses into {@code FactRlException}s.
 *
 * <p>Optional tensors ({@code lse} in the forward, {@code dq}, {@code dk}, {@code dv}, and the masks of the
 * masked functions) may be passed as {@code null}.
 */
@Platform(include = "factrl.h", link = "factrl")
public final class AttentionNative {
  static {
    Loader.load();
  }

  private AttentionNative() {}

  public static native int frl_attention_forward(frl_ctx ctx, @Const frl_tensor q, @Const frl_tensor k,
      @Const frl_tensor v, int causal, float scale, frl_tensor out, frl_tensor lse);

  public static native int frl_attention_backward(frl_ctx ctx, @Const frl_tensor q, @Const frl_tensor k,
      @Const frl_tensor v, @Const frl_tensor out, @Const frl_tensor lse, @Const frl_tensor dout, int causal,
      float scale, frl_tensor dq, frl_tensor dk, frl_tensor dv, int mode);

  /**
   * Masked attention: q {@code [B,Sq,H,D]}, k and v {@code [B,Sk,H,D]}, per-row key lengths and query
   * offsets ({@code I32 [B]}, or null for Sk and 0). See {@code attention.h}.
   */
  public static native int frl_attention_forward_masked(frl_ctx ctx, @Const frl_tensor q, @Const frl_tensor k,
      @Const frl_tensor v, @Const frl_tensor keyLengths, @Const frl_tensor queryOffsets, int causal, float scale,
      frl_tensor out, frl_tensor lse);

  /** Gradients of {@link #frl_attention_forward_masked}; dq {@code [B,Sq,H,D]}, dk and dv {@code [B,Sk,H,D]}. */
  public static native int frl_attention_backward_masked(frl_ctx ctx, @Const frl_tensor q, @Const frl_tensor k,
      @Const frl_tensor v, @Const frl_tensor keyLengths, @Const frl_tensor queryOffsets, @Const frl_tensor out,
      @Const frl_tensor lse, @Const frl_tensor dout, int causal, float scale, frl_tensor dq, frl_tensor dk,
      frl_tensor dv, int mode);
}

package org.factrl.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.FactRlCore.frl_tensor;

/**
 * Raw JavaCPP binding of {@code native/include/factrl/attention.h}: multi-head scaled dot-product
 * attention, forward and backward (CPU only so far). Every function returns an {@code frl_status}
 * (0 = OK); use {@code org.factrl.layers.Attention}, which validates arguments, owns no handles and
 * turns statuses into {@code FactRlException}s.
 *
 * <p>Optional tensors ({@code lse} in the forward, {@code dq}, {@code dk}, {@code dv}) may be
 * passed as {@code null}.
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
}

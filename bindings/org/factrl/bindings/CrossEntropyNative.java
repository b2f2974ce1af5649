package org.factrl.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.FactRlCore.frl_tensor;

/**
 * Raw JavaCPP binding of the masked cross-entropy's C API ({@code native/include/factrl/cross_entropy.h}).
 * Every function returns an {@code frl_status} (0 = OK); optional tensors may be {@code null}. Use
 * {@code org.factrl.layers.CrossEntropy}, which turns statuses into {@code FactRlException}s.
 */
@Platform(include = "factrl.h", link = "factrl")
public final class CrossEntropyNative {
  static {
    Loader.load();
  }

  private CrossEntropyNative() {}

  public static native int frl_cross_entropy_forward(frl_ctx ctx, @Const frl_tensor logits,
      @Const frl_tensor targets, @Const frl_tensor mask, frl_tensor loss, frl_tensor logp, frl_tensor lse);

  public static native int frl_cross_entropy_backward(frl_ctx ctx, @Const frl_tensor logits,
      @Const frl_tensor targets, @Const frl_tensor mask, @Const frl_tensor lse, float gradLoss, frl_tensor dlogits,
      int mode);
}

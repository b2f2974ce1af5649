package org.factrl.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.FactRlCore.frl_tensor;

/**
 * Raw JavaCPP binding of the ViT layers' C API ({@code native/include/factrl/layernorm.h},
 * {@code gelu.h}). Every function returns an {@code frl_status} (0 = OK); optional tensors may be
 * {@code null}. Use {@code org.factrl.layers.LayerNorm} and {@code Gelu}, which validate arguments
 * and turn statuses into {@code FactRlException}s.
 */
@Platform(include = "factrl.h", link = "factrl")
public final class VitLayersNative {
  static {
    Loader.load();
  }

  private VitLayersNative() {}

  public static native int frl_layernorm_forward(frl_ctx ctx, @Const frl_tensor x, @Const frl_tensor w,
      @Const frl_tensor b, float eps, frl_tensor y, frl_tensor mean, frl_tensor rstd);

  public static native int frl_layernorm_backward(frl_ctx ctx, @Const frl_tensor x, @Const frl_tensor w,
      @Const frl_tensor mean, @Const frl_tensor rstd, @Const frl_tensor dy, frl_tensor dx, frl_tensor dw,
      frl_tensor db, int dxMode, int dparamMode);

  public static native int frl_gelu_forward(frl_ctx ctx, @Const frl_tensor x, int approximation, frl_tensor y);

  public static native int frl_gelu_backward(frl_ctx ctx, @Const frl_tensor x, @Const frl_tensor dy,
      int approximation, frl_tensor dx, int mode);
}

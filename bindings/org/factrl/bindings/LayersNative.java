package org.factrl.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.FactRlCore.frl_tensor;

/**
 * Raw JavaCPP binding of the model layers' C API ({@code native/include/factrl/embedding.h},
 * {@code linear.h}, {@code rmsnorm.h}, {@code rope.h}, {@code swiglu.h}). Every function returns an
 * {@code frl_status} (0 = OK); optional tensors may be {@code null}. Use {@code org.factrl.layers},
 * which validates arguments and turns statuses into {@code FactRlException}s.
 */
@Platform(include = "factrl.h", link = "factrl")
public final class LayersNative {
  static {
    Loader.load();
  }

  private LayersNative() {}

  public static native int frl_embedding_forward(frl_ctx ctx, @Const frl_tensor ids, @Const frl_tensor table,
      frl_tensor out);

  public static native int frl_embedding_backward(frl_ctx ctx, @Const frl_tensor ids, @Const frl_tensor dout,
      frl_tensor dtable, int mode);

  public static native int frl_linear_forward(frl_ctx ctx, @Const frl_tensor x, @Const frl_tensor w,
      @Const frl_tensor b, frl_tensor y);

  public static native int frl_linear_backward(frl_ctx ctx, @Const frl_tensor x, @Const frl_tensor w,
      @Const frl_tensor dy, frl_tensor dx, frl_tensor dw, frl_tensor db, int dxMode, int dparamMode);

  public static native int frl_rmsnorm_forward(frl_ctx ctx, @Const frl_tensor x, @Const frl_tensor w, float eps,
      frl_tensor y, frl_tensor rstd);

  public static native int frl_rmsnorm_backward(frl_ctx ctx, @Const frl_tensor x, @Const frl_tensor w,
      @Const frl_tensor rstd, @Const frl_tensor dy, frl_tensor dx, frl_tensor dw, int dxMode, int dwMode);

  public static native int frl_rope(frl_ctx ctx, @Const frl_tensor x, @Const frl_tensor positions, float base,
      int inverse, frl_tensor y, int mode);

  public static native int frl_swiglu_forward(frl_ctx ctx, @Const frl_tensor a, @Const frl_tensor b,
      frl_tensor out);

  public static native int frl_swiglu_backward(frl_ctx ctx, @Const frl_tensor a, @Const frl_tensor b,
      @Const frl_tensor dout, frl_tensor da, frl_tensor db, int mode);
}

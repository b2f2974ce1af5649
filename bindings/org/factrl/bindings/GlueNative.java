package org.factrl.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.FactRlCore.frl_tensor;

/**
 * Raw JavaCPP binding of {@code native/include/factrl/glue.h}: add, axpy, scale, fill, cast and row
 * gather / scatter. Every function returns an {@code frl_status} (0 = OK). Use
 * {@code org.factrl.kernels.TensorOps}, which turns statuses into {@code FactRlException}s.
 */
@Platform(include = "factrl.h", link = "factrl")
public final class GlueNative {
  static {
    Loader.load();
  }

  private GlueNative() {}

  public static native int frl_add(frl_ctx ctx, @Const frl_tensor a, @Const frl_tensor b, frl_tensor y);

  public static native int frl_axpy(frl_ctx ctx, float alpha, @Const frl_tensor x, frl_tensor y);

  public static native int frl_scale(frl_ctx ctx, float alpha, @Const frl_tensor x, frl_tensor y);

  public static native int frl_fill(frl_ctx ctx, frl_tensor t, float value);

  public static native int frl_cast(frl_ctx ctx, @Const frl_tensor src, frl_tensor dst);

  public static native int frl_gather_rows(frl_ctx ctx, @Const frl_tensor src, @Const frl_tensor idx, frl_tensor dst);

  public static native int frl_scatter_rows(frl_ctx ctx, @Const frl_tensor src, @Const frl_tensor idx, frl_tensor dst,
      int mode);
}

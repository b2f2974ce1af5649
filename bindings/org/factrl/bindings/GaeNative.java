package org.factrl.bindings;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.FactRlCore.frl_tensor;

/**
 * Raw JavaCPP binding of {@code native/include/factrl/gae.h}: GAE over prefix-masked sequences and
 * masked whitening. Every function returns an {@code frl_status} (0 = OK). Use
 * {@code org.factrl.kernels.Gae}, which checks arguments and turns statuses into exceptions.
 */
@Platform(include = "factrl.h", link = "factrl")
public final class GaeNative {
  static {
    Loader.load();
  }

  private GaeNative() {}

  /** {@code frl_gae}: advantages and returns [B, T] from rewards, values, mask [B, T]. */
  public static native int frl_gae(frl_ctx ctx, @Const frl_tensor rewards, @Const frl_tensor values,
      @Const frl_tensor mask, float gamma, float lambda, frl_tensor advantages, frl_tensor returns);

  /**
   * {@code frl_masked_whiten}: out = (x - mean) / sqrt(var + eps) (+ mean unless shiftMean) at valid
   * positions, 0 elsewhere. outMean / outStd may be null.
   */
  public static native int frl_masked_whiten(frl_ctx ctx, @Const frl_tensor x, @Const frl_tensor mask,
      int shiftMean, float eps, frl_tensor out, FloatPointer outMean, FloatPointer outStd);
}

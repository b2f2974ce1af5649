package org.factrl.bindings;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.FactRlCore.frl_tensor;

/**
 * Raw JavaCPP binding of {@code native/include/factrl/optim.h}: the AdamW update and the fixed-order
 * sum of squares. Every function returns an {@code frl_status} (0 = OK). Use
 * {@code org.factrl.train.AdamW}, which checks arguments and turns statuses into exceptions.
 */
@Platform(include = "factrl.h", link = "factrl")
public final class OptimNative {
  static {
    Loader.load();
  }

  private OptimNative() {}

  public static final int FRL_SUMSQ_CHUNK = 4096;
  public static final int FRL_SUMSQ_LANES = 256;

  /** {@code frl_adamw_step}: one AdamW update of param, exp_avg, exp_avg_sq in place from grad. */
  public static native int frl_adamw_step(frl_ctx ctx, frl_tensor param, @Const frl_tensor grad,
      frl_tensor expAvg, frl_tensor expAvgSq, double lr, double beta1, double beta2, double eps,
      double weightDecay, long step, float gradScale);

  /** {@code frl_sum_squares}: out[0] = Σ x², fixed order (bitwise reproducible); a sync point on CUDA. */
  public static native int frl_sum_squares(frl_ctx ctx, @Const frl_tensor x, DoublePointer out);
}

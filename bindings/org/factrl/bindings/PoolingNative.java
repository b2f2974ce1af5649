package org.factrl.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.FactRlCore.frl_tensor;

/**
 * Raw JavaCPP binding of {@code native/include/factrl/pooling.h}: the reward head (pooled at the
 * last real token) and the per-token value head. Every function returns an {@code frl_status}
 * (0 = OK); use {@code org.factrl.kernels.RewardHead} / {@code ValueHead}, which validate
 * arguments, own no handles and turn statuses into {@code FactRlException}s.
 *
 * <p>Optional tensors ({@code mask}, {@code dh}, {@code dw}, {@code dbias}) may be passed as
 * {@code null}.
 */
@Platform(include = "factrl.h", link = "factrl")
public final class PoolingNative {
  static {
    Loader.load();
  }

  private PoolingNative() {}

  public static native int frl_reward_head_forward(frl_ctx ctx, @Const frl_tensor h, @Const frl_tensor endIndex,
      @Const frl_tensor w, @Const frl_tensor bias, frl_tensor scores);

  public static native int frl_reward_head_backward(frl_ctx ctx, @Const frl_tensor h, @Const frl_tensor endIndex,
      @Const frl_tensor w, @Const frl_tensor dscores, frl_tensor dh, frl_tensor dw, frl_tensor dbias,
      int dhMode, int dparamMode);

  public static native int frl_value_head_forward(frl_ctx ctx, @Const frl_tensor h, @Const frl_tensor mask,
      @Const frl_tensor w, @Const frl_tensor bias, frl_tensor values);

  public static native int frl_value_head_backward(frl_ctx ctx, @Const frl_tensor h, @Const frl_tensor mask,
      @Const frl_tensor w, @Const frl_tensor dvalues, frl_tensor dh, frl_tensor dw, frl_tensor dbias,
      int dhMode, int dparamMode);
}

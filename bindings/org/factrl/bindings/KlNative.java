package org.factrl.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.FactRlCore.frl_tensor;

/**
 * Raw JavaCPP binding of {@code native/include/factrl/kl.h}: per-token log-probabilities and KL.
 * Every function returns an {@code frl_status} (0 = OK); optional tensors are passed as {@code null}.
 * Use {@code org.factrl.kernels.TokenLogProbs}, which checks arguments and turns statuses into
 * {@code FactRlException}s.
 */
@Platform(include = "factrl.h", link = "factrl")
public final class KlNative {
  static {
    Loader.load();
  }

  private KlNative() {}

  public static native int frl_token_logprobs(frl_ctx ctx, @Const frl_tensor policyLogits, @Const frl_tensor refLogits,
      @Const frl_tensor actions, @Const frl_tensor mask, frl_tensor logpPolicy, frl_tensor logpRef,
      frl_tensor klK1, frl_tensor klK3, frl_tensor klFull, frl_tensor entropy, frl_tensor lsePolicy);

  public static native int frl_token_logprobs_backward(frl_ctx ctx, @Const frl_tensor policyLogits,
      @Const frl_tensor actions, @Const frl_tensor mask, @Const frl_tensor gradLogp, @Const frl_tensor lsePolicy,
      frl_tensor dlogits, int mode);
}

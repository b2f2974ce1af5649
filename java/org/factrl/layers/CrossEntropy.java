package org.factrl.layers;

import static org.factrl.engine.Native.check;
import static org.factrl.layers.Handles.optional;
import static org.factrl.layers.Handles.required;

import org.factrl.bindings.CrossEntropyNative;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;

/**
 * Next-token cross-entropy over assistant tokens only (SFT), on the per-token log-prob kernel
 * ({@link org.factrl.kernels.TokenLogProbs}) and its backward:
 *
 * <pre>
 *   logp[t] = z_t[a_t] − logsumexp(z_t)               loss = −(1/n) Σ_{t: mask[t] ≠ 0} logp[t]
 *   dlogits[t] (=|+=) gradLoss · (−mask[t]/n) · (onehot(a_t) − softmax(z_t))
 * </pre>
 *
 * n = the number of counted rows. This is {@code torch.nn.functional.cross_entropy} with mean
 * reduction and the masked rows' targets set to {@code ignore_index}, except that a batch with no
 * counted row gives loss 0 and a zero gradient (torch: NaN), so it cannot poison an accumulated step.
 *
 * <p>Tensors: logits {@code [T, V]} (F32 on the CPU; F32 or BF16 on CUDA), targets and mask
 * {@code [T]} I32 (mask null = every row counts; masked rows' targets are never read), loss
 * {@code [1]} F32 (stays on the device until read), logp and lse {@code [T]} F32 or null. A counted
 * target outside {@code [0, V)} raises a {@code FactRlException} naming the row. Stateless.
 */
public final class CrossEntropy {
  private CrossEntropy() {}

  /** loss (and optionally per-row logp and logsumexp, the latter for {@link #backward}). */
  public static void forward(Tensor logits, Tensor targets, Tensor mask, Tensor loss, Tensor logp, Tensor lse) {
    Tensor z = Native.checkNotNull(logits, "logits");
    check(CrossEntropyNative.frl_cross_entropy_forward(z.device().handle(), z.handle("logits"),
        required(targets, "targets"), optional(mask, "mask"), required(loss, "loss"), optional(logp, "logp"),
        optional(lse, "lse")));
  }

  /**
   * dlogits (overwritten, masked rows 0; or added into, masked rows untouched) for upstream gradient
   * {@code gradLoss} (1 for a plain step, 1/k to average k micro-batches). lse may be null.
   */
  public static void backward(Tensor logits, Tensor targets, Tensor mask, Tensor lse, float gradLoss, Tensor dlogits,
      GradMode mode) {
    Tensor z = Native.checkNotNull(logits, "logits");
    Native.checkNotNull(mode, "mode");
    check(CrossEntropyNative.frl_cross_entropy_backward(z.device().handle(), z.handle("logits"),
        required(targets, "targets"), optional(mask, "mask"), optional(lse, "lse"), gradLoss,
        required(dlogits, "dlogits"), mode.flag()));
  }
}

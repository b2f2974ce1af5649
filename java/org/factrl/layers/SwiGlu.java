package org.factrl.layers;

import static org.factrl.engine.Native.check;
import static org.factrl.layers.Handles.optional;
import static org.factrl.layers.Handles.required;

import org.factrl.bindings.LayersNative;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;

/**
 * The gate of LLaMA's MLP, {@code down(silu(gate(x)) ∘ up(x))}: the elementwise middle on
 * {@code a = gate(x)} and {@code b = up(x)} (equal shapes; F32 on a CPU device, F32 or BF16 of one dtype on a CUDA device):
 *
 * <pre>
 *   out = a·σ(a) ∘ b          da = g ∘ b ∘ σ(a)·(1 + a·(1 − σ(a)))          db = g ∘ a·σ(a)
 * </pre>
 */
public final class SwiGlu {
  private SwiGlu() {}

  /** {@code out = silu(a) ∘ b}; out may be a or b. */
  public static void forward(Tensor a, Tensor b, Tensor out) {
    Tensor as = Native.checkNotNull(a, "a");
    check(LayersNative.frl_swiglu_forward(as.device().handle(), as.handle("a"), required(b, "b"),
        required(out, "out")));
  }

  /**
   * Gradients of {@link #forward} for {@code dOut}; da and db may be null (not computed), else
   * overwritten or added into per {@code mode}.
   */
  public static void backward(Tensor a, Tensor b, Tensor dOut, Tensor da, Tensor db, GradMode mode) {
    Tensor as = Native.checkNotNull(a, "a");
    Native.checkNotNull(mode, "mode");
    check(LayersNative.frl_swiglu_backward(as.device().handle(), as.handle("a"), required(b, "b"),
        required(dOut, "dout"), optional(da, "da"), optional(db, "db"), mode.flag()));
  }
}

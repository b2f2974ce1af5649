package org.factrl.layers;

import static org.factrl.engine.Native.check;
import static org.factrl.layers.Handles.required;

import org.factrl.bindings.VitLayersNative;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;

/**
 * GELU, the ViT MLP's activation, elementwise in one of two forms ({@link Approximation}):
 *
 * <pre>
 *   ERF:   y = ½ x (1 + erf(x/√2))                          y' = Φ(x) + x φ(x)
 *   TANH:  y = ½ x (1 + tanh u), u = √(2/π)(x + 0.044715 x³)
 *          y' = ½(1 + tanh u) + ½ x (1 − tanh² u) √(2/π)(1 + 3·0.044715 x²)
 * </pre>
 *
 * <p>Tensors are F32 on a CPU device; on a CUDA device F32 or BF16 (all of x's dtype; fp32 math).
 * Every tensor has x's shape. Immutable.
 */
public final class Gelu {
  /** Which GELU: PyTorch's {@code approximate='none'} (ERF) or {@code approximate='tanh'} (TANH). */
  public enum Approximation {
    /** The exact form x·Φ(x) (CLIP's ViT, {@code nn.GELU()}). */
    ERF,
    /** The tanh approximation ({@code gelu_pytorch_tanh}, GPT-2's). */
    TANH;

    /** FRL_GELU_ERF (0) or FRL_GELU_TANH (1) in {@code factrl/gelu.h}. */
    public int flag() {
      return this == TANH ? 1 : 0;
    }
  }

  private final Approximation approximation;

  private Gelu(Approximation approximation) {
    this.approximation = approximation;
  }

  public static Gelu of(Approximation approximation) {
    return new Gelu(Native.checkNotNull(approximation, "approximation"));
  }

  public Approximation approximation() {
    return approximation;
  }

  /** {@code y = gelu(x)}; y may be x (in place). */
  public void forward(Tensor x, Tensor y) {
    Tensor xs = Native.checkNotNull(x, "x");
    check(VitLayersNative.frl_gelu_forward(xs.device().handle(), xs.handle("x"), approximation.flag(),
        required(y, "y")));
  }

  /** {@code dx = dy ∘ gelu'(x)}, overwritten or added into per {@code mode}; dx may not be x or dy. */
  public void backward(Tensor x, Tensor dy, Tensor dx, GradMode mode) {
    Tensor xs = Native.checkNotNull(x, "x");
    Native.checkNotNull(mode, "mode");
    check(VitLayersNative.frl_gelu_backward(xs.device().handle(), xs.handle("x"), required(dy, "dy"),
        approximation.flag(), required(dx, "dx"), mode.flag()));
  }

  @Override
  public String toString() {
    return "Gelu[" + approximation + "]";
  }
}

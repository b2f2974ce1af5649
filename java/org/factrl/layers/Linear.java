package org.factrl.layers;

import static org.factrl.engine.Native.check;
import static org.factrl.layers.Handles.optional;
import static org.factrl.layers.Handles.required;

import org.factrl.bindings.LayersNative;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;

/**
 * A dense linear layer that trains its weight (the projector, the vision encoder's layers, full
 * fine-tuning); a frozen weight with a LoRA adapter is {@link org.factrl.kernels.LoraMatmul}.
 *
 * <pre>
 *   y = x Wᵀ + b        dx = g W        dW = gᵀ x        db = Σ_n g[n]
 * </pre>
 *
 * <p>{@code x [..., K]}, {@code W [M, K]} (nn.Linear layout), {@code b [M]} or none, {@code y [..., M]};
 * F32 on a CPU device; on a CUDA device F32 or BF16 (all of x's dtype; fp32 accumulation). Immutable; the tensors stay owned by the caller.
 *
 * <p>Views: {@code x}, {@code W}, {@code y}, {@code dy}, {@code dx} and {@code dW} may be
 * row-contiguous views — e.g. {@code buffer.narrow(1, offset, width)}, a column slice of a wider
 * buffer (q/k/v written side by side) — read in place by the GEMMs; {@code b} and {@code db} must be
 * contiguous. Other views throw {@link org.factrl.engine.FactRlException} naming the argument, and
 * an output that overlaps an input or another output in the same storage is rejected.
 */
public final class Linear {
  private final Tensor weight;
  private final Tensor bias;

  private Linear(Tensor weight, Tensor bias) {
    this.weight = weight;
    this.bias = bias;
  }

  /** A layer over {@code weight [M, K]} and {@code bias [M]}, or {@code bias == null} for none. */
  public static Linear of(Tensor weight, Tensor bias) {
    Native.checkNotNull(weight, "weight");
    Native.checkArgument(weight.ndim() == 2, "weight", "must be 2-D [M, K], got %d dimensions", weight.ndim());
    if (bias != null) {
      Native.checkArgument(bias.ndim() == 1 && bias.dim(0) == weight.dim(0), "bias",
          "must be [%d] (the weight's M), got %d dimensions", weight.dim(0), bias.ndim());
    }
    return new Linear(weight, bias);
  }

  public Tensor weight() {
    return weight;
  }

  /** The bias, or null when the layer has none. */
  public Tensor bias() {
    return bias;
  }

  public void forward(Tensor x, Tensor y) {
    check(LayersNative.frl_linear_forward(weight.device().handle(), required(x, "x"), weight.handle("weight"),
        optional(bias, "bias"), required(y, "y")));
  }

  /**
   * dx, dWeight and dBias may each be null (not computed); {@code mode} says whether all three are
   * overwritten or added into. dBias must be null when the layer has no bias.
   */
  public void backward(Tensor x, Tensor dy, Tensor dx, Tensor dWeight, Tensor dBias, GradMode mode) {
    Native.checkNotNull(mode, "mode");
    backward(x, dy, dx, mode, dWeight, dBias, mode);
  }

  /**
   * As {@link #backward(Tensor, Tensor, Tensor, Tensor, Tensor, GradMode)} with one mode for dx and
   * one for the parameter gradients (dWeight and dBias): q/k/v or gate/up projections add their dx
   * into one buffer ({@link GradMode#ACCUMULATE} after the first), while weight gradients are
   * overwritten on a step's first micro-batch and accumulated on the others.
   */
  public void backward(Tensor x, Tensor dy, Tensor dx, GradMode dxMode, Tensor dWeight, Tensor dBias,
      GradMode paramMode) {
    Native.checkNotNull(dxMode, "dxMode");
    Native.checkNotNull(paramMode, "paramMode");
    Native.checkArgument(dBias == null || bias != null, "dBias", "given, but the layer has no bias");
    check(LayersNative.frl_linear_backward(weight.device().handle(), required(x, "x"), weight.handle("weight"),
        required(dy, "dy"), optional(dx, "dx"), optional(dWeight, "dWeight"), optional(dBias, "dBias"),
        dxMode.flag(), paramMode.flag()));
  }

  @Override
  public String toString() {
    return "Linear[" + weight.dim(1) + " -> " + weight.dim(0) + (bias == null ? ", no bias]" : "]");
  }
}

package org.factrl.layers;

import static org.factrl.engine.Native.check;
import static org.factrl.layers.Handles.optional;
import static org.factrl.layers.Handles.required;

import org.factrl.bindings.LayersNative;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;

/**
 * RMSNorm, LLaMA's pre-norm, over the last dimension of {@code x [..., d]}:
 *
 * <pre>
 *   rstd[n] = 1 / sqrt(mean_j x[n,j]² + eps)        y[n,j] = x[n,j] · rstd[n] · w[j]
 * </pre>
 *
 * <p>Tensors are F32 on a CPU device; on a CUDA device F32 or BF16 (all of x's dtype; fp32 math;
 * rstd F32). {@code rstd [N]} (N = numel / d) is saved by the
 * forward for the backward. Shape, dtype and device errors name the argument. Instances are
 * immutable; the weight tensor stays owned by the caller.
 */
public final class RmsNorm {
  /** LLaMA's default epsilon. */
  public static final float DEFAULT_EPS = 1e-6f;

  private final Tensor weight;
  private final float eps;

  private RmsNorm(Tensor weight, float eps) {
    this.weight = weight;
    this.eps = eps;
  }

  /** A norm with gain {@code weight [d]} and {@code eps} (finite, > 0). */
  public static RmsNorm of(Tensor weight, float eps) {
    Native.checkNotNull(weight, "weight");
    Native.checkArgument(weight.ndim() == 1, "weight", "must be 1-D [d], got %d dimensions", weight.ndim());
    Native.checkArgument(Float.isFinite(eps) && eps > 0, "eps", "must be finite and > 0, got %s", eps);
    return new RmsNorm(weight, eps);
  }

  public Tensor weight() {
    return weight;
  }

  public float eps() {
    return eps;
  }

  /** {@code y = rmsnorm(x)} (y may be x); {@code rstd [N]} receives 1/rms per row, or is null (inference). */
  public void forward(Tensor x, Tensor y, Tensor rstd) {
    Tensor xs = Native.checkNotNull(x, "x");
    check(LayersNative.frl_rmsnorm_forward(xs.device().handle(), xs.handle("x"), weight.handle("weight"), eps,
        required(y, "y"), optional(rstd, "rstd")));
  }

  /**
   * Backward with {@code g = dy}, {@code xhat = x · rstd}: {@code dx = rstd·(g∘w − xhat·mean(g∘w∘xhat))},
   * {@code dw = Σ_n g∘xhat}. dx and dw may be null (not computed); {@code mode} says whether both
   * are overwritten or added into. dw is summed in a fixed order (reproducible).
   */
  public void backward(Tensor x, Tensor rstd, Tensor dy, Tensor dx, Tensor dWeight, GradMode mode) {
    Native.checkNotNull(mode, "mode");
    backward(x, rstd, dy, dx, mode, dWeight, mode);
  }

  /**
   * As {@link #backward(Tensor, Tensor, Tensor, Tensor, Tensor, GradMode)}, with a mode per output:
   * typically dx {@link GradMode#ACCUMULATE}s into the residual stream's gradient while dWeight is
   * overwritten on a step's first micro-batch and accumulated on the others.
   */
  public void backward(Tensor x, Tensor rstd, Tensor dy, Tensor dx, GradMode dxMode, Tensor dWeight,
      GradMode dWeightMode) {
    Tensor xs = Native.checkNotNull(x, "x");
    Native.checkNotNull(dxMode, "dxMode");
    Native.checkNotNull(dWeightMode, "dWeightMode");
    check(LayersNative.frl_rmsnorm_backward(xs.device().handle(), xs.handle("x"), weight.handle("weight"),
        required(rstd, "rstd"), required(dy, "dy"), optional(dx, "dx"), optional(dWeight, "dWeight"), dxMode.flag(),
        dWeightMode.flag()));
  }

  @Override
  public String toString() {
    return "RmsNorm[d=" + weight.dim(0) + ", eps=" + eps + "]";
  }
}

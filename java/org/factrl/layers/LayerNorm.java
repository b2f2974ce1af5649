package org.factrl.layers;

import static org.factrl.engine.Native.check;
import static org.factrl.layers.Handles.optional;
import static org.factrl.layers.Handles.required;

import org.factrl.bindings.VitLayersNative;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;

/**
 * LayerNorm, the ViT's norm, over the last dimension of {@code x [..., d]}:
 *
 * <pre>
 *   mean[n] = mean_j x[n,j]      rstd[n] = 1 / sqrt(mean_j (x[n,j] − mean[n])² + eps)
 *   y[n,j]  = (x[n,j] − mean[n]) · rstd[n] · w[j] + b[j]
 * </pre>
 *
 * <p>Tensors are F32 on a CPU device; on a CUDA device F32 or BF16 (all of x's dtype; fp32 math).
 * {@code mean [N]} and {@code rstd [N]} (N = numel / d, F32 on both) are saved by the forward for
 * the backward. Shape, dtype and device errors name the argument. Instances are immutable; the
 * weight and bias tensors stay owned by the caller.
 */
public final class LayerNorm {
  /** PyTorch's {@code nn.LayerNorm} default (CLIP's ViT uses 1e-5 too). */
  public static final float DEFAULT_EPS = 1e-5f;

  private final Tensor weight;
  private final Tensor bias;
  private final float eps;

  private LayerNorm(Tensor weight, Tensor bias, float eps) {
    this.weight = weight;
    this.bias = bias;
    this.eps = eps;
  }

  /** A norm with gain {@code weight [d]}, {@code bias [d]} and {@code eps} (finite, > 0). */
  public static LayerNorm of(Tensor weight, Tensor bias, float eps) {
    Native.checkNotNull(weight, "weight");
    Native.checkNotNull(bias, "bias");
    Native.checkArgument(weight.ndim() == 1, "weight", "must be 1-D [d], got %d dimensions", weight.ndim());
    Native.checkArgument(bias.ndim() == 1 && bias.dim(0) == weight.dim(0), "bias",
        "must be 1-D [%d] like 'weight', got %d dimensions", weight.dim(0), bias.ndim());
    Native.checkArgument(Float.isFinite(eps) && eps > 0, "eps", "must be finite and > 0, got %s", eps);
    return new LayerNorm(weight, bias, eps);
  }

  public Tensor weight() {
    return weight;
  }

  public Tensor bias() {
    return bias;
  }

  public float eps() {
    return eps;
  }

  /**
   * {@code y = layernorm(x)} (y may be x); {@code mean [N]} and {@code rstd [N]} receive each row's
   * statistics for the backward, or are null (inference).
   */
  public void forward(Tensor x, Tensor y, Tensor mean, Tensor rstd) {
    Tensor xs = Native.checkNotNull(x, "x");
    check(VitLayersNative.frl_layernorm_forward(xs.device().handle(), xs.handle("x"), weight.handle("weight"),
        bias.handle("bias"), eps, required(y, "y"), optional(mean, "mean"), optional(rstd, "rstd")));
  }

  /**
   * Backward with {@code g = dy}, {@code gw = g∘w}, {@code xhat = (x − mean)·rstd}:
   * {@code dx = rstd·(gw − mean(gw) − xhat·mean(gw∘xhat))}, {@code dw = Σ_n g∘xhat},
   * {@code db = Σ_n g}. dx, dWeight and dBias may be null (not computed); {@code mode} says whether
   * all are overwritten or added into. dw and db are summed in a fixed order (reproducible).
   */
  public void backward(Tensor x, Tensor mean, Tensor rstd, Tensor dy, Tensor dx, Tensor dWeight, Tensor dBias,
      GradMode mode) {
    Native.checkNotNull(mode, "mode");
    backward(x, mean, rstd, dy, dx, mode, dWeight, dBias, mode);
  }

  /**
   * As {@link #backward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, GradMode)}, with one
   * mode for dx and one for the parameters: typically dx {@link GradMode#ACCUMULATE}s into the
   * residual stream's gradient while dWeight and dBias are overwritten on a step's first
   * micro-batch and accumulated on the others.
   */
  public void backward(Tensor x, Tensor mean, Tensor rstd, Tensor dy, Tensor dx, GradMode dxMode, Tensor dWeight,
      Tensor dBias, GradMode paramMode) {
    Tensor xs = Native.checkNotNull(x, "x");
    Native.checkNotNull(dxMode, "dxMode");
    Native.checkNotNull(paramMode, "paramMode");
    check(VitLayersNative.frl_layernorm_backward(xs.device().handle(), xs.handle("x"), weight.handle("weight"),
        required(mean, "mean"), required(rstd, "rstd"), required(dy, "dy"), optional(dx, "dx"),
        optional(dWeight, "dWeight"), optional(dBias, "dBias"), dxMode.flag(), paramMode.flag()));
  }

  @Override
  public String toString() {
    return "LayerNorm[d=" + weight.dim(0) + ", eps=" + eps + "]";
  }
}

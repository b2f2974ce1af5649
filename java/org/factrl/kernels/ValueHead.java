package org.factrl.kernels;

import static org.factrl.engine.Native.check;
import static org.factrl.kernels.RewardHead.checkGradients;
import static org.factrl.kernels.RewardHead.checkHidden;
import static org.factrl.kernels.RewardHead.checkTensor;
import static org.factrl.kernels.RewardHead.handleOrNull;

import org.factrl.bindings.PoolingNative;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;

/**
 * The PPO value model's per-token head: a linear map {@code d -> 1} applied at every position
 * (DESIGN.md §3).
 *
 * <pre>
 *   values[b, t] = w · h[b, t, :] + c      where mask[b, t] != 0 (or no mask)
 *   values[b, t] = 0                       where mask[b, t] == 0
 * </pre>
 *
 * <p>Layouts and types:
 * <ul>
 *   <li>{@code hidden} h: {@code [B, S, d]}, row-major (d contiguous). F32 on the CPU; F32 or BF16
 *       (storage, fp32 arithmetic) on CUDA.
 *   <li>{@code mask}: {@code [B, S]} I32, nonzero = valid token, or {@code null} = all valid. A
 *       masked position gets value 0, its {@code dValues} entry is ignored and it contributes no
 *       gradient.
 *   <li>{@link #weight()} w: {@code [d]} F32; {@link #bias()} c: {@code [1]} F32.
 *   <li>values, dValues: {@code [B, S]} F32. Gradients dWeight {@code [d]}, dBias {@code [1]} F32;
 *       dHidden {@code [B, S, d]} with the dtype rules of hidden.
 * </ul>
 *
 * <p>All tensors must live on one {@link Device}. Instances are immutable and hold no native
 * resources: the weight and bias tensors stay owned by the caller.
 */
public final class ValueHead {
  private final Tensor weight;
  private final Tensor bias;

  private ValueHead(Tensor weight, Tensor bias) {
    this.weight = weight;
    this.bias = bias;
  }

  /**
   * A head over {@code weight} {@code [d]} and {@code bias} {@code [1]}, both F32 on one device.
   *
   * @throws FactRlException naming the argument when a tensor is null, misshapen, of another dtype
   *     or on another device
   */
  public static ValueHead of(Tensor weight, Tensor bias) {
    RewardHead.checkHeadParameters(weight, bias);
    return new ValueHead(weight, bias);
  }

  /** The weight w {@code [d]}. */
  public Tensor weight() {
    return weight;
  }

  /** The bias c {@code [1]}. */
  public Tensor bias() {
    return bias;
  }

  /** The hidden width d. */
  public long width() {
    return weight.dim(0);
  }

  /** Computes the values into {@code values} {@code [B, S]} F32 (overwritten); mask may be null. */
  public void forward(Tensor hidden, Tensor mask, Tensor values) {
    long[] bsd = checkHidden(hidden, "hidden", weight);
    checkMask(mask, hidden, bsd);
    checkTensor(values, "values", hidden.device(), DType.F32, bsd[0], bsd[1]);
    check(PoolingNative.frl_value_head_forward(hidden.device().handle(), hidden.handle("hidden"),
        handleOrNull(mask, "mask"), weight.handle("weight"), bias.handle("bias"), values.handle("values")));
  }

  /** Computes the values into a new {@code [B, S]} F32 tensor on hidden's device (caller closes it). */
  public Tensor forward(Tensor hidden, Tensor mask) {
    long[] bsd = checkHidden(hidden, "hidden", weight);
    Tensor values = hidden.device().zeros(DType.F32, bsd[0], bsd[1]);
    try {
      forward(hidden, mask, values);
    } catch (RuntimeException e) {
      values.close();
      throw e;
    }
    return values;
  }

  /**
   * Backward of {@link #forward}: with {@code g = dValues} and only valid (unmasked) positions,
   *
   * <pre>
   *   dHidden[b, t, :] (+)= g[b, t] · w
   *   dWeight          (+)= Σ_{b,t} g[b, t] · h[b, t, :]
   *   dBias            (+)= Σ_{b,t} g[b, t]
   * </pre>
   *
   * <p>Each output may be {@code null} (not computed). With {@link GradMode#OVERWRITE} the outputs
   * are overwritten and dHidden is zero at masked positions; with {@link GradMode#ACCUMULATE} the
   * gradients are added to what the outputs hold and masked positions of dHidden are left
   * untouched. dWeight and dBias are summed in a fixed order (reproducible).
   */
  public void backward(Tensor hidden, Tensor mask, Tensor dValues, Tensor dHidden, Tensor dWeight, Tensor dBias,
      GradMode mode) {
    Native.checkNotNull(mode, "mode");
    backward(hidden, mask, dValues, dHidden, mode, dWeight, dBias, mode);
  }

  /**
   * As {@link #backward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, GradMode)} with one mode for
   * dHidden (a decoder gradient the policy loss may also add to) and one for the head's parameter
   * gradients dWeight and dBias (summed over micro-batches).
   */
  public void backward(Tensor hidden, Tensor mask, Tensor dValues, Tensor dHidden, GradMode dHiddenMode,
      Tensor dWeight, Tensor dBias, GradMode paramMode) {
    long[] bsd = checkHidden(hidden, "hidden", weight);
    checkMask(mask, hidden, bsd);
    checkTensor(dValues, "dValues", hidden.device(), DType.F32, bsd[0], bsd[1]);
    checkGradients(hidden, bsd, dHidden, dWeight, dBias);
    Native.checkNotNull(dHiddenMode, "dHiddenMode");
    Native.checkNotNull(paramMode, "paramMode");
    check(PoolingNative.frl_value_head_backward(hidden.device().handle(), hidden.handle("hidden"),
        handleOrNull(mask, "mask"), weight.handle("weight"), dValues.handle("dValues"),
        handleOrNull(dHidden, "dHidden"), handleOrNull(dWeight, "dWeight"), handleOrNull(dBias, "dBias"),
        dHiddenMode.flag(), paramMode.flag()));
  }

  private static void checkMask(Tensor mask, Tensor hidden, long[] bsd) {
    if (mask != null) {
      checkTensor(mask, "mask", hidden.device(), DType.I32, bsd[0], bsd[1]);
    }
  }

  @Override
  public String toString() {
    return "ValueHead[d=" + width() + " on " + weight.device() + "]";
  }
}

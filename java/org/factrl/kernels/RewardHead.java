package org.factrl.kernels;

import static org.factrl.engine.Native.check;

import java.util.Arrays;
import org.factrl.bindings.FactRlCore.frl_tensor;
import org.factrl.bindings.PoolingNative;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;

/**
 * The reward model's scalar head: a linear map {@code d -> 1} read at the last real token of each
 * sequence (DESIGN.md §3, "reward-head pooling").
 *
 * <pre>
 *   score[b] = w · h[b, e[b], :] + c
 * </pre>
 *
 * <p>Layouts and types:
 * <ul>
 *   <li>{@code hidden} h: {@code [B, S, d]}, row-major (d contiguous), the final hidden states after
 *       the final norm. F32 on the CPU; F32 or BF16 (storage, fp32 arithmetic) on CUDA.
 *   <li>{@code endIndex} e: {@code [B]} I32, the position of the last real token of row b, in
 *       {@code [0, S)}. <b>{@code -1} marks an empty (all-padding) row</b>: its score is 0 (not the
 *       bias) and it contributes no gradient anywhere. Any other value outside {@code [0, S)} is
 *       rejected with a {@link FactRlException} naming {@code end_index} and the row (on CUDA the
 *       indices are checked on the device, with no host sync: the error is raised at the next
 *       {@link org.factrl.engine.Device#synchronize()} or host read). See
 *       {@link #endIndexFromLengths(int...)} for right-padded batches.
 *   <li>{@link #weight()} w: {@code [d]} F32; {@link #bias()} c: {@code [1]} F32 (trainable).
 *   <li>scores, dScores: {@code [B]} F32. Gradients dWeight {@code [d]}, dBias {@code [1]} F32;
 *       dHidden {@code [B, S, d]} with the dtype rules of hidden.
 * </ul>
 *
 * <p>All tensors must live on one {@link Device}. Instances are immutable and hold no native
 * resources: the weight and bias tensors stay owned by the caller.
 */
public final class RewardHead {
  private final Tensor weight;
  private final Tensor bias;

  private RewardHead(Tensor weight, Tensor bias) {
    this.weight = weight;
    this.bias = bias;
  }

  /**
   * A head over {@code weight} {@code [d]} and {@code bias} {@code [1]}, both F32 on one device.
   *
   * @throws FactRlException naming the argument when a tensor is null, misshapen, of another dtype
   *     or on another device
   */
  public static RewardHead of(Tensor weight, Tensor bias) {
    checkHeadParameters(weight, bias);
    return new RewardHead(weight, bias);
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

  /**
   * End indices for a right-padded batch: {@code lengths[b] - 1}, or {@code -1} (empty row) where
   * {@code lengths[b] == 0}.
   */
  public static int[] endIndexFromLengths(int... lengths) {
    Native.checkNotNull(lengths, "lengths");
    int[] out = new int[lengths.length];
    for (int b = 0; b < lengths.length; b++) {
      Native.checkArgument(lengths[b] >= 0, "lengths", "lengths[%d] is negative (%d)", b, lengths[b]);
      out[b] = lengths[b] - 1;
    }
    return out;
  }

  /** Computes {@code scores[b]} into {@code scores} {@code [B]} F32 (overwritten). */
  public void forward(Tensor hidden, Tensor endIndex, Tensor scores) {
    long[] bsd = checkHidden(hidden, "hidden", weight);
    checkEndIndex(endIndex, hidden, bsd[0]);
    checkTensor(scores, "scores", hidden.device(), DType.F32, bsd[0]);
    check(PoolingNative.frl_reward_head_forward(hidden.device().handle(), hidden.handle("hidden"),
        endIndex.handle("endIndex"), weight.handle("weight"), bias.handle("bias"), scores.handle("scores")));
  }

  /** Computes the scores into a new {@code [B]} F32 tensor on hidden's device (caller closes it). */
  public Tensor forward(Tensor hidden, Tensor endIndex) {
    long[] bsd = checkHidden(hidden, "hidden", weight);
    Tensor scores = hidden.device().zeros(DType.F32, bsd[0]);
    try {
      forward(hidden, endIndex, scores);
    } catch (RuntimeException e) {
      scores.close();
      throw e;
    }
    return scores;
  }

  /**
   * Backward of {@link #forward}: with {@code g = dScores} and only non-empty rows,
   *
   * <pre>
   *   dHidden[b, e[b], :] (+)= g[b] · w
   *   dWeight            (+)= Σ_b g[b] · h[b, e[b], :]
   *   dBias              (+)= Σ_b g[b]
   * </pre>
   *
   * <p>Each output may be {@code null} (not computed). With {@link GradMode#OVERWRITE} the outputs
   * are overwritten, and dHidden is zero at every position but the pooled ones; with
   * {@link GradMode#ACCUMULATE} the gradients are added to what the outputs hold and other positions
   * of dHidden are left untouched. dWeight and dBias are summed in a fixed order (reproducible).
   */
  public void backward(Tensor hidden, Tensor endIndex, Tensor dScores, Tensor dHidden, Tensor dWeight,
      Tensor dBias, GradMode mode) {
    Native.checkNotNull(mode, "mode");
    backward(hidden, endIndex, dScores, dHidden, mode, dWeight, dBias, mode);
  }

  /**
   * As {@link #backward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, GradMode)} with one mode for
   * dHidden (a decoder gradient other losses may also add to) and one for the head's parameter
   * gradients dWeight and dBias (summed over micro-batches).
   */
  public void backward(Tensor hidden, Tensor endIndex, Tensor dScores, Tensor dHidden, GradMode dHiddenMode,
      Tensor dWeight, Tensor dBias, GradMode paramMode) {
    long[] bsd = checkHidden(hidden, "hidden", weight);
    checkEndIndex(endIndex, hidden, bsd[0]);
    checkTensor(dScores, "dScores", hidden.device(), DType.F32, bsd[0]);
    checkGradients(hidden, bsd, dHidden, dWeight, dBias);
    Native.checkNotNull(dHiddenMode, "dHiddenMode");
    Native.checkNotNull(paramMode, "paramMode");
    check(PoolingNative.frl_reward_head_backward(hidden.device().handle(), hidden.handle("hidden"),
        endIndex.handle("endIndex"), weight.handle("weight"), dScores.handle("dScores"),
        handleOrNull(dHidden, "dHidden"), handleOrNull(dWeight, "dWeight"), handleOrNull(dBias, "dBias"),
        dHiddenMode.flag(), paramMode.flag()));
  }

  @Override
  public String toString() {
    return "RewardHead[d=" + width() + " on " + weight.device() + "]";
  }

  // ---- checks shared with ValueHead ---------------------------------------------------------------

  static void checkHeadParameters(Tensor weight, Tensor bias) {
    Native.checkNotNull(weight, "weight");
    Native.checkNotNull(bias, "bias");
    Native.checkArgument(weight.ndim() == 1, "weight", "must be 1-D [d], got shape %s",
        Arrays.toString(weight.shape()));
    Native.checkArgument(weight.dtype() == DType.F32, "weight", "must be F32, got %s", weight.dtype());
    checkTensor(bias, "bias", weight.device(), DType.F32, 1);
  }

  /** hidden is non-null, 3-D [B, S, d] with d == the weight's width, F32 or BF16, on the weight's device. */
  static long[] checkHidden(Tensor hidden, String name, Tensor weight) {
    Native.checkNotNull(hidden, name);
    Native.checkArgument(hidden.device() == weight.device(), name, "is on device %s, the head's weight on %s",
        hidden.device(), weight.device());
    long width = weight.dim(0);
    Native.checkArgument(hidden.ndim() == 3, name, "must be 3-D [B, S, d], got shape %s",
        Arrays.toString(hidden.shape()));
    Native.checkArgument(hidden.dtype() != DType.I32, name, "must be F32 or BF16, got %s", hidden.dtype());
    Native.checkArgument(hidden.dim(2) == width, name, "has width d = %d, the head's weight has %d",
        hidden.dim(2), width);
    return hidden.shape();
  }

  private static void checkEndIndex(Tensor endIndex, Tensor hidden, long batch) {
    checkTensor(endIndex, "endIndex", hidden.device(), DType.I32, batch);
  }

  /** Non-null, on device, of the dtype (null = F32 or BF16) and exact shape. */
  static void checkTensor(Tensor t, String name, Device device, DType dtype, long... shape) {
    Native.checkNotNull(t, name);
    Native.checkArgument(t.device() == device, name, "is on device %s, expected %s", t.device(), device);
    Native.checkArgument(Arrays.equals(t.shape(), shape), name, "has shape %s, expected %s",
        Arrays.toString(t.shape()), Arrays.toString(shape));
    if (dtype != null) {
      Native.checkArgument(t.dtype() == dtype, name, "must be %s, got %s", dtype, t.dtype());
    } else {
      Native.checkArgument(t.dtype() != DType.I32, name, "must be F32 or BF16, got %s", t.dtype());
    }
  }

  static void checkGradients(Tensor hidden, long[] bsd, Tensor dHidden, Tensor dWeight, Tensor dBias) {
    Device device = hidden.device();
    if (dHidden != null) {
      checkTensor(dHidden, "dHidden", device, null, bsd);
    }
    if (dWeight != null) {
      checkTensor(dWeight, "dWeight", device, DType.F32, bsd[2]);
    }
    if (dBias != null) {
      checkTensor(dBias, "dBias", device, DType.F32, 1);
    }
  }

  static frl_tensor handleOrNull(Tensor t, String name) {
    return Native.handleOrNull(t, name);
  }
}

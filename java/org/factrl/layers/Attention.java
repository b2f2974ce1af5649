package org.factrl.layers;

import static org.factrl.engine.Native.check;

import java.util.Arrays;
import org.factrl.bindings.AttentionNative;
import org.factrl.bindings.FactRlCore.frl_tensor;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;

/**
 * Multi-head scaled dot-product self-attention, forward and backward (DESIGN.md §2): causal in the
 * LLaMA decoder, bidirectional in the ViT encoder.
 *
 * <p>For each batch row b, head h and query position i, over the keys j that query i sees
 * (j &le; i when causal, every j otherwise):
 *
 * <pre>
 *   s[i,j]   = scale · q[b,i,h,:] · k[b,j,h,:]
 *   lse[b,h,i] = log Σ_j exp(s[i,j])
 *   P[i,j]   = exp(s[i,j] − lse[b,h,i])            (softmax over the visible keys)
 *   out[b,i,h,:] = Σ_j P[i,j] · v[b,j,h,:]
 * </pre>
 *
 * <p>Layouts and types (every tensor F32, row-major, on one {@link Device}):
 * <ul>
 *   <li>{@code q}, {@code k}, {@code v}, {@code out}, {@code dOut} and the gradients: {@code [B, S, H, D]},
 *       D contiguous: the {@code [B·S, H·D]} outputs of the q / k / v projections seen as 4-D.
 *   <li>{@code lse}: {@code [B, H, S]}, the log-sum-exp of each query's scaled, masked scores, saved
 *       by the forward so that the backward can recompute P without storing it (flash-attention
 *       style).
 * </ul>
 *
 * <p>The forward subtracts each row's maximum score before exponentiating: large scores give
 * neither overflow nor NaN. Sizes may be 0. Results are bitwise reproducible from call to call.
 * Runs on the CPU and on CUDA (F32 from Java; the C API also takes BF16 on CUDA).
 *
 * <p>Instances are immutable values (mask kind and scale) and hold no native resources.
 */
public final class Attention {
  private final boolean causal;
  private final float scale;

  private Attention(boolean causal, float scale) {
    this.causal = causal;
    this.scale = scale;
  }

  /**
   * Causal attention (query i sees keys j &le; i) with the usual scale {@code 1/sqrt(headDim)}.
   *
   * @throws FactRlException naming {@code headDim} when it is not positive
   */
  public static Attention causal(int headDim) {
    return new Attention(true, defaultScale(headDim));
  }

  /**
   * Bidirectional attention (every query sees every key) with the usual scale
   * {@code 1/sqrt(headDim)}.
   *
   * @throws FactRlException naming {@code headDim} when it is not positive
   */
  public static Attention bidirectional(int headDim) {
    return new Attention(false, defaultScale(headDim));
  }

  /**
   * Attention with an explicit score scale.
   *
   * @throws FactRlException naming {@code scale} when it is not finite and positive
   */
  public static Attention of(boolean causal, float scale) {
    Native.checkArgument(Float.isFinite(scale) && scale > 0f, "scale", "must be finite and > 0, got %s", scale);
    return new Attention(causal, scale);
  }

  private static float defaultScale(int headDim) {
    Native.checkArgument(headDim > 0, "headDim", "must be positive, got %d", headDim);
    return (float) (1.0 / Math.sqrt(headDim));
  }

  /** Whether query i sees only keys j &le; i. */
  public boolean isCausal() {
    return causal;
  }

  /** The factor applied to every score {@code q · k}. */
  public float scale() {
    return scale;
  }

  /**
   * Computes {@code out} and, unless {@code lse} is null, the log-sum-exp the backward needs. Both
   * are overwritten.
   *
   * @param q queries {@code [B, S, H, D]}
   * @param k keys {@code [B, S, H, D]}
   * @param v values {@code [B, S, H, D]}
   * @param out the output {@code [B, S, H, D]}
   * @param lse {@code [B, H, S]}, or null when no backward follows (inference)
   * @throws FactRlException naming the argument when a tensor is null (other than lse), misshapen,
   *     not F32 or on another device
   */
  public void forward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse) {
    long[] bshd = checkQuery(q);
    Device device = q.device();
    checkTensor(k, "k", device, bshd);
    checkTensor(v, "v", device, bshd);
    checkTensor(out, "out", device, bshd);
    if (lse != null) {
      checkTensor(lse, "lse", device, lseShape(bshd));
    }
    check(AttentionNative.frl_attention_forward(device.handle(), q.handle("q"), k.handle("k"), v.handle("v"), flag(),
        scale, out.handle("out"), handleOrNull(lse, "lse")));
  }

  /**
   * Backward of {@link #forward}, called with the same q, k, v, the forward's {@code out} and
   * {@code lse}, and the upstream gradient {@code dOut}. Recomputing P from q, k and lse:
   *
   * <pre>
   *   dV = Pᵀ dO
   *   dP = dO Vᵀ
   *   dS = P ∘ (dP − rowsum(dO ∘ O))
   *   dQ = scale · dS K
   *   dK = scale · dSᵀ Q
   * </pre>
   *
   * <p>Each of {@code dq}, {@code dk}, {@code dv} ({@code [B, S, H, D]}) may be null (not
   * computed); the others are overwritten ({@link GradMode#OVERWRITE}) or added into
   * ({@link GradMode#ACCUMULATE}).
   *
   * @throws FactRlException naming the argument when a tensor is null (other than the gradients),
   *     misshapen, not F32 or on another device
   */
  public void backward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut, Tensor dq, Tensor dk,
      Tensor dv, GradMode mode) {
    Native.checkNotNull(mode, "mode");
    long[] bshd = checkQuery(q);
    Device device = q.device();
    checkTensor(k, "k", device, bshd);
    checkTensor(v, "v", device, bshd);
    checkTensor(out, "out", device, bshd);
    checkTensor(lse, "lse", device, lseShape(bshd));
    checkTensor(dOut, "dOut", device, bshd);
    if (dq != null) {
      checkTensor(dq, "dq", device, bshd);
    }
    if (dk != null) {
      checkTensor(dk, "dk", device, bshd);
    }
    if (dv != null) {
      checkTensor(dv, "dv", device, bshd);
    }
    check(AttentionNative.frl_attention_backward(device.handle(), q.handle("q"), k.handle("k"), v.handle("v"),
        out.handle("out"), lse.handle("lse"), dOut.handle("dOut"), flag(), scale, handleOrNull(dq, "dq"),
        handleOrNull(dk, "dk"), handleOrNull(dv, "dv"), mode.flag()));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Attention that && causal == that.causal && Float.compare(scale, that.scale) == 0;
  }

  @Override
  public int hashCode() {
    return 31 * Boolean.hashCode(causal) + Float.hashCode(scale);
  }

  @Override
  public String toString() {
    return "Attention[" + (causal ? "causal" : "bidirectional") + ", scale=" + scale + "]";
  }

  // ---- checks -------------------------------------------------------------------------------------

  private int flag() {
    return causal ? 1 : 0;
  }

  /** q is non-null, 4-D [B, S, H, D] and F32; returns its shape. */
  private static long[] checkQuery(Tensor q) {
    Native.checkNotNull(q, "q");
    Native.checkArgument(q.ndim() == 4, "q", "must be 4-D [B, S, H, D], got shape %s", Arrays.toString(q.shape()));
    Native.checkArgument(q.dtype() == DType.F32, "q", "must be F32, got %s", q.dtype());
    return q.shape();
  }

  /** [B, H, S] from [B, S, H, D]. */
  private static long[] lseShape(long[] bshd) {
    return new long[] {bshd[0], bshd[2], bshd[1]};
  }

  /** Non-null, on device, F32 and of the exact shape. */
  private static void checkTensor(Tensor t, String name, Device device, long... shape) {
    Native.checkNotNull(t, name);
    Native.checkArgument(t.device() == device, name, "is on device %s, q on %s", t.device(), device);
    Native.checkArgument(Arrays.equals(t.shape(), shape), name, "has shape %s, expected %s",
        Arrays.toString(t.shape()), Arrays.toString(shape));
    Native.checkArgument(t.dtype() == DType.F32, name, "must be F32, got %s", t.dtype());
  }

  private static frl_tensor handleOrNull(Tensor t, String name) {
    return Native.handleOrNull(t, name);
  }
}

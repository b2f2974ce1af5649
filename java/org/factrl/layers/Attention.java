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
 * <p><b>Masked form</b> ({@link #forward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)} and
 * its backward): queries {@code [B, Sq, H, D]} against keys and values {@code [B, Sk, H, D]}, with
 * per-row key lengths {@code L[b]} and query offsets {@code off[b]} (I32 {@code [B]} tensors, each
 * may be null: {@code Sk} and 0). Query i of row b sits at position {@code off[b] + i} and sees key j
 * iff {@code j < L[b]} and, when causal, {@code j <= off[b] + i}. This serves right-padded batches
 * (L = each row's length), KV-cache decoding (k, v the cache {@code [B, Smax, H, D]}; q the new
 * tokens; off = tokens already cached; L = off + Sq) and prefill. A query that sees no key (only
 * when {@code L[b] = 0}) gets out 0, lse −∞ and zero gradients; keys no query sees get zero dk, dv
 * (or keep theirs under {@link GradMode#ACCUMULATE}); keys at or past {@code L[b]} are never read.
 * A padding query past a row's length still sees that row's keys: its output is finite and ignored.
 * The unmasked calls are the special case {@code Sq = Sk} without masks, with the same bits.
 *
 * <p>The forward subtracts each row's maximum score before exponentiating: large scores give
 * neither overflow nor NaN. Sizes may be 0. Results are bitwise reproducible from call to call.
 * There is no CUDA kernel yet: on a CUDA device both passes throw a {@link FactRlException} with
 * status {@code UNAVAILABLE}.
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

  /**
   * Masked forward (see the class comment): computes {@code out} and, unless {@code lse} is null, the
   * log-sum-exp the backward needs (−∞ for a query that sees no key). Both are overwritten.
   *
   * @param q queries {@code [B, Sq, H, D]}
   * @param k keys {@code [B, Sk, H, D]} (any Sk, e.g. a KV cache of Smax positions)
   * @param v values, the shape of {@code k}
   * @param keyLengths I32 {@code [B]}, each in {@code [0, Sk]}, or null (every row Sk)
   * @param queryOffsets I32 {@code [B]}, each {@code >= 0}, or null (every row 0); no effect when not
   *     causal
   * @param out the output {@code [B, Sq, H, D]}
   * @param lse {@code [B, H, Sq]}, or null when no backward follows
   * @throws FactRlException naming the argument when a tensor is null (other than the optional
   *     ones), misshapen, of the wrong dtype or on another device; naming the argument and the row
   *     when a key length or offset is out of range
   */
  public void forward(Tensor q, Tensor k, Tensor v, Tensor keyLengths, Tensor queryOffsets, Tensor out, Tensor lse) {
    long[] bshd = checkQuery(q);
    Device device = q.device();
    checkKeys(k, v, device, bshd);
    checkMask(keyLengths, "keyLengths", device, bshd[0]);
    checkMask(queryOffsets, "queryOffsets", device, bshd[0]);
    checkTensor(out, "out", device, bshd);
    if (lse != null) {
      checkTensor(lse, "lse", device, lseShape(bshd));
    }
    check(AttentionNative.frl_attention_forward_masked(device.handle(), q.handle("q"), k.handle("k"), v.handle("v"),
        handleOrNull(keyLengths, "keyLengths"), handleOrNull(queryOffsets, "queryOffsets"), flag(), scale,
        out.handle("out"), handleOrNull(lse, "lse")));
  }

  /**
   * Backward of the masked {@link #forward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)},
   * called with the same q, k, v and masks, its {@code out} and {@code lse}, and {@code dOut}
   * {@code [B, Sq, H, D]}. {@code dq} {@code [B, Sq, H, D]}, {@code dk} and {@code dv}
   * {@code [B, Sk, H, D]} may each be null (not computed); the others are overwritten or added into
   * per {@code mode}. Keys no query sees get 0 ({@link GradMode#OVERWRITE}) or keep what they hold
   * ({@link GradMode#ACCUMULATE}).
   *
   * @throws FactRlException as the masked forward
   */
  public void backward(Tensor q, Tensor k, Tensor v, Tensor keyLengths, Tensor queryOffsets, Tensor out, Tensor lse,
      Tensor dOut, Tensor dq, Tensor dk, Tensor dv, GradMode mode) {
    Native.checkNotNull(mode, "mode");
    long[] bshd = checkQuery(q);
    Device device = q.device();
    long[] keys = checkKeys(k, v, device, bshd);
    checkMask(keyLengths, "keyLengths", device, bshd[0]);
    checkMask(queryOffsets, "queryOffsets", device, bshd[0]);
    checkTensor(out, "out", device, bshd);
    checkTensor(lse, "lse", device, lseShape(bshd));
    checkTensor(dOut, "dOut", device, bshd);
    if (dq != null) {
      checkTensor(dq, "dq", device, bshd);
    }
    if (dk != null) {
      checkTensor(dk, "dk", device, keys);
    }
    if (dv != null) {
      checkTensor(dv, "dv", device, keys);
    }
    check(AttentionNative.frl_attention_backward_masked(device.handle(), q.handle("q"), k.handle("k"), v.handle("v"),
        handleOrNull(keyLengths, "keyLengths"), handleOrNull(queryOffsets, "queryOffsets"), out.handle("out"),
        lse.handle("lse"), dOut.handle("dOut"), flag(), scale, handleOrNull(dq, "dq"), handleOrNull(dk, "dk"),
        handleOrNull(dv, "dv"), mode.flag()));
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

  /** k is [B, Sk, H, D] F32 on device for q's B, H, D (any Sk) and v has its shape; returns it. */
  private static long[] checkKeys(Tensor k, Tensor v, Device device, long[] bshd) {
    Native.checkNotNull(k, "k");
    long[] shape = k.shape();
    Native.checkArgument(shape.length == 4 && shape[0] == bshd[0] && shape[2] == bshd[2] && shape[3] == bshd[3], "k",
        "has shape %s, expected [%d, Sk, %d, %d] (B, H, D of q)", Arrays.toString(shape), bshd[0], bshd[2], bshd[3]);
    checkTensor(k, "k", device, shape);
    checkTensor(v, "v", device, shape);
    return shape;
  }

  /** Null, or an I32 [B] tensor on device. */
  private static void checkMask(Tensor t, String name, Device device, long batch) {
    if (t == null) {
      return;
    }
    Native.checkArgument(t.device() == device, name, "is on device %s, q on %s", t.device(), device);
    Native.checkArgument(Arrays.equals(t.shape(), new long[] {batch}), name, "has shape %s, expected [%d] (B)",
        Arrays.toString(t.shape()), batch);
    Native.checkArgument(t.dtype() == DType.I32, name, "must be I32, got %s", t.dtype());
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

package org.factrl.kernels;

import static org.factrl.engine.Native.check;

import com.google.common.collect.ImmutableMap;
import com.google.common.collect.Maps;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import org.factrl.bindings.FactRlCore.frl_tensor;
import org.factrl.bindings.KlNative;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;

/**
 * Per-token log-probabilities of sampled tokens under a policy (and a reference), the KL between
 * them, and the policy entropy, in one pass over the logits (DESIGN.md §3). The log-prob of the
 * policy is differentiable through {@link #backward}.
 *
 * <p><b>Layout.</b> Rows are flattened (batch × response position): {@code policyLogits} and
 * {@code refLogits} are {@code [T, V]} row-major with the same shape and dtype (F32 on the CPU; F32 or
 * BF16 on CUDA, accumulated in fp32); {@code actions} is {@code [T]} I32 holding the sampled token of
 * each row; {@code mask} is {@code [T]} I32 with nonzero meaning "valid", or {@code null} for "every
 * row valid". Every output is {@code [T]} F32 and is <em>overwritten</em>. All tensors live on one
 * {@link Device}.
 *
 * <p><b>Math</b>, for a valid row with policy logits zp, reference logits zr and action a:
 * <pre>
 *   LOGP_POLICY = zp[a] − logsumexp(zp)        LOGP_REF = zr[a] − logsumexp(zr)
 *   KL_K1 = LOGP_POLICY − LOGP_REF             KL_K3 = exp(−KL_K1) − 1 + KL_K1
 *   KL_FULL = Σ_v p_v (log p_v − log r_v)      ENTROPY = −Σ_v p_v log p_v      (p = softmax(zp), r = softmax(zr))
 *   LSE_POLICY = logsumexp(zp)                 (pass it to backward to save a pass)
 * </pre>
 * Masked rows give 0 in every output, and their actions are never read. A valid row whose action is
 * outside {@code [0, V)} raises a {@link FactRlException} naming {@code actions} and the row (on the
 * CPU from the call; on CUDA, which never waits for the GPU inside a call, from the next
 * {@link org.factrl.engine.Device#synchronize()} or host read). Very
 * large logits are safe (the row maximum is subtracted); {@code -inf} logits are allowed as long as a
 * row has one finite logit.
 *
 * <p>Thread-safety: stateless; the usual rule of one thread per {@link Device} applies.
 */
public final class TokenLogProbs {
  private TokenLogProbs() {}

  /** The per-row quantities this kernel can produce. */
  public enum Quantity {
    LOGP_POLICY(false), LOGP_REF(true), KL_K1(true), KL_K3(true), KL_FULL(true), ENTROPY(false), LSE_POLICY(false);

    private final boolean needsReference;

    Quantity(boolean needsReference) {
      this.needsReference = needsReference;
    }

    /** True when the quantity needs reference logits. */
    public boolean needsReference() {
      return needsReference;
    }
  }

  /**
   * An immutable set of output tensors keyed by {@link Quantity}, each {@code [T]} F32. Created by
   * {@link #allocate} (the outputs own their tensors and {@link #close} frees them) or by
   * {@link #builder} around caller-owned tensors (then {@link #close} does nothing).
   */
  public static final class Outputs implements AutoCloseable {
    private final ImmutableMap<Quantity, Tensor> tensors;
    private final boolean owned;
    private boolean closed;

    private Outputs(Map<Quantity, Tensor> tensors, boolean owned) {
      this.tensors = Maps.immutableEnumMap(tensors);
      this.owned = owned;
    }

    /** New zero-filled {@code [rows]} F32 tensors on {@code device} for each quantity. */
    public static Outputs allocate(Device device, long rows, Set<Quantity> quantities) {
      Native.checkNotNull(device, "device");
      Native.checkNotNull(quantities, "quantities");
      Native.checkArgument(rows >= 0, "rows", "must be >= 0, got %d", rows);
      Native.checkArgument(!quantities.isEmpty(), "quantities", "is empty");
      EnumMap<Quantity, Tensor> map = new EnumMap<>(Quantity.class);
      try {
        for (Quantity q : quantities) {
          map.put(Native.checkNotNull(q, "quantities"), device.zeros(DType.F32, rows));
        }
      } catch (RuntimeException e) {
        map.values().forEach(Tensor::close);
        throw e;
      }
      return new Outputs(map, true);
    }

    /** New outputs for the given quantities (see {@link #allocate(Device, long, Set)}). */
    public static Outputs allocate(Device device, long rows, Quantity first, Quantity... rest) {
      Native.checkNotNull(first, "first");
      Native.checkNotNull(rest, "rest");
      return allocate(device, rows, EnumSet.of(first, rest));
    }

    public static Builder builder() {
      return new Builder();
    }

    /** Collects caller-owned output tensors. */
    public static final class Builder {
      private final EnumMap<Quantity, Tensor> map = new EnumMap<>(Quantity.class);

      private Builder() {}

      /** Adds (or replaces) the output tensor of a quantity. */
      public Builder put(Quantity quantity, Tensor tensor) {
        map.put(Native.checkNotNull(quantity, "quantity"), Native.checkNotNull(tensor, "tensor"));
        return this;
      }

      public Outputs build() {
        Native.checkArgument(!map.isEmpty(), "outputs", "no output tensor was added");
        return new Outputs(map, false);
      }
    }

    /** The requested quantities. */
    public Set<Quantity> quantities() {
      return tensors.keySet();
    }

    public boolean has(Quantity quantity) {
      return tensors.containsKey(quantity);
    }

    /** The output tensor of a quantity; throws if it was not requested. */
    public Tensor get(Quantity quantity) {
      Tensor t = tensors.get(Native.checkNotNull(quantity, "quantity"));
      Native.checkArgument(t != null, "quantity", "%s was not requested (have %s)", quantity, tensors.keySet());
      return t;
    }

    /** The values of a quantity, copied to the host. */
    public float[] floats(Quantity quantity) {
      return get(quantity).toFloatArray();
    }

    /** Frees the tensors if these outputs own them; idempotent. */
    @Override
    public void close() {
      if (owned && !closed) {
        closed = true;
        tensors.values().forEach(Tensor::close);
      }
    }

    frl_tensor handleOrNull(Quantity q) {
      return Native.handleOrNull(tensors.get(q), name(q));
    }
  }

  /**
   * Computes {@code quantities} into new tensors on the logits' device. The caller closes the result.
   *
   * @param policyLogits {@code [T, V]} policy logits
   * @param refLogits {@code [T, V]} reference logits, or {@code null} (then only LOGP_POLICY, ENTROPY,
   *     LSE_POLICY may be requested)
   * @param actions {@code [T]} I32 sampled tokens
   * @param mask {@code [T]} I32, nonzero = valid, or {@code null} for all rows valid
   */
  public static Outputs compute(Tensor policyLogits, Tensor refLogits, Tensor actions, Tensor mask,
      Set<Quantity> quantities) {
    Native.checkNotNull(policyLogits, "policyLogits");
    Native.checkNotNull(quantities, "quantities");
    checkInputs(policyLogits, refLogits, actions, mask);
    for (Quantity q : quantities) {
      checkNeedsReference(Native.checkNotNull(q, "quantities"), refLogits);
    }
    Outputs out = Outputs.allocate(policyLogits.device(), policyLogits.dim(0), quantities);
    try {
      computeInto(policyLogits, refLogits, actions, mask, out);
    } catch (RuntimeException e) {
      out.close();
      throw e;
    }
    return out;
  }

  /** {@link #compute(Tensor, Tensor, Tensor, Tensor, Set)} for the listed quantities. */
  public static Outputs compute(Tensor policyLogits, Tensor refLogits, Tensor actions, Tensor mask, Quantity first,
      Quantity... rest) {
    Native.checkNotNull(first, "first");
    Native.checkNotNull(rest, "rest");
    return compute(policyLogits, refLogits, actions, mask, EnumSet.of(first, rest));
  }

  /** Computes into caller-provided outputs (each {@code [T]} F32 on the same device; overwritten). */
  public static void computeInto(Tensor policyLogits, Tensor refLogits, Tensor actions, Tensor mask, Outputs outputs) {
    Native.checkNotNull(outputs, "outputs");
    long rows = checkInputs(policyLogits, refLogits, actions, mask);
    Device device = policyLogits.device();
    for (Quantity q : outputs.quantities()) {
      checkNeedsReference(q, refLogits);
      checkVector(outputs.get(q), name(q), device, rows, DType.F32);
    }
    checkOutputsDistinct(outputs);
    check(KlNative.frl_token_logprobs(device.handle(), Native.handle(policyLogits, "policyLogits"),
        Native.handleOrNull(refLogits, "refLogits"), Native.handle(actions, "actions"),
        Native.handleOrNull(mask, "mask"), outputs.handleOrNull(Quantity.LOGP_POLICY),
        outputs.handleOrNull(Quantity.LOGP_REF), outputs.handleOrNull(Quantity.KL_K1),
        outputs.handleOrNull(Quantity.KL_K3), outputs.handleOrNull(Quantity.KL_FULL),
        outputs.handleOrNull(Quantity.ENTROPY), outputs.handleOrNull(Quantity.LSE_POLICY)));
  }

  /**
   * Backward of LOGP_POLICY: for every valid row t,
   * {@code dLogits[t, v] = gradLogp[t] · (onehot(actions[t])[v] − softmax(policyLogits[t])[v])}, written
   * ({@link GradMode#OVERWRITE}) or added ({@link GradMode#ACCUMULATE}). Masked rows get 0 when
   * overwriting and are left untouched when accumulating.
   *
   * @param gradLogp {@code [T]} F32 upstream gradient of LOGP_POLICY
   * @param lsePolicy {@code [T]} F32 LSE_POLICY of the same logits from the forward, or {@code null}
   *     (recomputed: one more pass over the logits)
   * @param dLogits {@code [T, V]}: F32 on the CPU, F32 or BF16 on CUDA
   */
  public static void backward(Tensor policyLogits, Tensor actions, Tensor mask, Tensor gradLogp, Tensor lsePolicy,
      Tensor dLogits, GradMode mode) {
    long rows = checkInputs(policyLogits, null, actions, mask);
    Device device = policyLogits.device();
    checkVector(gradLogp, "gradLogp", device, rows, DType.F32);
    if (lsePolicy != null) {
      checkVector(lsePolicy, "lsePolicy", device, rows, DType.F32);
    }
    Native.checkNotNull(dLogits, "dLogits");
    Native.checkNotNull(mode, "mode");
    checkDevice(dLogits, "dLogits", device);
    checkFloatDType(dLogits, "dLogits", device);
    Native.checkArgument(Arrays.equals(dLogits.shape(), policyLogits.shape()), "dLogits",
        "has shape %s, expected %s like policyLogits", Arrays.toString(dLogits.shape()),
        Arrays.toString(policyLogits.shape()));
    // dLogits is written while policyLogits is read (an accumulate would even read the gradient as logits)
    Native.checkArgument(dLogits != policyLogits, "dLogits", "must not be the same tensor as 'policyLogits'");
    check(KlNative.frl_token_logprobs_backward(device.handle(), Native.handle(policyLogits, "policyLogits"),
        Native.handle(actions, "actions"), Native.handleOrNull(mask, "mask"), Native.handle(gradLogp, "gradLogp"),
        Native.handleOrNull(lsePolicy, "lsePolicy"), Native.handle(dLogits, "dLogits"),
        mode == GradMode.ACCUMULATE ? 1 : 0));
  }

  // ---- argument checks (the native side checks again; these give Java names) -------------------

  /** Checks the inputs and returns T. */
  private static long checkInputs(Tensor policyLogits, Tensor refLogits, Tensor actions, Tensor mask) {
    Native.checkNotNull(policyLogits, "policyLogits");
    Native.checkNotNull(actions, "actions");
    Device device = policyLogits.device();
    Native.checkArgument(policyLogits.ndim() == 2, "policyLogits", "must be [T, V], got shape %s",
        Arrays.toString(policyLogits.shape()));
    Native.checkArgument(policyLogits.dim(1) >= 1, "policyLogits", "vocabulary (dimension 1) must be >= 1, got %d",
        policyLogits.dim(1));
    checkFloatDType(policyLogits, "policyLogits", device);
    long rows = policyLogits.dim(0);
    if (refLogits != null) {
      checkDevice(refLogits, "refLogits", device);
      Native.checkArgument(Arrays.equals(refLogits.shape(), policyLogits.shape()), "refLogits",
          "has shape %s, expected %s like policyLogits", Arrays.toString(refLogits.shape()),
          Arrays.toString(policyLogits.shape()));
      Native.checkArgument(refLogits.dtype() == policyLogits.dtype(), "refLogits", "has dtype %s, policyLogits %s",
          refLogits.dtype(), policyLogits.dtype());
    }
    checkVector(actions, "actions", device, rows, DType.I32);
    if (mask != null) {
      checkVector(mask, "mask", device, rows, DType.I32);
    }
    return rows;
  }

  private static void checkVector(Tensor t, String name, Device device, long rows, DType dtype) {
    Native.checkNotNull(t, name);
    checkDevice(t, name, device);
    Native.checkArgument(t.ndim() == 1 && t.dim(0) == rows, name, "has shape %s, expected [%d]",
        Arrays.toString(t.shape()), rows);
    Native.checkArgument(t.dtype() == dtype, name, "has dtype %s, expected %s", t.dtype(), dtype);
  }

  private static void checkDevice(Tensor t, String name, Device device) {
    Native.checkArgument(t.device() == device, name, "is on device %s, but policyLogits is on %s", t.device(),
        device);
  }

  private static void checkFloatDType(Tensor t, String name, Device device) {
    boolean ok = t.dtype() == DType.F32 || (t.dtype() == DType.BF16 && device.backend() == Device.Backend.CUDA);
    Native.checkArgument(ok, name, "has dtype %s, expected F32%s", t.dtype(),
        device.backend() == Device.Backend.CUDA ? " or BF16" : " on the CPU");
  }

  private static void checkNeedsReference(Quantity q, Tensor refLogits) {
    if (q.needsReference() && refLogits == null) {
      throw new FactRlException(FactRlException.Status.ARGUMENT,
          "argument 'refLogits' is null but " + q + " needs reference logits");
    }
  }

  /**
   * One tensor given for two quantities would be written twice by one pass (the last write wins,
   * silently): each output must be its own tensor. Inputs cannot alias outputs here: their shapes
   * or dtypes differ, which the other checks reject.
   */
  private static void checkOutputsDistinct(Outputs outputs) {
    Map<Tensor, Quantity> seen = new IdentityHashMap<>();
    for (Quantity q : outputs.quantities()) {
      Quantity before = seen.putIfAbsent(outputs.get(q), q);
      Native.checkArgument(before == null, name(q), "must not be the same tensor as '%s'", name(before));
    }
  }

  private static String name(Quantity q) {
    return "outputs[" + q + "]";
  }
}

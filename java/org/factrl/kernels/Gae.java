package org.factrl.kernels;

import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;
import org.factrl.bindings.GaeNative;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;

/**
 * Generalised advantage estimation over a batch of variable-length sequences, and masked whitening
 * (DESIGN.md §3).
 *
 * <p><b>Layout.</b> B sequences padded to length T: {@code rewards}, {@code values},
 * {@code advantages}, {@code returns} are [B, T] tensors of one dtype (F32; the CUDA backend also
 * takes BF16, computing in fp32), {@code mask} is a [B, T] I32 tensor, all on one {@link Device}.
 * The valid tokens of row b are a <i>prefix</i> of length L_b: the mask row is L_b ones followed by
 * zeros (L_b = 0 is allowed). Any other mask row (a 1 after a 0, a value other than 0/1) is rejected
 * with a {@code FactRlException} naming {@code mask} and the row.
 *
 * <p><b>Math.</b> For t &lt; L_b, with V_{L_b} = 0 and A_{L_b} = 0 (nothing follows the last valid
 * token): {@code δ_t = r_t + γ·V_{t+1} − V_t}, {@code A_t = δ_t + γλ·A_{t+1}},
 * {@code R_t = A_t + V_t} (the returns use the advantages before whitening). Padded positions get
 * A = R = 0, whatever r and V hold there.
 *
 * <p><b>Whitening</b> (optional, {@link GaeOptions#whiten()}) is over all valid tokens of the
 * batch: mean and the unbiased (Bessel-corrected, n − 1) variance, accumulated in double;
 * {@code A ← (A − mean)/sqrt(var + eps)}, plus {@code mean} again when {@code shiftMean} is false.
 * Padded positions stay 0. With no valid token the output is all zeros; with one valid token the
 * variance is defined as 0 (so the token becomes 0, or stays itself without the shift): never NaN.
 *
 * <p>Outputs are overwritten, never accumulated. On CUDA a GAE call does not synchronise: a bad mask
 * row is flagged on the device and raised at the next {@link org.factrl.engine.Device#synchronize()}
 * or host read. All methods are stateless and thread-compatible.
 */
public final class Gae {
  private Gae() {}

  /** Mean and standard deviation (sqrt of the unbiased variance, without eps) of whitened values. */
  public record WhitenStats(float mean, float std) {}

  /**
   * Computes advantages and returns into {@code advantages} and {@code returns} (overwritten), then
   * whitens the advantages in place when {@code options.whiten()}.
   *
   * @throws org.factrl.engine.FactRlException naming the argument that is null, on another device,
   *     of the wrong shape or dtype, aliased ({@code advantages} and {@code returns} must be two new
   *     tensors, distinct from the inputs), or a mask row that is not a prefix mask
   */
  public static void compute(Tensor rewards, Tensor values, Tensor mask, GaeOptions options, Tensor advantages,
      Tensor returns) {
    Native.checkNotNull(rewards, "rewards");
    Native.checkNotNull(values, "values");
    Native.checkNotNull(mask, "mask");
    Native.checkNotNull(options, "options");
    Native.checkNotNull(advantages, "advantages");
    Native.checkNotNull(returns, "returns");
    Native.checkArgument(rewards.ndim() == 2, "rewards", "must be [B, T], got %s", Arrays.toString(rewards.shape()));
    Native.checkArgument(rewards.dtype() == DType.F32 || rewards.dtype() == DType.BF16, "rewards",
        "must be F32 or BF16, got %s", rewards.dtype());
    Device device = rewards.device();
    checkLike(values, "values", rewards, device);
    checkMask(mask, rewards, device);
    checkLike(advantages, "advantages", rewards, device);
    checkLike(returns, "returns", rewards, device);
    Native.checkArgument(advantages != returns, "advantages", "must not be the same tensor as 'returns'");
    for (Tensor out : new Tensor[] {advantages, returns}) {
      String name = out == advantages ? "advantages" : "returns";
      Native.checkArgument(out != rewards, name, "must not be the same tensor as 'rewards'");
      Native.checkArgument(out != values, name, "must not be the same tensor as 'values'");
    }
    Native.check(GaeNative.frl_gae(device.handle(), rewards.handle("rewards"), values.handle("values"),
        mask.handle("mask"), options.gamma(), options.lambda(), advantages.handle("advantages"),
        returns.handle("returns")));
    if (options.whiten()) {
      Native.check(GaeNative.frl_masked_whiten(device.handle(), advantages.handle("advantages"), mask.handle("mask"),
          options.shiftMean() ? 1 : 0, options.eps(), advantages.handle("advantages"), null, null));
    }
  }

  /**
   * Whitens {@code x} over its valid positions ({@code mask != 0}; any mask, not only prefixes) into
   * {@code out} (may be {@code x} itself): {@code (x − mean)/sqrt(var + eps)}, plus {@code mean} when
   * {@code shiftMean} is false; 0 at masked positions. Returns the statistics of {@code x}.
   *
   * @param mask I32, same shape as {@code x}
   * @param eps finite, >= 0 (typically 1e-8)
   */
  public static WhitenStats maskedWhiten(Tensor x, Tensor mask, boolean shiftMean, float eps, Tensor out) {
    Native.checkNotNull(x, "x");
    Native.checkNotNull(mask, "mask");
    Native.checkNotNull(out, "out");
    Native.checkArgument(x.dtype() == DType.F32 || x.dtype() == DType.BF16, "x", "must be F32 or BF16, got %s",
        x.dtype());
    Device device = x.device();
    checkLike(out, "out", x, device);
    Native.checkArgument(mask.device() == device, "mask", "is on %s, but 'x' is on %s", mask.device(), device);
    Native.checkArgument(mask.dtype() == DType.I32, "mask", "must be I32, got %s", mask.dtype());
    Native.checkArgument(Arrays.equals(mask.shape(), x.shape()), "mask", "has shape %s, but 'x' has shape %s",
        Arrays.toString(mask.shape()), Arrays.toString(x.shape()));
    Native.checkArgument(Float.isFinite(eps) && eps >= 0f, "eps", "must be finite and >= 0, got %s", eps);
    try (FloatPointer mean = new FloatPointer(1); FloatPointer std = new FloatPointer(1)) {
      Native.check(GaeNative.frl_masked_whiten(device.handle(), x.handle("x"), mask.handle("mask"),
          shiftMean ? 1 : 0, eps, out.handle("out"), mean, std));
      return new WhitenStats(mean.get(), std.get());
    }
  }

  private static void checkLike(Tensor t, String name, Tensor like, Device device) {
    Native.checkNotNull(t, name);
    Native.checkArgument(t.device() == device, name, "is on %s, but the inputs are on %s", t.device(), device);
    Native.checkArgument(t.dtype() == like.dtype(), name, "has dtype %s, expected %s", t.dtype(), like.dtype());
    Native.checkArgument(Arrays.equals(t.shape(), like.shape()), name, "has shape %s, expected %s",
        Arrays.toString(t.shape()), Arrays.toString(like.shape()));
  }

  private static void checkMask(Tensor mask, Tensor rewards, Device device) {
    Native.checkArgument(mask.device() == device, "mask", "is on %s, but the inputs are on %s", mask.device(), device);
    Native.checkArgument(mask.dtype() == DType.I32, "mask", "must be I32, got %s", mask.dtype());
    Native.checkArgument(Arrays.equals(mask.shape(), rewards.shape()), "mask", "has shape %s, expected %s",
        Arrays.toString(mask.shape()), Arrays.toString(rewards.shape()));
  }
}

package org.factrl.kernels;

import static org.factrl.engine.Native.checkArgument;
import static org.factrl.engine.Native.checkNotNull;

import java.util.Arrays;
import org.factrl.engine.Tensor;

/**
 * A LoRA adapter on a linear layer: down-projection {@code A [r, K]}, up-projection {@code B [M, r]}
 * (both row-major, PEFT's {@code lora_A.weight} / {@code lora_B.weight} layout) and the scale
 * {@code s = alpha / r} that multiplies the adapter's contribution. Immutable; it holds the tensors,
 * it does not own them (closing them is the caller's business).
 */
public final class LoraAdapter {
  private final Tensor a;
  private final Tensor b;
  private final float scale;

  private LoraAdapter(Tensor a, Tensor b, float scale) {
    this.a = a;
    this.b = b;
    this.scale = scale;
  }

  /**
   * An adapter with an explicit scale.
   *
   * @throws org.factrl.engine.FactRlException naming {@code a}, {@code b} or {@code scale} when a tensor
   *     is null or not 2-D, the ranks ({@code a.dim(0)}, {@code b.dim(1)}) differ or are 0, the two live
   *     on different devices, or the scale is not finite
   */
  public static LoraAdapter of(Tensor a, Tensor b, float scale) {
    checkNotNull(a, "a");
    checkNotNull(b, "b");
    checkArgument(a.ndim() == 2, "a", "must be [r, K], got %s", Arrays.toString(a.shape()));
    checkArgument(b.ndim() == 2, "b", "must be [M, r], got %s", Arrays.toString(b.shape()));
    checkArgument(a.dim(0) >= 1, "a", "rank r must be >= 1, got %s", Arrays.toString(a.shape()));
    checkArgument(b.dim(1) == a.dim(0), "b", "has rank %d (shape %s), but a has rank %d (shape %s)",
        b.dim(1), Arrays.toString(b.shape()), a.dim(0), Arrays.toString(a.shape()));
    checkArgument(a.device() == b.device(), "b", "lives on %s, but a lives on %s", b.device(), a.device());
    checkArgument(Float.isFinite(scale), "scale", "must be finite, got %s", scale);
    return new LoraAdapter(a, b, scale);
  }

  /** An adapter with the PEFT convention {@code scale = alpha / r}. */
  public static LoraAdapter withAlpha(Tensor a, Tensor b, float alpha) {
    checkNotNull(a, "a");
    checkArgument(a.ndim() == 2 && a.dim(0) >= 1, "a", "must be [r, K] with r >= 1, got %s",
        Arrays.toString(a.shape()));
    return of(a, b, alpha / a.dim(0));
  }

  /** {@code A [r, K]}. */
  public Tensor a() {
    return a;
  }

  /** {@code B [M, r]}. */
  public Tensor b() {
    return b;
  }

  /** {@code s}, the factor of the adapter term. */
  public float scale() {
    return scale;
  }

  /** The rank r. */
  public long rank() {
    return a.dim(0);
  }

  @Override
  public String toString() {
    return "LoraAdapter{A=" + Arrays.toString(a.shape()) + ", B=" + Arrays.toString(b.shape()) + ", scale="
        + scale + "}";
  }
}

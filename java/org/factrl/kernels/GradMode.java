package org.factrl.kernels;

/**
 * Whether a backward pass overwrites a gradient output or adds into it: q/k/v or gate/up
 * projections summing their input gradients into one buffer, weight gradients summed over
 * micro-batches. Shared by every kernel with a backward (per output where the two kinds differ,
 * e.g. {@code Linear}'s dx and parameter modes) and by {@link TensorOps#scatterRows}. The native side
 * is {@code FRL_GRAD_OVERWRITE} / {@code FRL_GRAD_ACCUMULATE} in {@code factrl.h}.
 */
public enum GradMode {
  OVERWRITE, ACCUMULATE;

  /** The native mode: FRL_GRAD_OVERWRITE (0) or FRL_GRAD_ACCUMULATE (1) (for the native wrappers). */
  public int flag() {
    return this == ACCUMULATE ? 1 : 0;
  }
}

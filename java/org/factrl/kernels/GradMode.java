package org.factrl.kernels;

/**
 * Whether a backward pass overwrites its gradient outputs or adds into them (gradient
 * accumulation over micro-batches). Shared by every kernel with a backward.
 */
public enum GradMode {
  OVERWRITE, ACCUMULATE;

  /** The native {@code accumulate} flag: 0 or 1 (for the native wrappers, here and in org.factrl.layers). */
  public int flag() {
    return this == ACCUMULATE ? 1 : 0;
  }
}

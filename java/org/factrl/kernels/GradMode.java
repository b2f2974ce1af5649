package org.factrl.kernels;

/**
 * Whether a backward pass overwrites its gradient outputs or adds into them (gradient
 * accumulation over micro-batches). Shared by every kernel with a backward.
 */
public enum GradMode {
  OVERWRITE, ACCUMULATE;

  /** The native {@code accumulate} flag: 0 or 1. */
  int flag() {
    return this == ACCUMULATE ? 1 : 0;
  }
}

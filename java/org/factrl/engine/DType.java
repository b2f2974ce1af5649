package org.factrl.engine;

/** Element type of a {@link Tensor}. BF16 is storage only: kernels accumulate in fp32. */
public enum DType {
  F32(4), BF16(2), I32(4);

  private final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  public int bytes() {
    return bytes;
  }

  /** The native {@code frl_dtype} code. */
  public int code() {
    return ordinal();
  }
}

package org.factrl.model.io;

import java.util.Optional;
import org.factrl.engine.DType;

/**
 * The element types a safetensors header may name ({@code "dtype": "BF16"}), with their sizes. The
 * reader accepts all of them, so any valid file can be indexed; only {@link #F32}, {@link #BF16}
 * and {@link #I32} load into engine tensors ({@link #engineType()}).
 */
public enum SafeTensorsDType {
  BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), I16(2), U16(2), F16(2), BF16(2), I32(4), U32(4), F32(4),
  F64(8), I64(8), U64(8);

  private final int bytes;

  SafeTensorsDType(int bytes) {
    this.bytes = bytes;
  }

  /** Bytes per element. */
  public int bytes() {
    return bytes;
  }

  /** The engine's type with the same bytes, if it has one. */
  public Optional<DType> engineType() {
    return switch (this) {
      case F32 -> Optional.of(DType.F32);
      case BF16 -> Optional.of(DType.BF16);
      case I32 -> Optional.of(DType.I32);
      default -> Optional.empty();
    };
  }

  /** The header name of an engine type. */
  public static SafeTensorsDType of(DType dtype) {
    return switch (dtype) {
      case F32 -> F32;
      case BF16 -> BF16;
      case I32 -> I32;
    };
  }

  /** The type named {@code name} in a header, or empty when the format has no such type. */
  static Optional<SafeTensorsDType> byName(String name) {
    for (SafeTensorsDType t : values()) {
      if (t.name().equals(name)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }
}

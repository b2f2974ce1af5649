package org.factrl.model.io;

import java.util.Arrays;

/**
 * One tensor of a safetensors file: its name, type, shape and byte range {@code [begin, end)}
 * relative to the start of the data buffer (just after the header). Immutable; {@link #shape()}
 * returns a copy.
 */
public final class SafeTensorsEntry {
  private final String name;
  private final SafeTensorsDType dtype;
  private final long[] shape;
  private final long begin;
  private final long end;

  SafeTensorsEntry(String name, SafeTensorsDType dtype, long[] shape, long begin, long end) {
    this.name = name;
    this.dtype = dtype;
    this.shape = shape.clone();
    this.begin = begin;
    this.end = end;
  }

  public String name() {
    return name;
  }

  public SafeTensorsDType dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int ndim() {
    return shape.length;
  }

  /** Number of elements (1 for a scalar). */
  public long numel() {
    long n = 1;
    for (long d : shape) {
      n *= d; // the reader checked that this product (times the element size) fits a long
    }
    return n;
  }

  /** First byte, relative to the data buffer. */
  public long begin() {
    return begin;
  }

  /** One past the last byte, relative to the data buffer. */
  public long end() {
    return end;
  }

  public long byteSize() {
    return end - begin;
  }

  @Override
  public String toString() {
    return name + " " + dtype + " " + Arrays.toString(shape) + " @[" + begin + ", " + end + ")";
  }
}

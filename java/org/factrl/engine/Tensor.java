package org.factrl.engine;

import static org.factrl.engine.Native.check;

import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.factrl.bindings.FactRlCore;
import org.factrl.bindings.FactRlCore.frl_tensor;

/**
 * A dense row-major tensor owned by a {@link Device} (host memory on the CPU, device memory on
 * CUDA). Shapes are fixed at creation. Close it when done; closing twice is harmless.
 */
public final class Tensor implements AutoCloseable {
  private final Device device;
  private final DType dtype;
  private final long[] shape;
  private final long numel;
  private frl_tensor handle;

  private Tensor(Device device, DType dtype, long[] shape, frl_tensor handle) {
    this.device = device;
    this.dtype = dtype;
    this.shape = shape;
    this.handle = handle;
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    this.numel = n;
  }

  static Tensor create(Device device, DType dtype, long... shape) {
    Native.checkNotNull(device, "device");
    Native.checkNotNull(dtype, "dtype");
    Native.checkNotNull(shape, "shape");
    Native.checkArgument(shape.length <= FactRlCore.FRL_MAX_DIMS, "shape",
        "at most %d dimensions, got %d", FactRlCore.FRL_MAX_DIMS, shape.length);
    for (int i = 0; i < shape.length; i++) {
      Native.checkArgument(shape[i] >= 0, "shape", "dimension %d is negative (%d)", i, shape[i]);
    }
    frl_tensor t = new frl_tensor();
    try (LongPointer dims = new LongPointer(Math.max(1, shape.length))) {
      dims.put(shape, 0, shape.length);
      check(FactRlCore.frl_tensor_create(device.handle(), dtype.code(), shape.length, dims, t));
    }
    return new Tensor(device, dtype, shape.clone(), t);
  }

  public Device device() {
    return device;
  }

  public DType dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  /** The size of dimension {@code i}, {@code 0 <= i < ndim()}. */
  public long dim(int i) {
    Native.checkArgument(i >= 0 && i < shape.length, "i", "dimension %d is out of range for the %d-D tensor %s", i,
        shape.length, Arrays.toString(shape));
    return shape[i];
  }

  public int ndim() {
    return shape.length;
  }

  public long numel() {
    return numel;
  }

  /** Overwrites the whole tensor; {@code data.length} must equal {@link #numel()}. */
  public void write(float[] data) {
    Native.checkNotNull(data, "data");
    Native.checkArgument(data.length == numel, "data", "has %d values, tensor %s has %d",
        data.length, Arrays.toString(shape), numel);
    try (FloatPointer p = new FloatPointer(data)) {
      check(FactRlCore.frl_tensor_write_f32(handle(), 0, p, data.length));
    }
  }

  public void write(int[] data) {
    Native.checkNotNull(data, "data");
    Native.checkArgument(data.length == numel, "data", "has %d values, tensor %s has %d",
        data.length, Arrays.toString(shape), numel);
    try (IntPointer p = new IntPointer(data)) {
      check(FactRlCore.frl_tensor_write_i32(handle(), 0, p, data.length));
    }
  }

  /**
   * Writes {@code count} values from host memory at element {@code offset} (no array copy). The
   * values are read from {@code src}'s position; it must hold {@code count} of them before its limit.
   */
  public void write(long offset, FloatPointer src, long count) {
    Native.checkNotNull(src, "src");
    checkRange(offset, count);
    checkExtent(src, "src", count);
    check(FactRlCore.frl_tensor_write_f32(handle(), offset, src, count));
  }

  /**
   * Reads {@code count} values at element {@code offset} into host memory, from {@code dst}'s
   * position; it must have room for {@code count} values before its limit.
   */
  public void read(long offset, FloatPointer dst, long count) {
    Native.checkNotNull(dst, "dst");
    checkRange(offset, count);
    checkExtent(dst, "dst", count);
    check(FactRlCore.frl_tensor_read_f32(handle(), offset, dst, count));
  }

  // The native side checks the range too, but cannot say which Java argument is wrong.
  private void checkRange(long offset, long count) {
    Native.checkArgument(offset >= 0 && offset <= numel, "offset", "%d is outside the tensor %s of %d elements",
        offset, Arrays.toString(shape), numel);
    Native.checkArgument(count >= 0 && count <= numel - offset, "count",
        "%d values from offset %d pass the end of the tensor %s of %d elements", count, offset,
        Arrays.toString(shape), numel);
  }

  // The native side only sees an address: a count past the pointer's memory would read or write
  // the heap beyond it (a JVM crash, or silent corruption). A pointer of unknown extent (limit 0,
  // e.g. wrapping foreign memory) must be given a limit first.
  private static void checkExtent(FloatPointer p, String name, long count) {
    long available = p.limit() - p.position();
    Native.checkArgument(count <= Math.max(0, available), name,
        "has room for %d floats from its position (limit %d), but count is %d", Math.max(0, available), p.limit(),
        count);
  }

  /** All values as floats (bf16 widened). */
  public float[] toFloatArray() {
    Native.checkArgument(numel <= Integer.MAX_VALUE, "tensor", "too large for a Java array (%d)", numel);
    float[] out = new float[(int) numel];
    try (FloatPointer p = new FloatPointer(numel)) {
      check(FactRlCore.frl_tensor_read_f32(handle(), 0, p, numel));
      p.get(out);
    }
    return out;
  }

  public int[] toIntArray() {
    Native.checkArgument(numel <= Integer.MAX_VALUE, "tensor", "too large for a Java array (%d)", numel);
    int[] out = new int[(int) numel];
    try (IntPointer p = new IntPointer(numel)) {
      check(FactRlCore.frl_tensor_read_i32(handle(), 0, p, numel));
      p.get(out);
    }
    return out;
  }

  public void fillZero() {
    check(FactRlCore.frl_tensor_fill_zero(handle()));
  }

  /** Copies {@code src} (same dtype and size, any device) into this tensor. */
  public void copyFrom(Tensor src) {
    Native.checkNotNull(src, "src");
    Native.checkArgument(src.dtype == dtype && src.numel == numel, "src",
        "is %s %s (%d elements); this tensor is %s %s (%d elements)", src.dtype, Arrays.toString(src.shape),
        src.numel, dtype, Arrays.toString(shape), numel);
    check(FactRlCore.frl_tensor_copy(handle(), src.handle("src")));
  }

  /**
   * The native handle of this tensor passed as {@code argument} of an operation; when it is closed,
   * the error names that argument ("argument 'x' is closed"), as every other argument check does.
   */
  public frl_tensor handle(String argument) {
    if (handle == null) {
      throw new FactRlException(FactRlException.Status.ARGUMENT,
          "argument '" + argument + "' is closed (tensor " + Arrays.toString(shape) + " " + dtype + ")");
    }
    return handle;
  }

  /** The native handle, for kernel wrappers. Throws if closed. */
  public frl_tensor handle() {
    if (handle == null) {
      throw new FactRlException(FactRlException.Status.ARGUMENT,
          "tensor " + Arrays.toString(shape) + " is closed");
    }
    return handle;
  }

  public boolean isClosed() {
    return handle == null;
  }

  @Override
  public void close() {
    if (handle != null) {
      check(FactRlCore.frl_tensor_destroy(handle));
      handle = null;
    }
  }

  @Override
  public String toString() {
    return "Tensor" + Arrays.toString(shape) + " " + dtype + " on " + device;
  }
}

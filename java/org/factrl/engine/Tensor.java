package org.factrl.engine;

import static org.factrl.engine.Native.check;

import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.factrl.bindings.FactRlCore;
import org.factrl.bindings.FactRlCore.frl_tensor;
import org.factrl.bindings.ViewNative;

/**
 * A tensor of a {@link Device} (host memory on the CPU, device memory on CUDA): a view — storage,
 * element offset, shape and strides — of memory that it owns ({@link Device#zeros}), or that
 * another tensor, a {@link ParameterBlob} or an {@link ActivationArena} owns. {@link #reshape},
 * {@link #narrow} and {@link #rows} make views without copying. Shapes are fixed at creation.
 *
 * <p>Ownership (llm.c style, nothing is kept alive by a reference): a view never keeps its storage
 * alive. Closing a tensor that owns storage while views of it are open throws a
 * {@link FactRlException} ("tensor has N live views; close them first") and leaves it open; close
 * the views first. Closing a view is always fine. A blob's named tensors close with the blob
 * ({@link #close()} on them does nothing). An arena's tensors become invalid at
 * {@link ActivationArena#reset()}: using one in an op then throws naming the argument.
 *
 * <p>Reads and writes ({@link #write}, {@link #toFloatArray}, {@link #fillZero}, {@link #copyFrom})
 * work on every view in row-major order; ops take contiguous views, and some (the linear layer,
 * the LoRA matmul on the CPU) take row-contiguous views with a row stride (see their docs); others
 * throw naming the argument. Close it when done; closing twice is harmless.
 */
public final class Tensor implements AutoCloseable {
  /** What a tensor's {@link #close()} does. */
  enum Kind {
    /** Owns its storage: close frees it (refused while views are live). */
    OWNER,
    /** A view of another tensor's, a blob's or an arena's storage: close frees the handle only. */
    VIEW,
    /** A blob's named tensor: the blob closes it. */
    BLOB_ENTRY
  }

  private final Device device;
  private final DType dtype;
  private final long[] shape;
  private final long numel;
  private final Kind kind;
  private frl_tensor handle;
  private String closedBecause = "is closed";

  private Tensor(Device device, DType dtype, long[] shape, frl_tensor handle) {
    this(device, dtype, shape, handle, Kind.OWNER);
  }

  private Tensor(Device device, DType dtype, long[] shape, frl_tensor handle, Kind kind) {
    this.device = device;
    this.dtype = dtype;
    this.shape = shape;
    this.handle = handle;
    this.kind = kind;
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

  /** Wraps a native view handle; reads its shape from the engine. */
  static Tensor wrap(Device device, DType dtype, frl_tensor handle, Kind kind) {
    try (IntPointer nd = new IntPointer(1); LongPointer dims = new LongPointer(FactRlCore.FRL_MAX_DIMS)) {
      check(ViewNative.frl_tensor_ndim(handle, nd));
      check(FactRlCore.frl_tensor_shape(handle, dims));
      long[] shape = new long[nd.get()];
      dims.get(shape);
      return new Tensor(device, dtype, shape, handle, kind);
    }
  }

  // ---- views --------------------------------------------------------------------------------

  /**
   * The same elements in another shape, without a copy; one dimension may be -1 (inferred). This
   * tensor must be contiguous. Close the view before closing the tensor that owns the storage.
   */
  public Tensor reshape(long... newShape) {
    Native.checkNotNull(newShape, "shape");
    Native.checkArgument(newShape.length <= FactRlCore.FRL_MAX_DIMS, "shape",
        "at most %d dimensions, got %d", FactRlCore.FRL_MAX_DIMS, newShape.length);
    frl_tensor out = new frl_tensor();
    try (LongPointer dims = new LongPointer(Math.max(1, newShape.length))) {
      dims.put(newShape, 0, newShape.length);
      check(ViewNative.frl_tensor_reshape(handle(), newShape.length, dims, out));
    }
    return wrap(device, dtype, out, Kind.VIEW);
  }

  /** Same as {@link #reshape(long...)}. */
  public Tensor view(long... newShape) {
    return reshape(newShape);
  }

  /**
   * Elements {@code [start, start + length)} of dimension {@code dim}, without a copy. Contiguous
   * when {@code dim} is 0 (or all outer dimensions are 1); a strided view otherwise.
   */
  public Tensor narrow(int dim, long start, long length) {
    frl_tensor out = new frl_tensor();
    check(ViewNative.frl_tensor_narrow(handle(), dim, start, length, out));
    return wrap(device, dtype, out, Kind.VIEW);
  }

  /** Rows {@code [start, start + count)} of dimension 0 (a contiguous view). */
  public Tensor rows(long start, long count) {
    return narrow(0, start, count);
  }

  /**
   * The general view: first element at this tensor's first element + {@code elementOffset}, with
   * the given shape and strides (in elements, >= 0). Bounds-checked against the whole storage.
   */
  public Tensor view(long elementOffset, long[] newShape, long[] newStrides) {
    Native.checkNotNull(newShape, "shape");
    Native.checkNotNull(newStrides, "strides");
    Native.checkArgument(newShape.length == newStrides.length, "strides", "has %d entries, shape has %d",
        newStrides.length, newShape.length);
    Native.checkArgument(newShape.length <= FactRlCore.FRL_MAX_DIMS, "shape",
        "at most %d dimensions, got %d", FactRlCore.FRL_MAX_DIMS, newShape.length);
    frl_tensor out = new frl_tensor();
    int n = newShape.length;
    try (LongPointer dims = new LongPointer(Math.max(1, n)); LongPointer st = new LongPointer(Math.max(1, n))) {
      dims.put(newShape, 0, n);
      st.put(newStrides, 0, n);
      check(ViewNative.frl_tensor_view(handle(), elementOffset, n, dims, st, out));
    }
    return wrap(device, dtype, out, Kind.VIEW);
  }

  /** Strides in elements, one per dimension. */
  public long[] strides() {
    try (LongPointer out = new LongPointer(FactRlCore.FRL_MAX_DIMS)) {
      check(ViewNative.frl_tensor_strides(handle(), out));
      long[] s = new long[shape.length];
      out.get(s);
      return s;
    }
  }

  /** Offset of the first element from the start of the storage, in elements. */
  public long storageOffset() {
    try (LongPointer out = new LongPointer(1)) {
      check(ViewNative.frl_tensor_offset(handle(), out));
      return out.get();
    }
  }

  /** Whether the elements are dense in row-major order. */
  public boolean isContiguous() {
    try (IntPointer out = new IntPointer(1)) {
      check(ViewNative.frl_tensor_is_contiguous(handle(), out));
      return out.get() != 0;
    }
  }

  /** Open views of this tensor's storage (what closing the storage's owner waits for). */
  public long liveViews() {
    try (LongPointer out = new LongPointer(1)) {
      check(ViewNative.frl_tensor_live_views(handle(), out));
      return out.get();
    }
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
          "tensor " + Arrays.toString(shape) + " " + closedBecause);
    }
    return handle;
  }

  /** Drops the handle without freeing it (its owner freed or will free it); later use says why. */
  void invalidate(String because) {
    handle = null;
    closedBecause = because;
  }

  public boolean isClosed() {
    return handle == null;
  }

  /**
   * Frees the tensor (its storage too when it owns it). Throws {@link FactRlException} and stays
   * open when it owns storage that open views still use. Does nothing for a blob's named tensor.
   */
  @Override
  public void close() {
    if (handle != null && kind != Kind.BLOB_ENTRY) {
      check(FactRlCore.frl_tensor_destroy(handle));
      handle = null;
    }
  }

  @Override
  public String toString() {
    return "Tensor" + Arrays.toString(shape) + " " + dtype + " on " + device;
  }
}

package org.factrl.bindings;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.annotation.ByPtrPtr;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Platform;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.FactRlCore.frl_tensor;

/**
 * Raw JavaCPP binding of {@code native/include/factrl/view.h}: views, parameter blobs, activation
 * arenas. Every function returns an {@code frl_status} (0 = OK); use {@code org.factrl.engine}
 * ({@code Tensor.view/reshape/narrow}, {@code ParameterBlob}, {@code ActivationArena}).
 */
@Platform(include = "factrl.h", link = "factrl")
public final class ViewNative {
  static {
    Loader.load();
  }

  private ViewNative() {}

  public static final int FRL_ALIGN_BYTES = 64;

  /** Opaque {@code frl_blob*}. */
  @Opaque
  public static class frl_blob extends Pointer {
    public frl_blob() {
      super((Pointer) null);
    }

    public frl_blob(Pointer p) {
      super(p);
    }
  }

  /** Opaque {@code frl_arena*}. */
  @Opaque
  public static class frl_arena extends Pointer {
    public frl_arena() {
      super((Pointer) null);
    }

    public frl_arena(Pointer p) {
      super(p);
    }
  }

  public static native int frl_tensor_dtype(@Const frl_tensor t, @Cast("frl_dtype*") IntPointer outDtype);

  public static native int frl_tensor_ndim(@Const frl_tensor t, IntPointer outNdim);

  public static native int frl_tensor_view(@Const frl_tensor src, @Cast("int64_t") long elemOffset, int ndim,
      @Cast("const int64_t*") LongPointer shape, @Cast("const int64_t*") LongPointer strides,
      @ByPtrPtr frl_tensor outView);

  public static native int frl_tensor_reshape(@Const frl_tensor src, int ndim, @Cast("const int64_t*") LongPointer shape,
      @ByPtrPtr frl_tensor outView);

  public static native int frl_tensor_narrow(@Const frl_tensor src, int dim, @Cast("int64_t") long start,
      @Cast("int64_t") long length, @ByPtrPtr frl_tensor outView);

  public static native int frl_tensor_strides(@Const frl_tensor t, @Cast("int64_t*") LongPointer outStrides);

  public static native int frl_tensor_offset(@Const frl_tensor t, @Cast("int64_t*") LongPointer outOffset);

  public static native int frl_tensor_is_contiguous(@Const frl_tensor t, IntPointer outContiguous);

  public static native int frl_tensor_live_views(@Const frl_tensor t, @Cast("int64_t*") LongPointer outViews);

  public static native int frl_blob_create(frl_ctx ctx, @Cast("int64_t") long count,
      @Cast("const char* const*") PointerPointer<?> names, @Cast("const frl_dtype*") IntPointer dtypes,
      @Const IntPointer ndims, @Cast("const int64_t*") LongPointer shapes, @ByPtrPtr frl_blob outBlob);

  public static native int frl_blob_create_like(@Const frl_blob like, @ByPtrPtr frl_blob outBlob);

  public static native int frl_blob_destroy(frl_blob blob);

  public static native int frl_blob_count(@Const frl_blob blob, @Cast("int64_t*") LongPointer outCount);

  public static native int frl_blob_bytes(@Const frl_blob blob, @Cast("int64_t*") LongPointer outBytes);

  public static native int frl_blob_name(@Const frl_blob blob, @Cast("int64_t") long index,
      @Cast("const char**") PointerPointer<?> outName);

  public static native int frl_blob_entry_offset(@Const frl_blob blob, @Cast("int64_t") long index,
      @Cast("int64_t*") LongPointer outByteOffset);

  public static native int frl_blob_tensor(@Const frl_blob blob, @Cast("const char*") BytePointer name,
      @ByPtrPtr frl_tensor outTensor);

  public static native int frl_blob_tensor_at(@Const frl_blob blob, @Cast("int64_t") long index,
      @ByPtrPtr frl_tensor outTensor);

  public static native int frl_blob_flat(@Const frl_blob blob, @Cast("frl_dtype") int dtype,
      @ByPtrPtr frl_tensor outView);

  public static native int frl_arena_create(frl_ctx ctx, @Cast("int64_t") long capacityBytes,
      @ByPtrPtr frl_arena outArena);

  public static native int frl_arena_destroy(frl_arena arena);

  public static native int frl_arena_allocate(frl_arena arena, @Cast("frl_dtype") int dtype, int ndim,
      @Cast("const int64_t*") LongPointer shape, @ByPtrPtr frl_tensor outTensor);

  public static native int frl_arena_reset(frl_arena arena);

  public static native int frl_arena_used(@Const frl_arena arena, @Cast("int64_t*") LongPointer outBytes);

  public static native int frl_arena_capacity(@Const frl_arena arena, @Cast("int64_t*") LongPointer outBytes);

  public static native int frl_arena_generation(@Const frl_arena arena, @Cast("int64_t*") LongPointer outGeneration);

  public static native int frl_arena_bytes_for(@Cast("frl_dtype") int dtype, int ndim,
      @Cast("const int64_t*") LongPointer shape, @Cast("int64_t*") LongPointer outBytes);
}

package org.factrl.bindings;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
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

/**
 * Raw JavaCPP binding of {@code native/include/factrl.h}: contexts, tensors, errors. Every function
 * returns an {@code frl_status} (0 = OK); use {@code org.factrl.engine} rather than calling these
 * directly — it turns statuses into {@code FactRlException}s and owns the handles.
 */
@Platform(include = "factrl.h", link = "factrl")
public final class FactRlCore {
  static {
    Loader.load();
  }

  private FactRlCore() {}

  public static final int FRL_OK = 0;
  public static final int FRL_BACKEND_CPU = 0, FRL_BACKEND_CUDA = 1;
  public static final int FRL_F32 = 0, FRL_BF16 = 1, FRL_I32 = 2;
  public static final int FRL_MAX_DIMS = 4;

  /** Opaque {@code frl_ctx*}. */
  @Opaque
  public static class frl_ctx extends Pointer {
    public frl_ctx() {
      super((Pointer) null);
    }

    public frl_ctx(Pointer p) {
      super(p);
    }
  }

  /** Opaque {@code frl_tensor*}. */
  @Opaque
  public static class frl_tensor extends Pointer {
    public frl_tensor() {
      super((Pointer) null);
    }

    public frl_tensor(Pointer p) {
      super(p);
    }
  }

  public static native @Cast("const char*") BytePointer frl_last_error();

  public static native @Cast("const char*") BytePointer frl_version();

  public static native int frl_built_with_cuda();

  public static native int frl_built_with_cublas();

  public static native @Cast("const char*") BytePointer frl_cpu_isa();

  public static native int frl_cuda_device_count(IntPointer outCount);

  public static native int frl_ctx_create(@Cast("frl_backend") int backend, int device, @ByPtrPtr frl_ctx outCtx);

  public static native int frl_ctx_destroy(frl_ctx ctx);

  public static native int frl_ctx_backend(@Const frl_ctx ctx, @Cast("frl_backend*") IntPointer outBackend);

  public static native int frl_ctx_device_name(@Const frl_ctx ctx, @Cast("const char**") PointerPointer<?> outName);

  public static native int frl_ctx_synchronize(frl_ctx ctx);

  public static native int frl_ctx_bytes_in_use(@Const frl_ctx ctx, @Cast("int64_t*") LongPointer outBytes);

  public static native int frl_tensor_create(frl_ctx ctx, @Cast("frl_dtype") int dtype, int ndim,
      @Cast("const int64_t*") LongPointer shape, @ByPtrPtr frl_tensor outTensor);

  public static native int frl_tensor_destroy(frl_tensor t);

  public static native int frl_tensor_shape(@Const frl_tensor t, @Cast("int64_t*") LongPointer outShape);

  public static native int frl_tensor_write_f32(frl_tensor t, @Cast("int64_t") long offset, @Const FloatPointer src,
      @Cast("int64_t") long count);

  public static native int frl_tensor_read_f32(@Const frl_tensor t, @Cast("int64_t") long offset, FloatPointer dst,
      @Cast("int64_t") long count);

  public static native int frl_tensor_write_i32(frl_tensor t, @Cast("int64_t") long offset, @Cast("const int32_t*") IntPointer src,
      @Cast("int64_t") long count);

  public static native int frl_tensor_read_i32(@Const frl_tensor t, @Cast("int64_t") long offset, @Cast("int32_t*") IntPointer dst,
      @Cast("int64_t") long count);

  public static native int frl_tensor_fill_zero(frl_tensor t);

  public static native int frl_tensor_copy(frl_tensor dst, @Const frl_tensor src);
}

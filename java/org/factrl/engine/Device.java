package org.factrl.engine;

import static org.factrl.engine.Native.check;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.factrl.bindings.FactRlCore;
import org.factrl.bindings.FactRlCore.frl_ctx;

/**
 * One backend on one device with one stream (a native {@code frl_ctx}). Creates {@link Tensor}s;
 * close every tensor before closing its device. Not thread-safe: use a device from one thread.
 */
public final class Device implements AutoCloseable {
  /** Which engine implementation runs the kernels. */
  public enum Backend {
    CPU, CUDA
  }

  private final Backend backend;
  private final String name;
  private frl_ctx ctx;

  private Device(Backend backend, int index) {
    frl_ctx handle = new frl_ctx();
    check(FactRlCore.frl_ctx_create(backend.ordinal(), index, handle));
    this.ctx = handle;
    this.backend = backend;
    try (PointerPointer<BytePointer> out = new PointerPointer<>(1)) {
      check(FactRlCore.frl_ctx_device_name(ctx, out));
      this.name = out.get(BytePointer.class, 0).getString();
    }
  }

  /** The CPU reference backend (fp32). */
  public static Device cpu() {
    return new Device(Backend.CPU, 0);
  }

  /**
   * A CUDA device. Throws {@link FactRlException} with status UNAVAILABLE when the library was built
   * without CUDA or no GPU / driver is present.
   */
  public static Device cuda(int index) {
    Native.checkArgument(index >= 0, "index", "CUDA device index must be >= 0, got %d", index);
    return new Device(Backend.CUDA, index);
  }

  /** The first CUDA device when one is usable, else the CPU. */
  public static Device best() {
    return cudaDeviceCount() > 0 ? cuda(0) : cpu();
  }

  /** Number of usable CUDA devices; 0 when not built with CUDA, or no driver / GPU. Never throws. */
  public static int cudaDeviceCount() {
    try (IntPointer out = new IntPointer(1)) {
      check(FactRlCore.frl_cuda_device_count(out));
      return out.get();
    }
  }

  /** True when the native library was compiled with the CUDA backend. */
  public static boolean builtWithCuda() {
    return FactRlCore.frl_built_with_cuda() != 0;
  }

  /**
   * The instruction set the CPU backend's GEMM runs on this machine: {@code "avx512"}, {@code "avx2"}
   * or {@code "scalar"} (chosen at run time; the environment variable {@code FACTRL_CPU_ISA} can force
   * a lower one).
   */
  public static String cpuIsa() {
    return FactRlCore.frl_cpu_isa().getString();
  }

  public Backend backend() {
    return backend;
  }

  public String name() {
    return name;
  }

  /**
   * Waits for queued work (a no-op on the CPU). On CUDA this (like every host read of a tensor) is
   * the point where errors that kernels flagged on the device since the last sync point are
   * reported — e.g. a token id outside the vocabulary: it throws {@link FactRlException} naming the
   * op and the argument; the CUDA ops themselves never wait for the GPU.
   */
  public void synchronize() {
    check(FactRlCore.frl_ctx_synchronize(handle()));
  }

  /**
   * Bytes held by this device: every live storage once at its full size (tensors, {@link
   * ParameterBlob}s, {@link ActivationArena}s' whole capacity; views add nothing), plus memory the
   * backend keeps in pools.
   */
  public long bytesInUse() {
    try (LongPointer out = new LongPointer(1)) {
      check(FactRlCore.frl_ctx_bytes_in_use(handle(), out));
      return out.get();
    }
  }

  /** A zero-filled tensor. */
  public Tensor zeros(DType dtype, long... shape) {
    return Tensor.create(this, dtype, shape);
  }

  /** An F32 tensor (or BF16, rounded) holding {@code data} in row-major order. */
  public Tensor fromFloats(DType dtype, float[] data, long... shape) {
    Native.checkNotNull(data, "data");
    Tensor t = Tensor.create(this, dtype, shape);
    try {
      t.write(data);
    } catch (RuntimeException e) {
      t.close();
      throw e;
    }
    return t;
  }

  public Tensor fromFloats(float[] data, long... shape) {
    return fromFloats(DType.F32, data, shape);
  }

  /** An I32 tensor holding {@code data}. */
  public Tensor fromInts(int[] data, long... shape) {
    Native.checkNotNull(data, "data");
    Tensor t = Tensor.create(this, DType.I32, shape);
    try {
      t.write(data);
    } catch (RuntimeException e) {
      t.close();
      throw e;
    }
    return t;
  }

  /** The native handle, for kernel wrappers. Throws if the device is closed. */
  public frl_ctx handle() {
    if (ctx == null) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "device " + name + " is closed");
    }
    return ctx;
  }

  @Override
  public void close() {
    if (ctx != null) {
      check(FactRlCore.frl_ctx_destroy(ctx));
      ctx = null;
    }
  }

  @Override
  public String toString() {
    return backend + ":" + name;
  }
}

package org.factrl.kernels;

import static org.factrl.engine.Native.check;
import static org.factrl.engine.Native.handle;

import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.GlueNative;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;

/**
 * The glue between layers (native {@code factrl/glue.h}): elementwise add / axpy / scale, fill,
 * f32 ↔ bf16 casts and row gather / scatter, on the CPU and CUDA.
 *
 * <pre>
 *   add          y = a + b                         (y may be a or b)
 *   axpy         y = y + alpha · x                 (y may be x)
 *   scale        y = alpha · x                     (y may be x: in place)
 *   fill         t = value
 *   cast         dst = src as dst's dtype          (F32 → BF16 rounds to nearest, ties to even)
 *   gatherRows   dst[i] = src[idx[i]]              (take minibatch rows)
 *   scatterRows  dst[idx[i]] = src[i], or += with ACCUMULATE
 *                                                  (splice image features, append to a KV cache)
 * </pre>
 *
 * <p>Arithmetic (add, axpy, scale, an accumulating scatter) runs on F32 on the CPU and F32 or BF16 on
 * CUDA; fill and cast also take BF16 on the CPU (storage); gather and an overwriting scatter move
 * rows of any dtype. Rows are along the first dimension: {@code src [R, ...]} and {@code dst [n, ...]}
 * share every later dimension, {@code idx} is {@code [n]} I32. An index outside {@code [0, R)} throws
 * {@link org.factrl.engine.FactRlException} naming {@code idx} on the CPU; on CUDA the kernel records
 * it on the device and the next sync point ({@link org.factrl.engine.Device#synchronize()} or a read
 * to the host) throws it (no host synchronisation per op). Repeated scatter indices: ACCUMULATE adds all rows in ascending order;
 * OVERWRITE keeps the last on the CPU, an unspecified one on CUDA. Every tensor must live on one
 * device; the native side checks shapes and dtypes and names the argument.
 */
public final class TensorOps {
  private TensorOps() {}

  /** {@code y = a + b}, elementwise; equal shapes and dtypes. */
  public static void add(Tensor a, Tensor b, Tensor y) {
    check(GlueNative.frl_add(device(a, "a"), handle(a, "a"), handle(b, "b"), handle(y, "y")));
  }

  /** {@code y = y + alpha · x}, elementwise. */
  public static void axpy(float alpha, Tensor x, Tensor y) {
    check(GlueNative.frl_axpy(device(x, "x"), alpha, handle(x, "x"), handle(y, "y")));
  }

  /** {@code y = alpha · x}, elementwise; y may be x. */
  public static void scale(float alpha, Tensor x, Tensor y) {
    check(GlueNative.frl_scale(device(x, "x"), alpha, handle(x, "x"), handle(y, "y")));
  }

  /** Every element of {@code t} (F32 or BF16) set to {@code value} (rounded to bf16 for BF16). */
  public static void fill(Tensor t, float value) {
    check(GlueNative.frl_fill(device(t, "t"), handle(t, "t"), value));
  }

  /** {@code dst = src} converted to dst's dtype (F32 ↔ BF16; the same dtype copies); equal shapes. */
  public static void cast(Tensor src, Tensor dst) {
    check(GlueNative.frl_cast(device(src, "src"), handle(src, "src"), handle(dst, "dst")));
  }

  /** {@code dst[i] = src[idx[i]]} for every row i of dst; dst may not be src. */
  public static void gatherRows(Tensor src, Tensor idx, Tensor dst) {
    check(GlueNative.frl_gather_rows(device(src, "src"), handle(src, "src"), handle(idx, "idx"), handle(dst, "dst")));
  }

  /**
   * {@code dst[idx[i]] = src[i]} ({@link GradMode#OVERWRITE}) or {@code dst[idx[i]] += src[i]}
   * ({@link GradMode#ACCUMULATE}) for every row i of src; rows of dst not named in idx are untouched.
   */
  public static void scatterRows(Tensor src, Tensor idx, Tensor dst, GradMode mode) {
    Native.checkNotNull(mode, "mode");
    check(GlueNative.frl_scatter_rows(device(src, "src"), handle(src, "src"), handle(idx, "idx"), handle(dst, "dst"),
        mode.flag()));
  }

  // The first tensor's device runs the op; the native side checks that the others live on it.
  private static frl_ctx device(Tensor t, String argument) {
    return Native.checkNotNull(t, argument).device().handle();
  }
}

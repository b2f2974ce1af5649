package org.factrl.kernels;

import static org.factrl.engine.Native.check;
import static org.factrl.engine.Native.checkArgument;
import static org.factrl.engine.Native.checkNotNull;

import java.util.Arrays;
import org.factrl.bindings.FactRlCore.frl_tensor;
import org.factrl.bindings.LoraNative;
import org.factrl.engine.Device;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;

/**
 * The fused LoRA matmul of a linear layer with a frozen base weight (DESIGN.md §3).
 *
 * <p>Shapes (all tensors row-major, on one {@link Device}; contiguous, except that on the CPU
 * {@code x}, {@code y}, {@code dy} and {@code dx} may be row-contiguous views such as a column slice
 * {@code buffer.narrow(1, offset, width)}): tokens {@code x [N, K]}, base weight
 * {@code W [M, K]} (nn.Linear layout), adapter {@code A [r, K]}, {@code B [M, r]}, scale {@code s}
 * (see {@link LoraAdapter}); output {@code y [N, M]}; saved activation {@code u [N, r]}.
 *
 * <pre>
 *   forward    u = x A^T,  y = x W^T + s u B^T          (adapter null: y = x W^T exactly)
 *   backward   g = dy,  v = g B,
 *              dx = g W + s v A                         (adapter null: dx = g W)
 *              dA = s v^T x,  dB = s g^T u              (W gets no gradient)
 * </pre>
 *
 * <p>What is written: {@code y} and {@code u} are always overwritten. The gradients {@code dx},
 * {@code dA} and {@code dB} are overwritten with {@link GradMode#OVERWRITE} or added into with
 * {@link GradMode#ACCUMULATE} ({@code dx}: the q/k/v or gate/up projections of one input add into one
 * gradient; {@code dA}/{@code dB}: accumulation over micro-batches). Optional outputs may be
 * {@code null}: {@code u} in the forward (inference; a workspace holds it), {@code dx} (first layer),
 * {@code dA}, {@code dB}; {@code u} is required when {@code dB} is requested.
 *
 * <p>Dtypes: F32 everywhere on the CPU. On CUDA {@code x}, {@code w} and the activations share one
 * dtype, F32 (exact SIMT kernels) or BF16 (cuBLASLt or tensor cores, fp32 accumulation); the adapter
 * ({@code A}, {@code B}) is that dtype or F32 over a BF16 base (f32 master weights, cast to bf16 for
 * the products), and {@code dA}/{@code dB} may be F32 or the activation dtype. The CUDA calls are
 * asynchronous on the device's stream.
 *
 * <p>Argument problems throw {@link org.factrl.engine.FactRlException} naming the argument (Java-side
 * checks of nulls, ranks, widths and devices; the native library re-checks everything, dtypes too).
 */
public final class LoraMatmul {
  private LoraMatmul() {}

  /**
   * {@code y = x W^T + s (x A^T) B^T}, saving {@code u = x A^T} when {@code u} is not null; with a
   * null adapter, {@code y = x W^T} (the reference model: the policy's base with adapters off).
   */
  public static void forward(Tensor x, Tensor w, LoraAdapter adapter, Tensor y, Tensor u) {
    Shape s = Shape.of(x, w, adapter);
    checkNotNull(y, "y");
    s.expect(y, "y", s.n, s.m);
    if (u != null) {
      checkArgument(adapter != null, "u", "must be null when the adapter is off");
      s.expect(u, "u", s.n, s.r);
    }
    check(LoraNative.frl_lora_forward(x.device().handle(), x.handle("x"), w.handle("w"), a(adapter), b(adapter),
        scale(adapter), adapter != null ? 1 : 0, y.handle("y"), handle(u, "u")));
  }

  /** {@code y = x W^T}: {@link #forward} with the adapter off. */
  public static void forwardBase(Tensor x, Tensor w, Tensor y) {
    forward(x, w, null, y, null);
  }

  /**
   * The backward of {@link #forward}: {@code dx = g W + s (g B) A}, {@code dA = s (g B)^T x} and
   * {@code dB = s g^T u}, each skipped when null, else overwritten or accumulated per {@code mode}.
   * With a null adapter only {@code dx = g W} is computed and {@code u}, {@code dA}, {@code dB} must
   * be null.
   */
  public static void backward(Tensor x, Tensor w, LoraAdapter adapter, Tensor dy, Tensor u, Tensor dx,
      Tensor dA, Tensor dB, GradMode mode) {
    Shape s = Shape.of(x, w, adapter);
    checkNotNull(dy, "dy");
    checkNotNull(mode, "mode");
    s.expect(dy, "dy", s.n, s.m);
    if (dx != null) {
      s.expect(dx, "dx", s.n, s.k);
    }
    if (adapter == null) {
      checkNotNull(dx, "dx");
      checkArgument(u == null, "u", "must be null when the adapter is off");
      checkArgument(dA == null, "dA", "must be null when the adapter is off");
      checkArgument(dB == null, "dB", "must be null when the adapter is off");
    } else {
      if (u != null) {
        s.expect(u, "u", s.n, s.r);
      }
      if (dA != null) {
        s.expect(dA, "dA", s.r, s.k);
      }
      if (dB != null) {
        checkNotNull(u, "u");
        s.expect(dB, "dB", s.m, s.r);
      }
    }
    check(LoraNative.frl_lora_backward(x.device().handle(), x.handle("x"), w.handle("w"), a(adapter), b(adapter),
        scale(adapter), adapter != null ? 1 : 0, dy.handle("dy"), handle(u, "u"), handle(dx, "dx"),
        handle(dA, "dA"), handle(dB, "dB"),
        mode.flag()));
  }

  /** {@code dx = dy W}: {@link #backward} with the adapter off. */
  public static void backwardBase(Tensor x, Tensor w, Tensor dy, Tensor dx) {
    backward(x, w, null, dy, null, dx, null, null, GradMode.OVERWRITE);
  }

  private static frl_tensor handle(Tensor t, String name) {
    return Native.handleOrNull(t, name);
  }

  private static frl_tensor a(LoraAdapter adapter) {
    return adapter == null ? null : adapter.a().handle("adapter.a");
  }

  private static frl_tensor b(LoraAdapter adapter) {
    return adapter == null ? null : adapter.b().handle("adapter.b");
  }

  private static float scale(LoraAdapter adapter) {
    return adapter == null ? 0f : adapter.scale();
  }

  /** N, K, M, r of one call, checked from x, W and the adapter; then every other tensor against them. */
  private static final class Shape {
    final long n;
    final long k;
    final long m;
    final long r;
    final Device device;

    private Shape(long n, long k, long m, long r, Device device) {
      this.n = n;
      this.k = k;
      this.m = m;
      this.r = r;
      this.device = device;
    }

    static Shape of(Tensor x, Tensor w, LoraAdapter adapter) {
      checkNotNull(x, "x");
      checkNotNull(w, "w");
      checkArgument(x.ndim() == 2, "x", "must be [N, K], got %s", Arrays.toString(x.shape()));
      checkArgument(w.ndim() == 2, "w", "must be [M, K], got %s", Arrays.toString(w.shape()));
      checkArgument(w.dim(1) == x.dim(1), "w", "has K = %d (shape %s), but x has K = %d (shape %s)", w.dim(1),
          Arrays.toString(w.shape()), x.dim(1), Arrays.toString(x.shape()));
      checkArgument(w.device() == x.device(), "w", "lives on %s, but x lives on %s", w.device(), x.device());
      long r = 0;
      if (adapter != null) {
        r = adapter.rank();
        checkArgument(adapter.a().dim(1) == x.dim(1), "a", "has K = %d (shape %s), but x has K = %d",
            adapter.a().dim(1), Arrays.toString(adapter.a().shape()), x.dim(1));
        checkArgument(adapter.b().dim(0) == w.dim(0), "b", "has M = %d (shape %s), but w has M = %d",
            adapter.b().dim(0), Arrays.toString(adapter.b().shape()), w.dim(0));
        checkArgument(adapter.a().device() == x.device(), "a", "lives on %s, but x lives on %s",
            adapter.a().device(), x.device());
      }
      return new Shape(x.dim(0), x.dim(1), w.dim(0), r, x.device());
    }

    void expect(Tensor t, String name, long d0, long d1) {
      checkArgument(t.ndim() == 2 && t.dim(0) == d0 && t.dim(1) == d1, name, "has shape %s, expected [%d, %d]",
          Arrays.toString(t.shape()), d0, d1);
      checkArgument(t.device() == device, name, "lives on %s, but x lives on %s", t.device(), device);
    }
  }
}

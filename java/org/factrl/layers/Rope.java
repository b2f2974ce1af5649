package org.factrl.layers;

import static org.factrl.engine.Native.check;
import static org.factrl.layers.Handles.required;

import org.factrl.bindings.LayersNative;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;

/**
 * Rotary position embedding as LLaMA / Hugging Face apply it to q and k, {@code x [B, S, H, D]} (D
 * even) at {@code positions [B, S]} I32 (≥ 0; any offsets, e.g. past a KV cache). Element i rotates
 * with element i + D/2 by {@code φ = p · base^(−2i/D)} (fp32, as HF computes it):
 *
 * <pre>
 *   y[i] = x[i]·cos φ − x[i+D/2]·sin φ        y[i+D/2] = x[i+D/2]·cos φ + x[i]·sin φ
 * </pre>
 *
 * <p>A rotation's gradient is the inverse rotation, so {@link #backward} is the same kernel at −φ.
 * F32 on a CPU device, F32 or BF16 on a CUDA device (a negative position is then reported at the
 * next sync); y may be x (in place). Immutable.
 */
public final class Rope {
  /** LLaMA's base (rope_theta). */
  public static final float DEFAULT_BASE = 10000f;

  private final float base;

  private Rope(float base) {
    this.base = base;
  }

  /** RoPE with the given {@code base} (finite, > 0). */
  public static Rope withBase(float base) {
    Native.checkArgument(Float.isFinite(base) && base > 0, "base", "must be finite and > 0, got %s", base);
    return new Rope(base);
  }

  public float base() {
    return base;
  }

  /** {@code y = rope(x, positions)}. */
  public void forward(Tensor x, Tensor positions, Tensor y) {
    run(x, positions, y, false, GradMode.OVERWRITE);
  }

  /**
   * {@code dx = rope(dy, −positions)}, the gradient of {@link #forward}, written or added into dx per
   * {@code mode}; dx may be dy.
   */
  public void backward(Tensor dy, Tensor positions, Tensor dx, GradMode mode) {
    Native.checkNotNull(mode, "mode");
    run(dy, positions, dx, true, mode);
  }

  private void run(Tensor x, Tensor positions, Tensor y, boolean inverse, GradMode mode) {
    String name = inverse ? "dy" : "x";
    Tensor xs = Native.checkNotNull(x, name);
    check(LayersNative.frl_rope(xs.device().handle(), xs.handle(name), required(positions, "positions"), base,
        inverse ? 1 : 0, required(y, inverse ? "dx" : "y"), mode.flag()));
  }

  @Override
  public String toString() {
    return "Rope[base=" + base + "]";
  }
}

package org.factrl.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.FactRlCore.frl_tensor;

/**
 * Raw JavaCPP binding of {@code native/include/factrl/lora.h}: the fused LoRA matmul. Each function
 * returns an {@code frl_status} (0 = OK). A Java {@code null} passes a C {@code NULL} (optional
 * tensors). Use {@code org.factrl.kernels.LoraMatmul}, which checks arguments and throws.
 */
@Platform(include = "factrl.h", link = "factrl")
public final class LoraNative {
  static {
    Loader.load(FactRlCore.class);
    Loader.load();
  }

  private LoraNative() {}

  /** {@code y = x W^T + scale * (x A^T) B^T} (useAdapter 1) or {@code y = x W^T} (0); saves u = x A^T. */
  public static native int frl_lora_forward(frl_ctx ctx, @Const frl_tensor x, @Const frl_tensor w,
      @Const frl_tensor a, @Const frl_tensor b, float scale, int useAdapter, frl_tensor y, frl_tensor u);

  /**
   * {@code dx (+)= g W + s (g B) A}, {@code dA (+)= s (g B)^T x}, {@code dB (+)= s g^T u}; with useAdapter 0
   * only {@code dx (+)= g W}. accumulate 1 adds into dx, dA and dB; 0 overwrites them.
   */
  public static native int frl_lora_backward(frl_ctx ctx, @Const frl_tensor x, @Const frl_tensor w,
      @Const frl_tensor a, @Const frl_tensor b, float scale, int useAdapter, @Const frl_tensor dy,
      @Const frl_tensor u, frl_tensor dx, frl_tensor dA, frl_tensor dB, int accumulate);
}

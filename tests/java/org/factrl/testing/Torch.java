package org.factrl.testing;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * libtorch (CPU) as the test oracle: build torch tensors from Java arrays and read them back.
 * Wrap oracle code in {@code try (PointerScope s = new PointerScope())} so native tensors are freed.
 */
public final class Torch {
  static {
    Loader.load(torch.class);
  }

  private Torch() {}

  /** A float32 torch tensor with a copy of {@code data}; optionally requiring grad. */
  public static Tensor tensor(float[] data, boolean requiresGrad, long... shape) {
    Tensor t = Tensor.create(data, shape);
    return requiresGrad ? t.requires_grad_(true) : t;
  }

  public static Tensor tensor(float[] data, long... shape) {
    return tensor(data, false, shape);
  }

  /** An int64 torch tensor (for indices). */
  public static Tensor longTensor(long[] data, long... shape) {
    return Tensor.create(data, shape);
  }

  /** The values of a float tensor, row-major. */
  public static float[] floats(Tensor t) {
    Tensor c = t.detach().to(torch.ScalarType.Float).contiguous();
    float[] out = new float[(int) c.numel()];
    c.data_ptr_float().get(out);
    return out;
  }
}

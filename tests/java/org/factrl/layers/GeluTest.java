package org.factrl.layers;

import static org.factrl.layers.LayerNormTest.assertMessage;
import static org.factrl.layers.LayerNormTest.assertStatusNames;
import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.plus;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.factrl.bindings.VitLayersNative;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.layers.Gelu.Approximation;
import org.factrl.testing.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * GELU (erf and tanh forms): y and dx against libtorch's {@code gelu(x, approximate)} and its
 * autograd, over [−6, 6) (both tails and the bend), both gradient modes onto a random G0, in
 * place, hand-computed values, argument errors.
 *
 * <p>Tolerances (fp32): y atol 1e-6 + rtol 1e-5 (libm erf/tanh/exp against libtorch's vectorised
 * ones: a few ulp); dx atol 3e-6 + rtol 1e-5 (libtorch's vectorised tanh reaches −1 sooner: near
 * x = −5 its tanh-form dx is 0 where the exact value, and ours, is ≈ −1.6e-6); + 2e-6 atol where a
 * G0 of |G0| ≤ 3 is added (one more rounding).
 */
class GeluTest {

  /** {y, dx} from libtorch for x, upstream g. */
  private static float[][] oracle(float[] x, float[] g, Approximation approximation) {
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor xt = Torch.tensor(x, true, x.length);
      org.bytedeco.pytorch.Tensor y = torch.gelu(xt, approximation == Approximation.TANH ? "tanh" : "none");
      y.mul(Torch.tensor(g, g.length)).sum().backward();
      return new float[][] {Torch.floats(y), Torch.floats(xt.grad())};
    }
  }

  @ParameterizedTest(name = "{1} n={0}")
  @CsvSource({"1,ERF", "7,ERF", "257,ERF", "3001,ERF", "1,TANH", "7,TANH", "257,TANH", "3001,TANH"})
  void matchesTorchAutograd(int n, Approximation approximation) {
    float[] x = uniform(n * 13L, n, 6f);
    float[] g = uniform(n * 13L + 1, n, 1f);
    float[][] want = oracle(x, g, approximation);
    try (Device cpu = Device.cpu();
        Tensor xt = cpu.fromFloats(x, n);
        Tensor y = cpu.zeros(DType.F32, n);
        Tensor gt = cpu.fromFloats(g, n);
        Tensor dx = cpu.fromFloats(uniform(9, n, 3f), n)) {  // garbage: overwritten
      Gelu gelu = Gelu.of(approximation);
      gelu.forward(xt, y);
      assertClose(want[0], y.toFloatArray(), 1e-6, 1e-5, "y");
      gelu.backward(xt, gt, dx, GradMode.OVERWRITE);
      assertClose(want[1], dx.toFloatArray(), 3e-6, 1e-5, "dx");
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"ERF", "TANH"})
  void accumulatesOntoG0AndRunsInPlaceOnAnyShape(Approximation approximation) {
    int rows = 3, cols = 11;
    float[] x = uniform(21, rows * cols, 4f);
    float[] g = uniform(22, rows * cols, 1f);
    float[] g0 = uniform(23, rows * cols, 3f);
    float[][] want = oracle(x, g, approximation);
    try (Device cpu = Device.cpu();
        Tensor xt = cpu.fromFloats(x, rows, cols);
        Tensor gt = cpu.fromFloats(g, rows, cols);
        Tensor dx = cpu.fromFloats(g0, rows, cols)) {
      Gelu gelu = Gelu.of(approximation);
      gelu.backward(xt, gt, dx, GradMode.ACCUMULATE);
      assertClose(plus(g0, want[1]), dx.toFloatArray(), 5e-6, 1e-5, "dx = G0 + oracle");
      gelu.forward(xt, xt);
      assertClose(want[0], xt.toFloatArray(), 1e-6, 1e-5, "y in place");
    }
  }

  @Test
  void handComputedValues() {
    // erf: gelu(1) = Φ(1) = 0.8413447, gelu(−1) = −0.1586553, gelu(0) = 0; gelu'(0) = ½.
    // tanh: gelu(1) = ½(1 + tanh(√(2/π)·1.044715)) = 0.8411920.
    try (Device cpu = Device.cpu();
        Tensor x = cpu.fromFloats(new float[] {1, -1, 0}, 3);
        Tensor y = cpu.zeros(DType.F32, 3);
        Tensor ones = cpu.fromFloats(new float[] {1, 1, 1}, 3);
        Tensor dx = cpu.zeros(DType.F32, 3)) {
      Gelu.of(Approximation.ERF).forward(x, y);
      assertArrayEquals(new float[] {0.8413447f, -0.1586553f, 0f}, y.toFloatArray(), 1e-6f);
      Gelu.of(Approximation.ERF).backward(x, ones, dx, GradMode.OVERWRITE);
      assertArrayEquals(new float[] {0.5f}, new float[] {dx.toFloatArray()[2]}, 1e-7f);
      Gelu.of(Approximation.TANH).forward(x, y);
      assertArrayEquals(new float[] {0.8411920f}, new float[] {y.toFloatArray()[0]}, 1e-6f);
    }
  }

  @Test
  void badArgumentsNameTheArgument() {
    try (Device cpu = Device.cpu();
        Tensor x = cpu.zeros(DType.F32, 2, 4);
        Tensor y = cpu.zeros(DType.F32, 2, 4);
        Tensor yBad = cpu.zeros(DType.F32, 4, 2);
        Tensor dx = cpu.zeros(DType.F32, 2, 4);
        Tensor ints = cpu.zeros(DType.I32, 2, 4);
        Tensor bf16 = cpu.zeros(DType.BF16, 2, 4);
        Tensor wide = cpu.zeros(DType.F32, 2, 8);
        Tensor slice = wide.narrow(1, 0, 4)) {
      Gelu gelu = Gelu.of(Approximation.ERF);
      assertMessage(() -> Gelu.of(null), "'approximation'");
      assertMessage(() -> gelu.forward(null, y), "'x'");
      assertMessage(() -> gelu.forward(x, null), "'y'");
      assertMessage(() -> gelu.forward(x, yBad), "'y' has shape [4, 2]");
      assertMessage(() -> gelu.forward(ints, y), "'x'");
      assertMessage(() -> gelu.forward(x, bf16), "'y'");
      assertMessage(() -> gelu.forward(slice, y), "argument 'x' is a non-contiguous view");
      assertMessage(() -> gelu.backward(x, yBad, y, GradMode.OVERWRITE), "'dy'");
      assertMessage(() -> gelu.backward(x, y, yBad, GradMode.OVERWRITE), "'dx'");
      assertMessage(() -> gelu.backward(x, y, null, GradMode.OVERWRITE), "'dx'");
      assertMessage(() -> gelu.backward(x, y, y, GradMode.OVERWRITE), "'dx' must not be the same tensor as 'dy'");
      assertMessage(() -> gelu.backward(x, y, x, GradMode.OVERWRITE), "'dx' must not be the same tensor as 'x'");
      assertMessage(() -> gelu.backward(x, y, slice, GradMode.OVERWRITE), "argument 'dx' is a non-contiguous view");
      assertMessage(() -> gelu.backward(x, y, yBad, null), "'mode'");
      // Bad native enums through the raw binding (the Java API cannot pass them).
      assertStatusNames("approximation", VitLayersNative.frl_gelu_forward(cpu.handle(), x.handle(), 2, y.handle()));
      assertStatusNames("approximation",
          VitLayersNative.frl_gelu_backward(cpu.handle(), x.handle(), y.handle(), -1, yBad.handle(), 0));
      assertStatusNames("mode", VitLayersNative.frl_gelu_backward(cpu.handle(), x.handle(), y.handle(), 0,
          dx.handle(), 3));
    }
  }
}

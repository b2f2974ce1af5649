package org.factrl.layers;

import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.plus;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.testing.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * RMSNorm: forward, rstd, dx and dw against libtorch autograd ({@code x * rsqrt(mean(x²) + eps) * w}),
 * accumulate, and argument errors.
 *
 * <p>Tolerances (fp32): y, rstd, dx atol 1e-5 + rtol 1e-4 (a length-d mean in another order, then
 * one rsqrt); dw atol 1e-5·N + rtol 1e-4 (a sum over N rows).
 */
class RmsNormTest {

  /** {y, rstd, dx, dw} from libtorch for x [n, d], w [d], upstream g [n, d]. */
  private static float[][] oracle(float[] x, float[] w, float[] g, int n, int d, float eps) {
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor xt = Torch.tensor(x, true, n, d);
      org.bytedeco.pytorch.Tensor wt = Torch.tensor(w, true, d);
      org.bytedeco.pytorch.Tensor rstd =
          xt.mul(xt).mean(new long[] {1}, true, new ScalarTypeOptional()).add(new Scalar(eps)).rsqrt();
      org.bytedeco.pytorch.Tensor y = xt.mul(rstd).mul(wt);
      y.mul(Torch.tensor(g, n, d)).sum().backward();
      return new float[][] {Torch.floats(y), Torch.floats(rstd), Torch.floats(xt.grad()), Torch.floats(wt.grad())};
    }
  }

  @ParameterizedTest(name = "N={0} d={1}")
  @CsvSource({"1,1", "3,5", "7,64", "4,257", "33,300", "2,1000"})
  void matchesTorchAutograd(int n, int d) {
    float eps = 1e-6f;
    float[] x = uniform(n * 31L + d, n * d, 2f);
    float[] w = uniform(n * 31L + d + 1, d, 1.5f);
    float[] g = uniform(n * 31L + d + 2, n * d, 1f);
    float[][] want = oracle(x, w, g, n, d, eps);
    try (Device cpu = Device.cpu();
        Tensor xt = cpu.fromFloats(x, n, d);
        Tensor wt = cpu.fromFloats(w, d);
        Tensor y = cpu.zeros(DType.F32, n, d);
        Tensor rstd = cpu.zeros(DType.F32, n);
        Tensor gt = cpu.fromFloats(g, n, d);
        Tensor dx = cpu.fromFloats(uniform(9, n * d, 3f), n, d);  // garbage: overwritten
        Tensor dw = cpu.fromFloats(uniform(8, d, 3f), d)) {
      RmsNorm norm = RmsNorm.of(wt, eps);
      norm.forward(xt, y, rstd);
      assertClose(want[0], y.toFloatArray(), 1e-5, 1e-4, "y");
      assertClose(want[1], rstd.toFloatArray(), 1e-5, 1e-4, "rstd");
      norm.backward(xt, rstd, gt, dx, dw, GradMode.OVERWRITE);
      assertClose(want[2], dx.toFloatArray(), 1e-5, 1e-4, "dx");
      assertClose(want[3], dw.toFloatArray(), 1e-5 * n, 1e-4, "dw");
    }
  }

  @Test
  void threeDimensionalInputIsRowsOfTheLastDimensionAndWorksInPlace() {
    float[] x = uniform(3, 2 * 3 * 4, 1f);
    float[] w = uniform(4, 4, 1f);
    float[][] want = oracle(x, w, new float[24], 6, 4, 1e-5f);
    try (Device cpu = Device.cpu(); Tensor xt = cpu.fromFloats(x, 2, 3, 4); Tensor wt = cpu.fromFloats(w, 4)) {
      RmsNorm.of(wt, 1e-5f).forward(xt, xt, null);
      assertClose(want[0], xt.toFloatArray(), 1e-6, 1e-5, "y in place");
    }
  }

  @Test
  void handComputedRow() {
    // x = (3, 4): mean square 12.5, rstd = 1/sqrt(12.5) (eps negligible); w = (1, 2).
    try (Device cpu = Device.cpu();
        Tensor x = cpu.fromFloats(new float[] {3, 4}, 1, 2);
        Tensor w = cpu.fromFloats(new float[] {1, 2}, 2);
        Tensor y = cpu.zeros(DType.F32, 1, 2)) {
      RmsNorm.of(w, 1e-12f).forward(x, y, null);
      double r = 1 / Math.sqrt(12.5);
      assertArrayEquals(new float[] {(float) (3 * r), (float) (8 * r)}, y.toFloatArray(), 1e-6f);
    }
  }

  @Test
  void eachGradientOverwritesOrAddsToG0PerItsMode() {
    int n = 5, d = 6;
    float[] x = uniform(1, n * d, 1f);
    float[] w = uniform(2, d, 1f);
    float[] g = uniform(3, n * d, 1f);
    float[][] want = oracle(x, w, g, n, d, 1e-6f);
    float[] g0x = uniform(4, n * d, 3f);
    float[] g0w = uniform(5, d, 3f);
    try (Device cpu = Device.cpu();
        Tensor xt = cpu.fromFloats(x, n, d);
        Tensor wt = cpu.fromFloats(w, d);
        Tensor y = cpu.zeros(DType.F32, n, d);
        Tensor rstd = cpu.zeros(DType.F32, n);
        Tensor gt = cpu.fromFloats(g, n, d);
        Tensor dx = cpu.zeros(DType.F32, n, d);
        Tensor dw = cpu.zeros(DType.F32, d)) {
      RmsNorm norm = RmsNorm.of(wt, 1e-6f);
      norm.forward(xt, y, rstd);
      // Tolerances as in matchesTorchAutograd, plus one rounding of |G0| <= 3.
      dx.write(g0x);
      dw.write(g0w);
      norm.backward(xt, rstd, gt, dx, GradMode.ACCUMULATE, dw, GradMode.OVERWRITE);
      assertClose(plus(g0x, want[2]), dx.toFloatArray(), 2e-5, 1e-4, "dx = G0 + oracle");
      assertClose(want[3], dw.toFloatArray(), 1e-5 * n, 1e-4, "dw = oracle");
      dx.write(g0x);
      dw.write(g0w);
      norm.backward(xt, rstd, gt, dx, GradMode.OVERWRITE, dw, GradMode.ACCUMULATE);
      assertClose(want[2], dx.toFloatArray(), 1e-5, 1e-4, "dx = oracle");
      assertClose(plus(g0w, want[3]), dw.toFloatArray(), 1e-5 * n + 1e-6, 1e-4, "dw = G0 + oracle");
      dx.write(g0x);
      dw.write(g0w);
      norm.backward(xt, rstd, gt, dx, dw, GradMode.ACCUMULATE);
      assertClose(plus(g0x, want[2]), dx.toFloatArray(), 2e-5, 1e-4, "dx = G0 + oracle (one mode)");
      assertClose(plus(g0w, want[3]), dw.toFloatArray(), 1e-5 * n + 1e-6, 1e-4, "dw = G0 + oracle (one mode)");
    }
  }

  @Test
  void badArgumentsNameTheArgument() {
    try (Device cpu = Device.cpu();
        Tensor x = cpu.zeros(DType.F32, 2, 4);
        Tensor w = cpu.zeros(DType.F32, 4);
        Tensor w3 = cpu.zeros(DType.F32, 3);
        Tensor y = cpu.zeros(DType.F32, 2, 4);
        Tensor yBad = cpu.zeros(DType.F32, 4, 2);
        Tensor rstd = cpu.zeros(DType.F32, 2);
        Tensor rstdBad = cpu.zeros(DType.F32, 3);
        Tensor ints = cpu.zeros(DType.I32, 2, 4)) {
      RmsNorm norm = RmsNorm.of(w, 1e-6f);
      assertMessage(() -> norm.backward(x, rstd, y, y, w, GradMode.OVERWRITE), "'dx' must not be the same tensor as 'dy'");
      assertMessage(() -> norm.backward(x, rstd, y, null, w, GradMode.OVERWRITE), "'dw' must not be the same tensor as 'w'");
      assertMessage(() -> RmsNorm.of(null, 1e-6f), "'weight'");
      assertMessage(() -> RmsNorm.of(w, 0f), "'eps'");
      assertMessage(() -> RmsNorm.of(w, Float.NaN), "'eps'");
      assertMessage(() -> norm.forward(null, y, rstd), "'x'");
      assertMessage(() -> norm.forward(x, null, rstd), "'y'");
      assertMessage(() -> norm.forward(x, yBad, rstd), "'y' has shape [4, 2]");
      assertMessage(() -> norm.forward(x, y, rstdBad), "'rstd'");
      assertMessage(() -> norm.forward(ints, y, rstd), "'x'");
      assertMessage(() -> RmsNorm.of(w3, 1e-6f).forward(x, y, rstd), "'w' has shape [3]");
      assertMessage(() -> norm.backward(x, null, y, y, w, GradMode.OVERWRITE), "'rstd'");
      assertMessage(() -> norm.backward(x, rstd, yBad, y, w, GradMode.OVERWRITE), "'dy'");
      assertMessage(() -> norm.backward(x, rstd, y, yBad, w, GradMode.OVERWRITE), "'dx'");
      assertMessage(() -> norm.backward(x, rstd, y, y, w3, GradMode.OVERWRITE), "'dw'");
      assertMessage(() -> norm.backward(x, rstd, y, y, w, null), "'mode'");
    }
  }

  static void assertMessage(org.junit.jupiter.api.function.Executable call, String fragment) {
    FactRlException e = assertThrows(FactRlException.class, call);
    assertTrue(e.getMessage().contains(fragment), () -> "message '" + e.getMessage() + "' lacks " + fragment);
  }
}

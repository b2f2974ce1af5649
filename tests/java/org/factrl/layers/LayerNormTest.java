package org.factrl.layers;

import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.plus;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.factrl.bindings.FactRlCore;
import org.factrl.bindings.VitLayersNative;
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
 * LayerNorm: y against libtorch's {@code layer_norm}, mean and rstd against libtorch ops, dx, dw,
 * db against its autograd; both gradient modes onto a random G0; in place; argument errors.
 *
 * <p>Inputs carry an offset (mean ≈ 3 against a spread of ±2) so that a one-pass variance would
 * show. Tolerances (fp32): y, mean, rstd, dx atol 2e-5 + rtol 1e-4 (length-d sums in another
 * order, one rsqrt); dw, db atol 1e-5·N + rtol 1e-4 (sums over N rows); + 1e-6 where a G0 of
 * |G0| ≤ 3 is added (one more rounding).
 */
class LayerNormTest {

  /** {y, mean, rstd, dx, dw, db} from libtorch for x [n, d], w [d], b [d], upstream g [n, d]. */
  private static float[][] oracle(float[] x, float[] w, float[] b, float[] g, int n, int d, float eps) {
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor xt = Torch.tensor(x, true, n, d);
      org.bytedeco.pytorch.Tensor wt = Torch.tensor(w, true, d);
      org.bytedeco.pytorch.Tensor bt = Torch.tensor(b, true, d);
      org.bytedeco.pytorch.Tensor y =
          torch.layer_norm(xt, new long[] {d}, new TensorOptional(wt), new TensorOptional(bt), eps, false);
      y.mul(Torch.tensor(g, n, d)).sum().backward();
      org.bytedeco.pytorch.Tensor xd = Torch.tensor(x, n, d);
      org.bytedeco.pytorch.Tensor mean = xd.mean(new long[] {1}, true, new ScalarTypeOptional());
      org.bytedeco.pytorch.Tensor xc = xd.sub(mean);
      org.bytedeco.pytorch.Tensor rstd =
          xc.mul(xc).mean(new long[] {1}, true, new ScalarTypeOptional()).add(new Scalar(eps)).rsqrt();
      return new float[][] {Torch.floats(y), Torch.floats(mean), Torch.floats(rstd), Torch.floats(xt.grad()),
          Torch.floats(wt.grad()), Torch.floats(bt.grad())};
    }
  }

  private static float[] offset(float[] v, float by) {
    float[] out = v.clone();
    for (int i = 0; i < out.length; i++) out[i] += by;
    return out;
  }

  @ParameterizedTest(name = "N={0} d={1}")
  @CsvSource({"1,2", "3,5", "5,3", "7,64", "4,257", "33,300", "2,1000"})
  void matchesTorchAutograd(int n, int d) {
    float eps = 1e-5f;
    float[] x = offset(uniform(n * 37L + d, n * d, 2f), 3f);
    float[] w = uniform(n * 37L + d + 1, d, 1.5f);
    float[] b = uniform(n * 37L + d + 2, d, 1f);
    float[] g = uniform(n * 37L + d + 3, n * d, 1f);
    float[][] want = oracle(x, w, b, g, n, d, eps);
    try (Device cpu = Device.cpu();
        Tensor xt = cpu.fromFloats(x, n, d);
        Tensor wt = cpu.fromFloats(w, d);
        Tensor bt = cpu.fromFloats(b, d);
        Tensor y = cpu.zeros(DType.F32, n, d);
        Tensor mean = cpu.zeros(DType.F32, n);
        Tensor rstd = cpu.zeros(DType.F32, n);
        Tensor gt = cpu.fromFloats(g, n, d);
        Tensor dx = cpu.fromFloats(uniform(9, n * d, 3f), n, d);  // garbage: overwritten
        Tensor dw = cpu.fromFloats(uniform(8, d, 3f), d);
        Tensor db = cpu.fromFloats(uniform(7, d, 3f), d)) {
      LayerNorm norm = LayerNorm.of(wt, bt, eps);
      norm.forward(xt, y, mean, rstd);
      assertClose(want[0], y.toFloatArray(), 2e-5, 1e-4, "y");
      assertClose(want[1], mean.toFloatArray(), 2e-5, 1e-4, "mean");
      assertClose(want[2], rstd.toFloatArray(), 2e-5, 1e-4, "rstd");
      norm.backward(xt, mean, rstd, gt, dx, dw, db, GradMode.OVERWRITE);
      assertClose(want[3], dx.toFloatArray(), 2e-5, 1e-4, "dx");
      assertClose(want[4], dw.toFloatArray(), 1e-5 * n, 1e-4, "dw");
      assertClose(want[5], db.toFloatArray(), 1e-5 * n, 1e-4, "db");
    }
  }

  @Test
  void threeDimensionalInputIsRowsOfTheLastDimensionAndWorksInPlace() {
    float[] x = uniform(3, 2 * 3 * 5, 1f);
    float[] w = uniform(4, 5, 1f);
    float[] b = uniform(5, 5, 1f);
    float[][] want = oracle(x, w, b, new float[30], 6, 5, 1e-5f);
    try (Device cpu = Device.cpu();
        Tensor xt = cpu.fromFloats(x, 2, 3, 5);
        Tensor wt = cpu.fromFloats(w, 5);
        Tensor bt = cpu.fromFloats(b, 5)) {
      LayerNorm.of(wt, bt, 1e-5f).forward(xt, xt, null, null);
      assertClose(want[0], xt.toFloatArray(), 2e-5, 1e-4, "y in place");
    }
  }

  @Test
  void widthOneNormalisesToTheBias() {
    // d = 1: x − mean = 0 exactly, so y = b, dx = 0 and dw = 0 exactly, db = Σ g. (libtorch's
    // layer_norm leaves a rounding residue in x − mean here, ~3e-5 after · rstd = 1/sqrt(eps): not
    // an oracle for this case.)
    try (Device cpu = Device.cpu();
        Tensor x = cpu.fromFloats(new float[] {5, -2, 0.25f}, 3, 1);
        Tensor w = cpu.fromFloats(new float[] {2}, 1);
        Tensor b = cpu.fromFloats(new float[] {0.5f}, 1);
        Tensor y = cpu.zeros(DType.F32, 3, 1);
        Tensor mean = cpu.zeros(DType.F32, 3);
        Tensor rstd = cpu.zeros(DType.F32, 3);
        Tensor g = cpu.fromFloats(new float[] {1, 2, -4}, 3, 1);
        Tensor dx = cpu.zeros(DType.F32, 3, 1);
        Tensor dw = cpu.zeros(DType.F32, 1);
        Tensor db = cpu.zeros(DType.F32, 1)) {
      LayerNorm norm = LayerNorm.of(w, b, 1e-5f);
      norm.forward(x, y, mean, rstd);
      assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, y.toFloatArray(), 0f);
      assertArrayEquals(new float[] {5, -2, 0.25f}, mean.toFloatArray(), 0f);
      norm.backward(x, mean, rstd, g, dx, dw, db, GradMode.OVERWRITE);
      assertArrayEquals(new float[] {0, 0, 0}, dx.toFloatArray(), 0f);
      assertArrayEquals(new float[] {0}, dw.toFloatArray(), 0f);
      assertArrayEquals(new float[] {-1}, db.toFloatArray(), 0f);
    }
  }

  @Test
  void handComputedRow() {
    // x = (1, 3): mean 2, variance 1, rstd = 1/sqrt(1 + eps) ≈ 1, xhat = (−1, 1); w = (2, 3), b = (0.5, −1).
    try (Device cpu = Device.cpu();
        Tensor x = cpu.fromFloats(new float[] {1, 3}, 1, 2);
        Tensor w = cpu.fromFloats(new float[] {2, 3}, 2);
        Tensor b = cpu.fromFloats(new float[] {0.5f, -1}, 2);
        Tensor y = cpu.zeros(DType.F32, 1, 2)) {
      LayerNorm.of(w, b, 1e-12f).forward(x, y, null, null);
      assertArrayEquals(new float[] {-1.5f, 2f}, y.toFloatArray(), 1e-6f);
    }
  }

  @Test
  void eachGradientOverwritesOrAddsToG0PerItsMode() {
    int n = 5, d = 7;
    float[] x = offset(uniform(1, n * d, 1f), 2f);
    float[] w = uniform(2, d, 1f);
    float[] b = uniform(3, d, 1f);
    float[] g = uniform(4, n * d, 1f);
    float[][] want = oracle(x, w, b, g, n, d, 1e-5f);
    float[] g0x = uniform(5, n * d, 3f);
    float[] g0w = uniform(6, d, 3f);
    float[] g0b = uniform(7, d, 3f);
    try (Device cpu = Device.cpu();
        Tensor xt = cpu.fromFloats(x, n, d);
        Tensor wt = cpu.fromFloats(w, d);
        Tensor bt = cpu.fromFloats(b, d);
        Tensor y = cpu.zeros(DType.F32, n, d);
        Tensor mean = cpu.zeros(DType.F32, n);
        Tensor rstd = cpu.zeros(DType.F32, n);
        Tensor gt = cpu.fromFloats(g, n, d);
        Tensor dx = cpu.zeros(DType.F32, n, d);
        Tensor dw = cpu.zeros(DType.F32, d);
        Tensor db = cpu.zeros(DType.F32, d)) {
      LayerNorm norm = LayerNorm.of(wt, bt, 1e-5f);
      norm.forward(xt, y, mean, rstd);
      double pa = 1e-5 * n + 1e-6;
      dx.write(g0x);
      dw.write(g0w);
      db.write(g0b);
      norm.backward(xt, mean, rstd, gt, dx, GradMode.ACCUMULATE, dw, db, GradMode.OVERWRITE);
      assertClose(plus(g0x, want[3]), dx.toFloatArray(), 3e-5, 1e-4, "dx = G0 + oracle");
      assertClose(want[4], dw.toFloatArray(), pa, 1e-4, "dw = oracle");
      assertClose(want[5], db.toFloatArray(), pa, 1e-4, "db = oracle");
      dx.write(g0x);
      dw.write(g0w);
      db.write(g0b);
      norm.backward(xt, mean, rstd, gt, dx, GradMode.OVERWRITE, dw, db, GradMode.ACCUMULATE);
      assertClose(want[3], dx.toFloatArray(), 2e-5, 1e-4, "dx = oracle");
      assertClose(plus(g0w, want[4]), dw.toFloatArray(), pa, 1e-4, "dw = G0 + oracle");
      assertClose(plus(g0b, want[5]), db.toFloatArray(), pa, 1e-4, "db = G0 + oracle");
      dx.write(g0x);
      dw.write(g0w);
      db.write(g0b);
      norm.backward(xt, mean, rstd, gt, dx, dw, db, GradMode.ACCUMULATE);
      assertClose(plus(g0x, want[3]), dx.toFloatArray(), 3e-5, 1e-4, "dx = G0 + oracle (one mode)");
      assertClose(plus(g0w, want[4]), dw.toFloatArray(), pa, 1e-4, "dw = G0 + oracle (one mode)");
      assertClose(plus(g0b, want[5]), db.toFloatArray(), pa, 1e-4, "db = G0 + oracle (one mode)");
      // Only some outputs: the others (null) are skipped, the given ones still right.
      db.write(g0b);
      norm.backward(xt, mean, rstd, gt, null, null, db, GradMode.ACCUMULATE);
      assertClose(plus(g0b, want[5]), db.toFloatArray(), pa, 1e-4, "db alone");
    }
  }

  @Test
  void badArgumentsNameTheArgument() {
    try (Device cpu = Device.cpu();
        Tensor x = cpu.zeros(DType.F32, 2, 4);
        Tensor w = cpu.zeros(DType.F32, 4);
        Tensor b = cpu.zeros(DType.F32, 4);
        Tensor w3 = cpu.zeros(DType.F32, 3);
        Tensor y = cpu.zeros(DType.F32, 2, 4);
        Tensor yBad = cpu.zeros(DType.F32, 4, 2);
        Tensor mean = cpu.zeros(DType.F32, 2);
        Tensor rstd = cpu.zeros(DType.F32, 2);
        Tensor rstdBad = cpu.zeros(DType.F32, 3);
        Tensor ints = cpu.zeros(DType.I32, 2, 4);
        Tensor bf16 = cpu.zeros(DType.BF16, 2, 4);
        Tensor wide = cpu.zeros(DType.F32, 2, 8);
        Tensor slice = wide.narrow(1, 0, 4)) {
      LayerNorm norm = LayerNorm.of(w, b, 1e-5f);
      assertMessage(() -> LayerNorm.of(null, b, 1e-5f), "'weight'");
      assertMessage(() -> LayerNorm.of(w, null, 1e-5f), "'bias'");
      assertMessage(() -> LayerNorm.of(w, w3, 1e-5f), "'bias'");
      assertMessage(() -> LayerNorm.of(w, b, 0f), "'eps'");
      assertMessage(() -> LayerNorm.of(w, b, Float.POSITIVE_INFINITY), "'eps'");
      assertMessage(() -> norm.forward(null, y, mean, rstd), "'x'");
      assertMessage(() -> norm.forward(x, null, mean, rstd), "'y'");
      assertMessage(() -> norm.forward(x, yBad, mean, rstd), "'y' has shape [4, 2]");
      assertMessage(() -> norm.forward(x, y, rstdBad, rstd), "'mean'");
      assertMessage(() -> norm.forward(x, y, mean, rstdBad), "'rstd'");
      assertMessage(() -> norm.forward(x, y, mean, mean), "'rstd' must not be the same tensor as 'mean'");
      assertMessage(() -> norm.forward(ints, y, mean, rstd), "'x'");
      assertMessage(() -> norm.forward(bf16, y, mean, rstd), "'x'");
      assertMessage(() -> norm.forward(slice, y, mean, rstd), "argument 'x' is a non-contiguous view");
      assertMessage(() -> norm.forward(x, slice, mean, rstd), "argument 'y' is a non-contiguous view");
      assertMessage(() -> LayerNorm.of(w3, w3, 1e-5f).forward(x, y, mean, rstd), "'w' has shape [3]");
      assertMessage(() -> norm.backward(x, null, rstd, y, y, w, b, GradMode.OVERWRITE), "'mean'");
      assertMessage(() -> norm.backward(x, mean, null, y, y, w, b, GradMode.OVERWRITE), "'rstd'");
      assertMessage(() -> norm.backward(x, mean, rstd, yBad, y, w, b, GradMode.OVERWRITE), "'dy'");
      assertMessage(() -> norm.backward(x, mean, rstd, y, yBad, null, null, GradMode.OVERWRITE), "'dx'");
      assertMessage(() -> norm.backward(x, mean, rstd, y, null, w3, null, GradMode.OVERWRITE), "'dw'");
      assertMessage(() -> norm.backward(x, mean, rstd, y, null, null, w3, GradMode.OVERWRITE), "'db'");
      assertMessage(() -> norm.backward(x, mean, rstd, y, y, null, null, GradMode.OVERWRITE),
          "'dx' must not be the same tensor as 'dy'");
      assertMessage(() -> norm.backward(x, mean, rstd, y, null, w, null, GradMode.OVERWRITE),
          "'dw' must not be the same tensor as 'w'");
      assertMessage(() -> norm.backward(x, mean, rstd, y, slice, null, null, GradMode.OVERWRITE),
          "argument 'dx' is a non-contiguous view");
      assertMessage(() -> norm.backward(x, mean, rstd, y, null, w, b, null), "'mode'");
      assertMessage(() -> norm.backward(x, mean, rstd, y, null, null, null, null, GradMode.OVERWRITE), "'dxMode'");
      assertMessage(() -> norm.backward(x, mean, rstd, y, null, GradMode.OVERWRITE, null, null, null), "'paramMode'");
    }
  }

  @Test
  void badNativeModesNameTheirArgument() {
    // The Java API cannot pass a bad mode (GradMode has two values); the raw binding can.
    try (Device cpu = Device.cpu();
        Tensor x = cpu.zeros(DType.F32, 2, 3);
        Tensor w = cpu.zeros(DType.F32, 3);
        Tensor stat = cpu.zeros(DType.F32, 2);
        Tensor dy = cpu.zeros(DType.F32, 2, 3);
        Tensor dx = cpu.zeros(DType.F32, 2, 3)) {
      assertStatusNames("dx_mode", VitLayersNative.frl_layernorm_backward(cpu.handle(), x.handle(), w.handle(),
          stat.handle(), stat.handle(), dy.handle(), dx.handle(), null, null, 2, 0));
      assertStatusNames("dparam_mode", VitLayersNative.frl_layernorm_backward(cpu.handle(), x.handle(), w.handle(),
          stat.handle(), stat.handle(), dy.handle(), dx.handle(), null, null, 0, -1));
    }
  }

  static void assertStatusNames(String argument, int status) {
    assertTrue(status != FactRlCore.FRL_OK, "expected a failure for " + argument);
    String message = FactRlCore.frl_last_error().getString();
    assertTrue(message.contains("'" + argument + "'"), () -> "message '" + message + "' lacks '" + argument + "'");
  }

  static void assertMessage(org.junit.jupiter.api.function.Executable call, String fragment) {
    FactRlException e = assertThrows(FactRlException.class, call);
    assertTrue(e.getMessage().contains(fragment), () -> "message '" + e.getMessage() + "' lacks " + fragment);
  }
}

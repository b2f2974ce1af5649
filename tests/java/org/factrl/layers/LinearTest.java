package org.factrl.layers;

import static org.factrl.layers.RmsNormTest.assertMessage;
import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.plus;
import static org.factrl.testing.Numerics.uniform;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.testing.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Dense linear layer against libtorch {@code linear} with autograd: y, dx, dW, db, with and without
 * bias, odd sizes, 3-D input, accumulate; argument errors.
 *
 * <p>Tolerances (fp32): y and dx atol 1e-5·√(reduction length) + rtol 1e-4 (blocked GEMM vs
 * torch's order); dW and db likewise over N.
 */
class LinearTest {

  @ParameterizedTest(name = "N={0} K={1} M={2} bias={3}")
  @CsvSource({"1,1,1,true", "3,5,7,true", "17,33,9,false", "64,129,65,true", "300,20,3,true"})
  void matchesTorchLinearWithAutograd(int n, int k, int m, boolean withBias) {
    float[] x = uniform(n * 1000L + k * 10L + m, n * k, 1f);
    float[] w = uniform(n * 1000L + k * 10L + m + 1, m * k, 1f);
    float[] b = uniform(n * 1000L + k * 10L + m + 2, m, 1f);
    float[] g = uniform(n * 1000L + k * 10L + m + 3, n * m, 1f);
    float[] y, dx, dw, db = null;
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor xt = Torch.tensor(x, true, n, k);
      org.bytedeco.pytorch.Tensor wt = Torch.tensor(w, true, m, k);
      org.bytedeco.pytorch.Tensor bt = Torch.tensor(b, true, m);
      org.bytedeco.pytorch.Tensor yt =
          withBias ? torch.linear(xt, wt, new TensorOptional(bt)) : torch.linear(xt, wt);
      yt.mul(Torch.tensor(g, n, m)).sum().backward();
      y = Torch.floats(yt);
      dx = Torch.floats(xt.grad());
      dw = Torch.floats(wt.grad());
      if (withBias) {
        db = Torch.floats(bt.grad());
      }
    }
    try (Device cpu = Device.cpu();
        Tensor xt = cpu.fromFloats(x, n, k);
        Tensor wt = cpu.fromFloats(w, m, k);
        Tensor bt = cpu.fromFloats(b, m);
        Tensor yt = cpu.zeros(DType.F32, n, m);
        Tensor gt = cpu.fromFloats(g, n, m);
        Tensor dxt = cpu.fromFloats(uniform(1, n * k, 5f), n, k);  // garbage: overwritten
        Tensor dwt = cpu.fromFloats(uniform(2, m * k, 5f), m, k);
        Tensor dbt = cpu.fromFloats(uniform(3, m, 5f), m)) {
      Linear layer = Linear.of(wt, withBias ? bt : null);
      layer.forward(xt, yt);
      layer.backward(xt, gt, dxt, dwt, withBias ? dbt : null, GradMode.OVERWRITE);
      assertClose(y, yt.toFloatArray(), 1e-5 * Math.sqrt(k), 1e-4, "y");
      assertClose(dx, dxt.toFloatArray(), 1e-5 * Math.sqrt(m), 1e-4, "dx");
      assertClose(dw, dwt.toFloatArray(), 1e-5 * Math.sqrt(n), 1e-4, "dW");
      if (withBias) {
        assertClose(db, dbt.toFloatArray(), 1e-5 * Math.sqrt(n), 1e-4, "db");
      }
      // Modes per output, against G0 + the oracle: dx accumulates while dW / db are overwritten, then
      // the other way round (the tolerance grows by the prefill's size, |G0| <= 5: one more rounding).
      float[] g0x = uniform(4, n * k, 5f), g0w = uniform(5, m * k, 5f), g0b = uniform(6, m, 5f);
      dxt.write(g0x);
      dwt.write(g0w);
      dbt.write(g0b);
      layer.backward(xt, gt, dxt, GradMode.ACCUMULATE, dwt, withBias ? dbt : null, GradMode.OVERWRITE);
      assertClose(plus(g0x, dx), dxt.toFloatArray(), 1e-5 * Math.sqrt(m) + 1e-6, 1e-4, "dx accumulated");
      assertClose(dw, dwt.toFloatArray(), 1e-5 * Math.sqrt(n), 1e-4, "dW overwritten");
      dxt.write(g0x);
      dwt.write(g0w);
      dbt.write(g0b);
      layer.backward(xt, gt, dxt, GradMode.OVERWRITE, dwt, withBias ? dbt : null, GradMode.ACCUMULATE);
      assertClose(dx, dxt.toFloatArray(), 1e-5 * Math.sqrt(m), 1e-4, "dx overwritten");
      assertClose(plus(g0w, dw), dwt.toFloatArray(), 1e-5 * Math.sqrt(n) + 1e-6, 1e-4, "dW accumulated");
      if (withBias) {
        assertClose(plus(g0b, db), dbt.toFloatArray(), 1e-5 * Math.sqrt(n) + 1e-6, 1e-4, "db accumulated");
      }
    }
  }

  @Test
  void threeDimensionalInputIsItsRows() {
    int b = 2, s = 3, k = 4, m = 5;
    float[] x = uniform(10, b * s * k, 1f);
    float[] w = uniform(11, m * k, 1f);
    float[] g = uniform(12, b * s * m, 1f);
    try (Device cpu = Device.cpu();
        Tensor xt = cpu.fromFloats(x, b, s, k);
        Tensor x2 = cpu.fromFloats(x, b * s, k);
        Tensor wt = cpu.fromFloats(w, m, k);
        Tensor y3 = cpu.zeros(DType.F32, b, s, m);
        Tensor y2 = cpu.zeros(DType.F32, b * s, m);
        Tensor g3 = cpu.fromFloats(g, b, s, m);
        Tensor dx = cpu.zeros(DType.F32, b, s, k);
        Tensor dw = cpu.zeros(DType.F32, m, k)) {
      Linear layer = Linear.of(wt, null);
      layer.forward(xt, y3);
      layer.forward(x2, y2);
      assertClose(y2.toFloatArray(), y3.toFloatArray(), 0, 0, "3-D input is its rows");
      try (Tensor g2 = cpu.fromFloats(g, b * s, m);
          Tensor dx2 = cpu.zeros(DType.F32, b * s, k);
          Tensor dw2 = cpu.zeros(DType.F32, m, k)) {
        layer.backward(xt, g3, dx, dw, null, GradMode.OVERWRITE);
        layer.backward(x2, g2, dx2, dw2, null, GradMode.OVERWRITE);
        assertClose(dx2.toFloatArray(), dx.toFloatArray(), 0, 0, "dx of 3-D input is its rows'");
        assertClose(dw2.toFloatArray(), dw.toFloatArray(), 0, 0, "dW of 3-D input is its rows'");
      }
    }
  }

  @Test
  void badArgumentsNameTheArgument() {
    try (Device cpu = Device.cpu();
        Tensor x = cpu.zeros(DType.F32, 3, 4);
        Tensor w = cpu.zeros(DType.F32, 2, 4);
        Tensor wBad = cpu.zeros(DType.F32, 2, 5);
        Tensor b = cpu.zeros(DType.F32, 2);
        Tensor y = cpu.zeros(DType.F32, 3, 2);
        Tensor yBad = cpu.zeros(DType.F32, 3, 3)) {
      Linear layer = Linear.of(w, b);
      try (Tensor square = cpu.zeros(DType.F32, 4, 4); Tensor x2 = cpu.zeros(DType.F32, 3, 4)) {
        Linear sq = Linear.of(square, null);
        assertMessage(() -> sq.forward(x, x), "'y' must not be the same tensor as 'x'");
        assertMessage(() -> sq.backward(x, x2, x2, null, null, GradMode.OVERWRITE), "'dx' must not be the same tensor as 'dy'");
        assertMessage(() -> sq.backward(x, x2, null, square, null, GradMode.OVERWRITE), "'dW' must not be the same tensor as 'W'");
      }
      assertMessage(() -> Linear.of(null, null), "'weight'");
      assertMessage(() -> Linear.of(w, x), "'bias'");
      assertMessage(() -> layer.forward(null, y), "'x'");
      assertMessage(() -> layer.forward(x, yBad), "'y' has shape [3, 3]");
      assertMessage(() -> Linear.of(wBad, null).forward(x, y), "'W' has shape [2, 5]");
      assertMessage(() -> layer.backward(x, yBad, null, null, null, GradMode.OVERWRITE), "'dy'");
      assertMessage(() -> layer.backward(x, y, y, null, null, GradMode.OVERWRITE), "'dx'");
      assertMessage(() -> layer.backward(x, y, null, x, null, GradMode.OVERWRITE), "'dW'");
      assertMessage(() -> layer.backward(x, y, null, null, x, GradMode.OVERWRITE), "'db'");
      assertMessage(() -> Linear.of(w, null).backward(x, y, null, null, b, GradMode.OVERWRITE), "'dBias'");
    }
  }
}

package org.factrl.layers;

import static org.factrl.layers.RmsNormTest.assertMessage;
import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.plus;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.bytedeco.javacpp.PointerScope;
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
 * SwiGLU gate against libtorch autograd ({@code silu(a) * b}), saturation at large |a|, and
 * argument errors. Tolerance (fp32, elementwise): atol 1e-6 + rtol 1e-5.
 */
class SwiGluTest {

  @ParameterizedTest(name = "N={0} F={1} scale={2}")
  @CsvSource({"1,1,1", "3,7,4", "16,172,3", "5,33,60"})
  void matchesTorchAutograd(int n, int f, float scale) {
    float[] a = uniform(n * 7L + f, n * f, scale);
    float[] b = uniform(n * 7L + f + 1, n * f, 2f);
    float[] g = uniform(n * 7L + f + 2, n * f, 1f);
    float[] out, da, db;
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor at = Torch.tensor(a, true, n, f);
      org.bytedeco.pytorch.Tensor bt = Torch.tensor(b, true, n, f);
      org.bytedeco.pytorch.Tensor o = torch.silu(at).mul(bt);
      o.mul(Torch.tensor(g, n, f)).sum().backward();
      out = Torch.floats(o);
      da = Torch.floats(at.grad());
      db = Torch.floats(bt.grad());
    }
    try (Device cpu = Device.cpu();
        Tensor at = cpu.fromFloats(a, n, f);
        Tensor bt = cpu.fromFloats(b, n, f);
        Tensor ot = cpu.zeros(DType.F32, n, f);
        Tensor gt = cpu.fromFloats(g, n, f);
        Tensor dat = cpu.zeros(DType.F32, n, f);
        Tensor dbt = cpu.zeros(DType.F32, n, f)) {
      SwiGlu.forward(at, bt, ot);
      SwiGlu.backward(at, bt, gt, dat, dbt, GradMode.OVERWRITE);
      assertClose(out, ot.toFloatArray(), 1e-6, 1e-5, "out");
      assertClose(da, dat.toFloatArray(), 1e-6, 1e-5, "da");
      assertClose(db, dbt.toFloatArray(), 1e-6, 1e-5, "db");
      float[] g0a = uniform(n * 7L + f + 3, n * f, 4f);
      float[] g0b = uniform(n * 7L + f + 4, n * f, 4f);
      dat.write(g0a);
      dbt.write(g0b);
      SwiGlu.backward(at, bt, gt, dat, dbt, GradMode.ACCUMULATE);
      assertClose(plus(g0a, da), dat.toFloatArray(), 2e-6, 1e-5, "da = G0 + oracle");
      assertClose(plus(g0b, db), dbt.toFloatArray(), 2e-6, 1e-5, "db = G0 + oracle");
    }
  }

  @Test
  void saturatesWithoutNaNAndWorksInPlace() {
    float[] a = {-1000f, -90f, 0f, 90f, 1000f};
    try (Device cpu = Device.cpu();
        Tensor at = cpu.fromFloats(a, 5);
        Tensor bt = cpu.fromFloats(new float[] {1, 1, 1, 1, 1}, 5);
        Tensor g = cpu.fromFloats(new float[] {1, 1, 1, 1, 1}, 5);
        Tensor da = cpu.zeros(DType.F32, 5)) {
      SwiGlu.backward(at, bt, g, da, null, GradMode.OVERWRITE);
      float[] d = da.toFloatArray();
      assertArrayEquals(new float[] {0f, 0f, 0.5f, 1f, 1f}, d, 1e-6f);
      SwiGlu.forward(at, bt, bt);  // out aliases b
      float[] o = bt.toFloatArray();
      for (float v : o) {
        assertFalse(Float.isNaN(v));
      }
      assertArrayEquals(new float[] {-0f, 0f, 0f, 90f, 1000f}, o, 1e-6f);
    }
  }

  @Test
  void badArgumentsNameTheArgument() {
    try (Device cpu = Device.cpu();
        Tensor a = cpu.zeros(DType.F32, 2, 3);
        Tensor b = cpu.zeros(DType.F32, 2, 3);
        Tensor wrong = cpu.zeros(DType.F32, 3, 2);
        Tensor ints = cpu.zeros(DType.I32, 2, 3)) {
      assertMessage(() -> SwiGlu.forward(null, b, a), "'a'");
      assertMessage(() -> SwiGlu.backward(a, b, b, a, null, GradMode.OVERWRITE), "'da' must not be the same tensor as 'a'");
      assertMessage(() -> SwiGlu.backward(a, b, a, null, b, GradMode.OVERWRITE), "'db' must not be the same tensor as 'b'");
      assertMessage(() -> SwiGlu.forward(a, wrong, a), "'b' has shape [3, 2]");
      assertMessage(() -> SwiGlu.forward(a, b, null), "'out'");
      assertMessage(() -> SwiGlu.forward(a, ints, b), "'b'");
      assertMessage(() -> SwiGlu.backward(a, b, wrong, a, b, GradMode.OVERWRITE), "'dout'");
      assertMessage(() -> SwiGlu.backward(a, b, a, wrong, null, GradMode.OVERWRITE), "'da'");
      assertMessage(() -> SwiGlu.backward(a, b, a, null, wrong, GradMode.OVERWRITE), "'db'");
    }
  }
}

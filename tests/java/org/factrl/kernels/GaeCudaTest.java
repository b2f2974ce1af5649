package org.factrl.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;
import org.factrl.testing.Numerics;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The CUDA scan and whitening against the CPU reference (skipped where no GPU is present). */
class GaeCudaTest {
  private static float maxAbs(float[] x) {
    float m = 0;
    for (float f : x) {
      m = Math.max(m, Math.abs(f));
    }
    return m;
  }

  /**
   * Random lengths, T not a power of two (incl. T > one tile of 2048 steps, so the tile carry is
   * used), several gamma*lambda. fp32 scan vs the double CPU loop: atol 1e-4 * max(1, max|A|).
   * Whitening (shift and no shift): atol 1e-4. BF16 storage: inputs rounded the same way on both,
   * tolerance 2e-2 * max(1, max|A|) (one bf16 rounding of the outputs).
   */
  @Test
  void cudaMatchesCpuReference() {
    Assumptions.assumeTrue(Device.cudaDeviceCount() > 0, "no CUDA device");
    int[][] shapes = {{1, 1}, {3, 3}, {7, 37}, {33, 1000}, {5, 1023}, {4, 4097}, {64, 129}};
    float[][] gl = {{1f, 1f}, {0.99f, 0.95f}, {0.5f, 0f}};
    SplittableRandom rnd = new SplittableRandom(2024);
    try (Device cpu = Device.cpu(); Device gpu = Device.cuda(0)) {
      for (int[] shape : shapes) {
        int b = shape[0];
        int t = shape[1];
        int[] m = GaeTest.prefixMask(GaeTest.randomLengths(rnd, b, t), t);
        float[] r = Numerics.uniform(rnd.nextLong(), b * t, 1f);
        float[] v = Numerics.uniform(rnd.nextLong(), b * t, 1f);
        for (float[] g : gl) {
          for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
            String what = "B=" + b + " T=" + t + " gamma=" + g[0] + " lambda=" + g[1] + " " + dtype;
            GaeOptions o = GaeOptions.builder().gamma(g[0]).lambda(g[1]).whiten(false).build();
            float[][] want;
            float[][] got;
            try (Tensor dr = gpu.fromFloats(dtype, r, b, t);
                Tensor dv = gpu.fromFloats(dtype, v, b, t);
                Tensor dm = gpu.fromInts(m, b, t);
                Tensor da = gpu.zeros(dtype, b, t);
                Tensor dret = gpu.zeros(dtype, b, t)) {
              Gae.compute(dr, dv, dm, o, da, dret);
              got = new float[][] {da.toFloatArray(), dret.toFloatArray()};
              // the CPU reference on exactly the (possibly bf16-rounded) values the GPU saw
              want = GaeTest.runGae(cpu, dr.toFloatArray(), dv.toFloatArray(), m, b, t, o);
            }
            double tol = (dtype == DType.F32 ? 1e-4 : 2e-2) * Math.max(1f, maxAbs(want[0]));
            Numerics.assertClose(want[0], got[0], tol, 0, "advantages " + what);
            Numerics.assertClose(want[1], got[1], tol + (dtype == DType.F32 ? 1e-4 : 2e-2), 0, "returns " + what);
          }
        }
        for (boolean shift : new boolean[] {true, false}) {
          float[] x = Numerics.uniform(rnd.nextLong(), b * t, 3f);
          try (Tensor cx = cpu.fromFloats(x, b, t);
              Tensor cm = cpu.fromInts(m, b, t);
              Tensor cout = cpu.zeros(DType.F32, b, t);
              Tensor gx = gpu.fromFloats(x, b, t);
              Tensor gm = gpu.fromInts(m, b, t)) {
            Gae.WhitenStats cs = Gae.maskedWhiten(cx, cm, shift, 1e-8f, cout);
            Gae.WhitenStats gs = Gae.maskedWhiten(gx, gm, shift, 1e-8f, gx);
            Numerics.assertClose(cout.toFloatArray(), gx.toFloatArray(), 1e-4, 1e-5, "whiten shift=" + shift);
            assertEquals(cs.mean(), gs.mean(), 1e-5);
            assertEquals(cs.std(), gs.std(), 1e-5);
          }
        }
      }
      try (Tensor r = gpu.zeros(DType.F32, 3, 300);
          Tensor v = gpu.zeros(DType.F32, 3, 300);
          Tensor bad = gpu.fromInts(badMask(3, 300, 2, 150), 3, 300);
          Tensor a = gpu.zeros(DType.F32, 3, 300);
          Tensor ret = gpu.zeros(DType.F32, 3, 300)) {
        // No host sync in the call: the device error flag fails the next sync point, naming the op.
        Gae.compute(r, v, bad, GaeOptions.defaults(), a, ret);
        FactRlException e = assertThrows(FactRlException.class, gpu::synchronize);
        assertTrue(e.getMessage().contains("frl_gae") && e.getMessage().contains("'mask'")
            && e.getMessage().contains("row 2") && e.getMessage().contains("position 150"), e.getMessage());
        gpu.synchronize();  // reported once, then cleared
      }
    }
  }

  /** Full rows except row `row`, which has a 1 at `hole` after zeros. */
  private static int[] badMask(int b, int t, int row, int hole) {
    int[] m = new int[b * t];
    java.util.Arrays.fill(m, 1);
    for (int i = 10; i < t; i++) {
      m[row * t + i] = 0;
    }
    m[row * t + hole] = 1;
    return m;
  }
}

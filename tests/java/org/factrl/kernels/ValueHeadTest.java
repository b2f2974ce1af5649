package org.factrl.kernels;

import static org.factrl.kernels.RewardHeadTest.assertNativeNames;
import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.factrl.bindings.PoolingNative;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;
import org.factrl.testing.Torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Per-token value head: CPU reference vs libtorch ({@code linear(d -> 1)} over every token, times
 * the mask, autograd), masks, accumulate, and argument checks (Java and native).
 *
 * <p>Tolerances (fp32): values atol 1e-6·d + rtol 1e-5 (length-d dot); dw atol 1e-6·B·S + rtol
 * 1e-5 (a length-B·S column sum, ours in row order, torch's as a GEMM); dbias atol 1e-6·B·S;
 * dh is a single product per element: atol 1e-6.
 */
class ValueHeadTest {

  private static final class Case {
    final int b, s, d;
    final float[] h, w, g;
    final float c;
    final int[] mask;  // null = no mask
    float[] values, dh, dw;
    float dbias;

    Case(long seed, int b, int s, int d, double maskedShare) {
      this.b = b;
      this.s = s;
      this.d = d;
      h = uniform(seed, b * s * d, 1f);
      w = uniform(seed + 1, d, 1f);
      g = uniform(seed + 2, b * s, 1f);
      c = uniform(seed + 3, 1, 1f)[0];
      if (maskedShare < 0) {
        mask = null;
      } else {
        mask = new int[b * s];
        SplittableRandom r = new SplittableRandom(seed + 4);
        for (int i = 0; i < mask.length; i++) {
          mask[i] = r.nextDouble() < maskedShare ? 0 : 1 + r.nextInt(3);  // any nonzero is valid
        }
      }
      oracle();
    }

    /** libtorch: values = linear(h.view(B·S, d), w, c).view(B, S) · mask; loss = Σ g · values. */
    private void oracle() {
      int n = b * s;
      float[] maskF = new float[n];
      for (int i = 0; i < n; i++) {
        maskF[i] = mask == null || mask[i] != 0 ? 1f : 0f;
      }
      try (PointerScope scope = new PointerScope()) {
        org.bytedeco.pytorch.Tensor ht = Torch.tensor(h, true, b, s, d);
        org.bytedeco.pytorch.Tensor wt = Torch.tensor(w, true, 1, d);
        org.bytedeco.pytorch.Tensor ct = Torch.tensor(new float[] {c}, true, 1);
        org.bytedeco.pytorch.Tensor v = torch.linear(ht.reshape((long) n, d), wt, new TensorOptional(ct))
            .reshape(b, s).mul(Torch.tensor(maskF, b, s));
        values = Torch.floats(v);
        v.mul(Torch.tensor(g, b, s)).sum().backward();
        dh = Torch.floats(ht.grad());
        dw = Torch.floats(wt.grad());
        dbias = Torch.floats(ct.grad())[0];
      }
    }
  }

  /** Forward + backward (overwrite, into garbage-filled outputs); returns {values, dh, dw, dbias}. */
  private static float[][] run(Device dev, DType dtype, Case k) {
    try (Tensor h = dev.fromFloats(dtype, k.h, k.b, k.s, k.d);
        Tensor m = k.mask == null ? null : dev.fromInts(k.mask, k.b, k.s);
        Tensor w = dev.fromFloats(k.w, k.d);
        Tensor c = dev.fromFloats(new float[] {k.c}, 1);
        Tensor g = dev.fromFloats(k.g, k.b, k.s);
        Tensor values = dev.fromFloats(uniform(97, k.b * k.s, 5f), k.b, k.s);
        Tensor dh = dev.fromFloats(dtype, uniform(99, k.b * k.s * k.d, 5f), k.b, k.s, k.d);
        Tensor dw = dev.fromFloats(uniform(98, k.d, 5f), k.d);
        Tensor dc = dev.fromFloats(new float[] {7f}, 1)) {
      ValueHead head = ValueHead.of(w, c);
      head.forward(h, m, values);
      head.backward(h, m, g, dh, dw, dc, GradMode.OVERWRITE);
      return new float[][] {values.toFloatArray(), dh.toFloatArray(), dw.toFloatArray(), dc.toFloatArray()};
    }
  }

  private static void assertMatches(Case k, float[][] ours) {
    int n = k.b * k.s;
    assertClose(k.values, ours[0], 1e-6 * k.d, 1e-5, "values");
    assertClose(k.dh, ours[1], 1e-6, 1e-6, "dh");
    assertClose(k.dw, ours[2], 1e-6 * n, 1e-5, "dw");
    assertClose(new float[] {k.dbias}, ours[3], 1e-6 * n, 1e-6, "dbias");
  }

  @ParameterizedTest(name = "B={0} S={1} d={2} masked={3}")
  @CsvSource({"2,5,7,-1", "1,1,1,-1", "1,7,33,-1", "3,1,16,-1", "4,9,129,-1", "2,5,7,0.3", "3,11,64,0.5",
      "1,1,5,0.0", "5,17,3,0.2"})
  void matchesTorchLinearOverAllTokensWithAutograd(int b, int s, int d, double maskedShare) {
    Case k = new Case(31L * b + 7L * s + d, b, s, d, maskedShare);
    try (Device cpu = Device.cpu()) {
      assertMatches(k, run(cpu, DType.F32, k));
    }
  }

  @Test
  void largerBatchExercisesTheParallelPaths() {
    Case k = new Case(4242, 4, 64, 300, 0.1);  // 256 rows × 300: above the OpenMP thresholds
    try (Device cpu = Device.cpu()) {
      float[][] a = run(cpu, DType.F32, k);
      assertMatches(k, a);
      float[][] again = run(cpu, DType.F32, k);
      assertArrayEquals(a[2], again[2], "dw is bitwise reproducible");
      assertArrayEquals(a[3], again[3], "dbias is bitwise reproducible");
    }
  }

  @Test
  void fullyMaskedBatchGivesZerosEverywhere() {
    try (Device cpu = Device.cpu();
        Tensor h = cpu.fromFloats(uniform(1, 2 * 3 * 4, 1f), 2, 3, 4);
        Tensor m = cpu.zeros(DType.I32, 2, 3);
        Tensor w = cpu.fromFloats(uniform(2, 4, 1f), 4);
        Tensor c = cpu.fromFloats(new float[] {5f}, 1);
        Tensor g = cpu.fromFloats(uniform(3, 6, 1f), 2, 3);
        Tensor dh = cpu.fromFloats(uniform(4, 24, 1f), 2, 3, 4);
        Tensor dw = cpu.fromFloats(uniform(5, 4, 1f), 4);
        Tensor dc = cpu.fromFloats(new float[] {1f}, 1)) {
      ValueHead head = ValueHead.of(w, c);
      try (Tensor v = head.forward(h, m)) {
        assertArrayEquals(new float[6], v.toFloatArray());
      }
      head.backward(h, m, g, dh, dw, dc, GradMode.OVERWRITE);
      assertArrayEquals(new float[24], dh.toFloatArray());
      assertArrayEquals(new float[4], dw.toFloatArray());
      assertArrayEquals(new float[1], dc.toFloatArray());
    }
  }

  @Test
  void handComputedMaskedCase() {
    // B=1, S=3, d=2, mask {1, 0, 1}; w = (2, -1), c = 1.
    try (Device cpu = Device.cpu();
        Tensor h = cpu.fromFloats(new float[] {1, 2, 100, 100, -3, 0.5f}, 1, 3, 2);
        Tensor m = cpu.fromInts(new int[] {1, 0, 1}, 1, 3);
        Tensor w = cpu.fromFloats(new float[] {2, -1}, 2);
        Tensor c = cpu.fromFloats(new float[] {1}, 1);
        Tensor g = cpu.fromFloats(new float[] {1, 50, -2}, 1, 3);
        Tensor dh = cpu.zeros(DType.F32, 1, 3, 2);
        Tensor dw = cpu.zeros(DType.F32, 2);
        Tensor dc = cpu.zeros(DType.F32, 1)) {
      ValueHead head = ValueHead.of(w, c);
      try (Tensor v = head.forward(h, m)) {
        // (2 - 2 + 1, masked, -6 - 0.5 + 1)
        assertArrayEquals(new float[] {1f, 0f, -5.5f}, v.toFloatArray());
      }
      head.backward(h, m, g, dh, dw, dc, GradMode.OVERWRITE);
      assertArrayEquals(new float[] {2, -1, 0, 0, -4, 2}, dh.toFloatArray());
      // dw = 1·(1, 2) - 2·(-3, 0.5) = (7, 1); dc = 1 - 2 = -1 (the masked 50 is ignored)
      assertArrayEquals(new float[] {7f, 1f}, dw.toFloatArray());
      assertArrayEquals(new float[] {-1f}, dc.toFloatArray());
    }
  }

  @Test
  void accumulateAddsAndLeavesMaskedPositionsUntouched() {
    Case k = new Case(55, 3, 6, 10, 0.3);
    int n = k.b * k.s * k.d;
    float[] dh0 = uniform(21, n, 1f);
    float[] dw0 = uniform(22, k.d, 1f);
    try (Device cpu = Device.cpu();
        Tensor h = cpu.fromFloats(k.h, k.b, k.s, k.d);
        Tensor m = cpu.fromInts(k.mask, k.b, k.s);
        Tensor w = cpu.fromFloats(k.w, k.d);
        Tensor c = cpu.fromFloats(new float[] {k.c}, 1);
        Tensor g = cpu.fromFloats(k.g, k.b, k.s);
        Tensor dh = cpu.fromFloats(dh0, k.b, k.s, k.d);
        Tensor dw = cpu.fromFloats(dw0, k.d);
        Tensor dc = cpu.fromFloats(new float[] {2f}, 1)) {
      ValueHead.of(w, c).backward(h, m, g, dh, dw, dc, GradMode.ACCUMULATE);
      float[] wantDh = dh0.clone();
      for (int i = 0; i < n; i++) {
        wantDh[i] += k.dh[i];  // the oracle's dh is 0 at masked positions
      }
      float[] wantDw = dw0.clone();
      for (int j = 0; j < k.d; j++) {
        wantDw[j] += k.dw[j];
      }
      float[] gotDh = dh.toFloatArray();
      assertClose(wantDh, gotDh, 1e-6, 1e-6, "dh accumulated");
      for (int t = 0; t < k.b * k.s; t++) {
        if (k.mask[t] == 0) {
          for (int j = 0; j < k.d; j++) {
            assertTrue(gotDh[t * k.d + j] == dh0[t * k.d + j], "masked dh position changed");
          }
        }
      }
      assertClose(wantDw, dw.toFloatArray(), 1e-5, 1e-5, "dw accumulated");
      assertClose(new float[] {k.dbias + 2f}, dc.toFloatArray(), 1e-5, 0, "dbias accumulated");
      // A mode per output: dh overwritten (0 at masked positions), the head's gradients added to G0.
      ValueHead head = ValueHead.of(w, c);
      dh.write(dh0);
      dw.write(dw0);
      dc.write(new float[] {2f});
      head.backward(h, m, g, dh, GradMode.OVERWRITE, dw, dc, GradMode.ACCUMULATE);
      assertClose(k.dh, dh.toFloatArray(), 1e-6, 1e-6, "dh overwritten");
      assertClose(wantDw, dw.toFloatArray(), 1e-5, 1e-5, "dw = G0 + oracle");
      assertClose(new float[] {k.dbias + 2f}, dc.toFloatArray(), 1e-5, 0, "dbias = G0 + oracle");
      dh.write(dh0);
      dw.write(dw0);
      dc.write(new float[] {2f});
      head.backward(h, m, g, dh, GradMode.ACCUMULATE, dw, dc, GradMode.OVERWRITE);
      assertClose(wantDh, dh.toFloatArray(), 1e-6, 1e-6, "dh = G0 + oracle");
      assertClose(k.dw, dw.toFloatArray(), 1e-5, 1e-5, "dw overwritten");
      assertClose(new float[] {k.dbias}, dc.toFloatArray(), 1e-5, 0, "dbias overwritten");
    }
  }

  // ---- bad arguments -------------------------------------------------------------------------------

  private static void assertNames(String argument, Executable call) {
    FactRlException ex = assertThrows(FactRlException.class, call);
    assertTrue(ex.getMessage().contains(argument), () -> "message should name '" + argument + "': " + ex.getMessage());
  }

  @Test
  void badArgumentsFromJavaNameTheArgument() {
    try (Device cpu = Device.cpu();
        Device other = Device.cpu();
        Tensor h = cpu.zeros(DType.F32, 2, 3, 4);
        Tensor h4d = cpu.zeros(DType.F32, 1, 2, 3, 4);
        Tensor hWide = cpu.zeros(DType.F32, 2, 3, 6);
        Tensor m = cpu.zeros(DType.I32, 2, 3);
        Tensor mT = cpu.zeros(DType.I32, 3, 2);
        Tensor mF32 = cpu.zeros(DType.F32, 2, 3);
        Tensor w = cpu.zeros(DType.F32, 4);
        Tensor c = cpu.zeros(DType.F32, 1);
        Tensor v = cpu.zeros(DType.F32, 2, 3);
        Tensor vFlat = cpu.zeros(DType.F32, 6);
        Tensor dbias2 = cpu.zeros(DType.F32, 2);
        Tensor wOther = other.zeros(DType.F32, 4);
        Tensor mOther = other.zeros(DType.I32, 2, 3)) {
      ValueHead head = ValueHead.of(w, c);
      assertNames("bias", () -> ValueHead.of(wOther, c));  // bias on another device than weight
      assertNames("hidden", () -> head.forward(null, m, v));
      assertNames("hidden", () -> head.forward(h4d, m, v));
      assertNames("hidden", () -> head.forward(hWide, m, v));
      assertNames("mask", () -> head.forward(h, mT, v));
      assertNames("mask", () -> head.forward(h, mF32, v));
      assertNames("mask", () -> head.forward(h, mOther, v));
      assertNames("values", () -> head.forward(h, m, vFlat));
      assertNames("values", () -> head.forward(h, m, null));
      assertNames("dValues", () -> head.backward(h, m, vFlat, null, null, null, GradMode.OVERWRITE));
      assertNames("dBias", () -> head.backward(h, m, v, null, null, dbias2, GradMode.OVERWRITE));
      assertNames("'mode'", () -> head.backward(h, m, v, null, null, null, null));  // was a NullPointerException
    }
  }

  @Test
  void nativeChecksNameTheArgument() {
    try (Device cpu = Device.cpu();
        Device other = Device.cpu();
        Tensor h = cpu.zeros(DType.F32, 2, 3, 4);
        Tensor m = cpu.zeros(DType.I32, 2, 3);
        Tensor mBad = cpu.zeros(DType.I32, 2, 4);
        Tensor w = cpu.zeros(DType.F32, 4);
        Tensor c = cpu.zeros(DType.F32, 1);
        Tensor v = cpu.zeros(DType.F32, 2, 3);
        Tensor dh = cpu.zeros(DType.F32, 2, 3, 5);
        Tensor hOther = other.zeros(DType.F32, 2, 3, 4)) {
      var ctx = cpu.handle();
      assertNativeNames("'mask'", PoolingNative.frl_value_head_forward(ctx, h.handle(), mBad.handle(), w.handle(),
          c.handle(), v.handle()));
      assertNativeNames("'h'", PoolingNative.frl_value_head_forward(ctx, hOther.handle(), m.handle(), w.handle(),
          c.handle(), v.handle()));
      assertNativeNames("'values'", PoolingNative.frl_value_head_forward(ctx, h.handle(), m.handle(), w.handle(),
          c.handle(), null));
      assertNativeNames("'dvalues'", PoolingNative.frl_value_head_backward(ctx, h.handle(), m.handle(),
          w.handle(), h.handle(), null, null, null, 0, 0));
      assertNativeNames("'dh'", PoolingNative.frl_value_head_backward(ctx, h.handle(), m.handle(), w.handle(),
          v.handle(), dh.handle(), null, null, 0, 0));
      assertNativeNames("another context", PoolingNative.frl_value_head_backward(ctx, h.handle(), null,
          w.handle(), v.handle(), hOther.handle(), null, null, 0, 0));
    }
  }

  /** Outputs that are inputs are refused: dh = h, dw = w, dbias = bias (d = 1), dw = dbias. */
  @Test
  void aliasedOutputsAreRejected() {
    try (Device cpu = Device.cpu();
        Tensor h = cpu.fromFloats(new float[] {1, 2, 3, 4}, 2, 2, 1);
        Tensor w = cpu.fromFloats(new float[] {2}, 1);
        Tensor c = cpu.fromFloats(new float[] {0.5f}, 1);
        Tensor g = cpu.fromFloats(new float[] {1, 1, 1, 1}, 2, 2);
        Tensor dw = cpu.zeros(DType.F32, 1)) {
      ValueHead head = ValueHead.of(w, c);
      assertNames("'dh'", () -> head.backward(h, null, g, h, null, null, GradMode.OVERWRITE));
      assertNames("'dw'", () -> head.backward(h, null, g, null, w, null, GradMode.ACCUMULATE));
      assertNames("'dbias'", () -> head.backward(h, null, g, null, dw, dw, GradMode.OVERWRITE));
      assertArrayEquals(new float[] {1, 2, 3, 4}, h.toFloatArray(), "a refused call writes nothing");
      head.backward(h, null, g, null, dw, c, GradMode.OVERWRITE);  // c as dbias: the bias is no input here
      assertArrayEquals(new float[] {10}, dw.toFloatArray());
      assertArrayEquals(new float[] {4}, c.toFloatArray());
    }
  }

  // ---- CUDA vs the CPU reference (runs only where a GPU is present) --------------------------------

  @ParameterizedTest(name = "{0} masked={1}")
  @CsvSource({"F32,-1", "F32,0.3", "BF16,-1", "BF16,0.3"})
  void cudaMatchesCpuReference(DType dtype, double maskedShare) {
    Assumptions.assumeTrue(Device.cudaDeviceCount() > 0, "no CUDA device");
    for (int[] shape : new int[][] {{3, 37, 203}, {2, 65, 256}, {1, 1, 9}}) {
      Case k = new Case(99 + shape[2], shape[0], shape[1], shape[2], maskedShare);
      try (Device cpu = Device.cpu(); Device gpu = Device.cuda(0)) {
        if (dtype == DType.BF16) {  // the CPU reference sees the same bf16-rounded h
          try (Tensor r = cpu.fromFloats(DType.BF16, k.h, k.h.length)) {
            float[] rounded = r.toFloatArray();
            System.arraycopy(rounded, 0, k.h, 0, rounded.length);
          }
        }
        float[][] want = run(cpu, DType.F32, k);
        float[][] got = run(gpu, dtype, k);
        double dhTol = dtype == DType.BF16 ? 8e-3 : 1e-6;
        int n = k.b * k.s;
        assertClose(want[0], got[0], 1e-5 * Math.sqrt(k.d), 1e-5, "values " + dtype);
        assertClose(want[1], got[1], 1e-6, dhTol, "dh " + dtype);
        assertClose(want[2], got[2], 1e-5 * Math.sqrt(n), 1e-5, "dw " + dtype);
        assertClose(want[3], got[3], 1e-5 * Math.sqrt(n), 1e-5, "dbias " + dtype);
      }
    }
  }
}

package org.factrl.kernels;

import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.factrl.bindings.FactRlCore;
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
 * Reward-head pooling: CPU reference vs libtorch (index_select + linear, autograd), a hand-computed
 * case, the empty-row convention, accumulate, and argument checks on both the Java and native side.
 *
 * <p>Tolerances (fp32): scores atol 1e-6·d + rtol 1e-5 (a length-d dot product in a different
 * order); dw atol 1e-6·B + rtol 1e-5 (a length-B sum); dh and dbias are single products / short
 * sums: atol 1e-6.
 */
class RewardHeadTest {

  /** The inputs and the oracle's answers for one random case. */
  private static final class Case {
    final int b, s, d;
    final float[] h, w, g;
    final float c;
    final int[] e;
    float[] scores, dh, dw;
    float dbias;

    Case(long seed, int b, int s, int d, double emptyShare) {
      this.b = b;
      this.s = s;
      this.d = d;
      h = uniform(seed, b * s * d, 1f);
      w = uniform(seed + 1, d, 1f);
      g = uniform(seed + 2, b, 1f);
      c = uniform(seed + 3, 1, 1f)[0];
      e = new int[b];
      SplittableRandom r = new SplittableRandom(seed + 4);
      for (int i = 0; i < b; i++) {
        e[i] = r.nextDouble() < emptyShare ? -1 : r.nextInt(s);
      }
      oracle();
    }

    /** libtorch: scores = linear(index_select(h.view(B·S, d), b·S + e_b), w, c), empty rows dropped. */
    private void oracle() {
      int kept = 0;
      for (int v : e) {
        kept += v >= 0 ? 1 : 0;
      }
      long[] rows = new long[kept];
      float[] gKept = new float[kept];
      for (int i = 0, k = 0; i < b; i++) {
        if (e[i] >= 0) {
          rows[k] = (long) i * s + e[i];
          gKept[k++] = g[i];
        }
      }
      try (PointerScope scope = new PointerScope()) {
        org.bytedeco.pytorch.Tensor ht = Torch.tensor(h, true, b, s, d);
        org.bytedeco.pytorch.Tensor wt = Torch.tensor(w, true, 1, d);
        org.bytedeco.pytorch.Tensor ct = Torch.tensor(new float[] {c}, true, 1);
        org.bytedeco.pytorch.Tensor pooled =
            torch.index_select(ht.reshape((long) b * s, d), 0, Torch.longTensor(rows, kept));
        org.bytedeco.pytorch.Tensor out = torch.linear(pooled, wt, new TensorOptional(ct)).reshape(kept);
        float[] outKept = Torch.floats(out);
        out.mul(Torch.tensor(gKept, kept)).sum().backward();
        scores = new float[b];
        for (int i = 0, k = 0; i < b; i++) {
          scores[i] = e[i] >= 0 ? outKept[k++] : 0f;
        }
        dh = Torch.floats(ht.grad());
        dw = Torch.floats(wt.grad());
        dbias = Torch.floats(ct.grad())[0];
      }
    }
  }

  /** Runs our forward and backward (overwrite) on the CPU; returns {scores, dh, dw, dbias}. */
  private static float[][] run(Device dev, DType dtype, Case k) {
    try (Tensor h = dev.fromFloats(dtype, k.h, k.b, k.s, k.d);
        Tensor e = dev.fromInts(k.e, k.b);
        Tensor w = dev.fromFloats(k.w, k.d);
        Tensor c = dev.fromFloats(new float[] {k.c}, 1);
        Tensor g = dev.fromFloats(k.g, k.b);
        Tensor dh = dev.fromFloats(dtype, uniform(99, k.b * k.s * k.d, 5f), k.b, k.s, k.d);  // garbage
        Tensor dw = dev.fromFloats(uniform(98, k.d, 5f), k.d);
        Tensor dc = dev.fromFloats(new float[] {7f}, 1)) {
      RewardHead head = RewardHead.of(w, c);
      float[] scores;
      try (Tensor s = head.forward(h, e)) {
        scores = s.toFloatArray();
      }
      head.backward(h, e, g, dh, dw, dc, GradMode.OVERWRITE);
      return new float[][] {scores, dh.toFloatArray(), dw.toFloatArray(), dc.toFloatArray()};
    }
  }

  @ParameterizedTest(name = "B={0} S={1} d={2} empty={3}")
  @CsvSource({"3,5,7,0", "1,1,1,0", "1,4,33,0", "5,1,16,0", "4,9,129,0", "8,6,64,0.4", "16,3,1,0.3"})
  void matchesTorchIndexSelectLinearWithAutograd(int b, int s, int d, double emptyShare) {
    Case k = new Case(1000L * b + 10L * s + d, b, s, d, emptyShare);
    try (Device cpu = Device.cpu()) {
      float[][] ours = run(cpu, DType.F32, k);
      assertClose(k.scores, ours[0], 1e-6 * d, 1e-5, "scores");
      assertClose(k.dh, ours[1], 1e-6, 1e-6, "dh");
      assertClose(k.dw, ours[2], 1e-6 * b, 1e-5, "dw");
      assertClose(new float[] {k.dbias}, ours[3], 1e-6 * b, 1e-6, "dbias");
    }
  }

  @Test
  void handComputedCaseWithFirstAndLastPositions() {
    // B=2, S=3, d=2; row 0 pools its last position (e=S-1=2), row 1 its first (e=0).
    float[] h = {1, 2, 3, 4, 5, -6, /* row 1 */ 0.5f, 0.25f, 9, 9, 9, 9};
    float[] w = {1, -2};
    try (Device cpu = Device.cpu();
        Tensor ht = cpu.fromFloats(h, 2, 3, 2);
        Tensor e = cpu.fromInts(new int[] {2, 0}, 2);
        Tensor wt = cpu.fromFloats(w, 2);
        Tensor c = cpu.fromFloats(new float[] {0.5f}, 1);
        Tensor g = cpu.fromFloats(new float[] {2f, -1f}, 2);
        Tensor dh = cpu.zeros(DType.F32, 2, 3, 2);
        Tensor dw = cpu.zeros(DType.F32, 2);
        Tensor dc = cpu.zeros(DType.F32, 1)) {
      RewardHead head = RewardHead.of(wt, c);
      try (Tensor s = head.forward(ht, e)) {
        // row 0: 1·5 + (-2)·(-6) + 0.5 = 17.5; row 1: 0.5 - 0.5 + 0.5 = 0.5
        assertArrayEquals(new float[] {17.5f, 0.5f}, s.toFloatArray());
      }
      head.backward(ht, e, g, dh, dw, dc, GradMode.OVERWRITE);
      assertArrayEquals(new float[] {0, 0, 0, 0, 2, -4, /* row 1 */ -1, 2, 0, 0, 0, 0}, dh.toFloatArray());
      // dw = 2·(5, -6) + (-1)·(0.5, 0.25) = (9.5, -12.25); dc = 2 - 1 = 1
      assertArrayEquals(new float[] {9.5f, -12.25f}, dw.toFloatArray());
      assertArrayEquals(new float[] {1f}, dc.toFloatArray());
    }
  }

  @Test
  void emptyRowsScoreZeroAndGetNoGradient() {
    float[] h = uniform(5, 3 * 4 * 3, 1f);
    try (Device cpu = Device.cpu();
        Tensor ht = cpu.fromFloats(h, 3, 4, 3);
        Tensor e = cpu.fromInts(RewardHead.endIndexFromLengths(4, 0, 2), 3);
        Tensor wt = cpu.fromFloats(new float[] {1, 1, 1}, 3);
        Tensor c = cpu.fromFloats(new float[] {10f}, 1);
        Tensor g = cpu.fromFloats(new float[] {1f, 100f, 1f}, 3);
        Tensor dh = cpu.zeros(DType.F32, 3, 4, 3);
        Tensor dw = cpu.zeros(DType.F32, 3);
        Tensor dc = cpu.zeros(DType.F32, 1)) {
      assertArrayEquals(new int[] {3, -1, 1}, e.toIntArray());
      RewardHead head = RewardHead.of(wt, c);
      float[] s;
      try (Tensor st = head.forward(ht, e)) {
        s = st.toFloatArray();
      }
      assertEquals(0f, s[1], "empty row scores exactly 0, not the bias");
      assertEquals(h[9] + h[10] + h[11] + 10f, s[0], 1e-6);
      head.backward(ht, e, g, dh, dw, dc, GradMode.OVERWRITE);
      float[] dhv = dh.toFloatArray();
      for (int i = 12; i < 24; i++) {
        assertEquals(0f, dhv[i], "row 1 (empty) of dh at " + i);
      }
      assertArrayEquals(new float[] {2f}, dc.toFloatArray(), "dbias ignores the empty row's 100");
      // dw[0] = g0·h[0, 3, 0] + g2·h[2, 1, 0] (row 1 empty); h[b, t, j] sits at (4b + t)·3 + j
      assertEquals(h[9] + h[27], dw.toFloatArray()[0], 1e-6);
    }
  }

  @Test
  void allRowsEmpty() {
    try (Device cpu = Device.cpu();
        Tensor ht = cpu.fromFloats(uniform(6, 2 * 3 * 5, 1f), 2, 3, 5);
        Tensor e = cpu.fromInts(new int[] {-1, -1}, 2);
        Tensor wt = cpu.fromFloats(uniform(7, 5, 1f), 5);
        Tensor c = cpu.fromFloats(new float[] {3f}, 1);
        Tensor g = cpu.fromFloats(new float[] {1f, 2f}, 2);
        Tensor dh = cpu.fromFloats(uniform(8, 30, 1f), 2, 3, 5);
        Tensor dw = cpu.fromFloats(uniform(9, 5, 1f), 5);
        Tensor dc = cpu.fromFloats(new float[] {4f}, 1)) {
      RewardHead head = RewardHead.of(wt, c);
      try (Tensor s = head.forward(ht, e)) {
        assertArrayEquals(new float[2], s.toFloatArray());
      }
      head.backward(ht, e, g, dh, dw, dc, GradMode.OVERWRITE);
      assertArrayEquals(new float[30], dh.toFloatArray());
      assertArrayEquals(new float[5], dw.toFloatArray());
      assertArrayEquals(new float[1], dc.toFloatArray());
    }
  }

  @Test
  void accumulateAddsToExistingGradientsAndLeavesOtherPositions() {
    Case k = new Case(77, 4, 5, 9, 0.25);
    int n = k.b * k.s * k.d;
    float[] dh0 = uniform(11, n, 1f);
    float[] dw0 = uniform(12, k.d, 1f);
    try (Device cpu = Device.cpu();
        Tensor h = cpu.fromFloats(k.h, k.b, k.s, k.d);
        Tensor e = cpu.fromInts(k.e, k.b);
        Tensor w = cpu.fromFloats(k.w, k.d);
        Tensor c = cpu.fromFloats(new float[] {k.c}, 1);
        Tensor g = cpu.fromFloats(k.g, k.b);
        Tensor dh = cpu.fromFloats(dh0, k.b, k.s, k.d);
        Tensor dw = cpu.fromFloats(dw0, k.d);
        Tensor dc = cpu.fromFloats(new float[] {-0.5f}, 1)) {
      RewardHead head = RewardHead.of(w, c);
      head.backward(h, e, g, dh, dw, dc, GradMode.ACCUMULATE);
      float[] wantDh = dh0.clone();
      for (int i = 0; i < n; i++) {
        wantDh[i] += k.dh[i];
      }
      float[] wantDw = dw0.clone();
      for (int j = 0; j < k.d; j++) {
        wantDw[j] += k.dw[j];
      }
      assertClose(wantDh, dh.toFloatArray(), 1e-6, 1e-6, "dh accumulated");
      assertClose(wantDw, dw.toFloatArray(), 1e-5, 1e-5, "dw accumulated");
      assertClose(new float[] {k.dbias - 0.5f}, dc.toFloatArray(), 1e-5, 0, "dbias accumulated");
      // A second call adds the same gradient again (and a null output is simply skipped).
      head.backward(h, e, g, null, dw, null, GradMode.ACCUMULATE);
      for (int j = 0; j < k.d; j++) {
        wantDw[j] += k.dw[j];
      }
      assertClose(wantDw, dw.toFloatArray(), 2e-5, 1e-5, "dw accumulated twice");
      // A mode per output: dh overwritten (0 off the pooled positions), dw / dbias added to G0, and back.
      float[] wantDw1 = dw0.clone();
      for (int j = 0; j < k.d; j++) {
        wantDw1[j] += k.dw[j];
      }
      dh.write(dh0);
      dw.write(dw0);
      dc.write(new float[] {-0.5f});
      head.backward(h, e, g, dh, GradMode.OVERWRITE, dw, dc, GradMode.ACCUMULATE);
      assertClose(k.dh, dh.toFloatArray(), 1e-6, 1e-6, "dh overwritten");
      assertClose(wantDw1, dw.toFloatArray(), 1e-5, 1e-5, "dw = G0 + oracle");
      assertClose(new float[] {k.dbias - 0.5f}, dc.toFloatArray(), 1e-5, 0, "dbias = G0 + oracle");
      dh.write(dh0);
      dw.write(dw0);
      head.backward(h, e, g, dh, GradMode.ACCUMULATE, dw, dc, GradMode.OVERWRITE);
      assertClose(wantDh, dh.toFloatArray(), 1e-6, 1e-6, "dh = G0 + oracle");
      assertClose(k.dw, dw.toFloatArray(), 1e-5, 1e-5, "dw overwritten");
      assertClose(new float[] {k.dbias}, dc.toFloatArray(), 1e-5, 0, "dbias overwritten");
    }
  }

  @Test
  void backwardIsBitwiseReproducible() {
    Case k = new Case(3, 32, 7, 257, 0.1);
    try (Device cpu = Device.cpu()) {
      float[][] a = run(cpu, DType.F32, k);
      float[][] b = run(cpu, DType.F32, k);
      assertArrayEquals(a[2], b[2]);
      assertArrayEquals(a[3], b[3]);
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
        Tensor h2d = cpu.zeros(DType.F32, 6, 4);
        Tensor hI32 = cpu.zeros(DType.I32, 2, 3, 4);
        Tensor hWide = cpu.zeros(DType.F32, 2, 3, 5);
        Tensor e = cpu.fromInts(new int[] {0, 2}, 2);
        Tensor e3 = cpu.fromInts(new int[] {0, 2, 1}, 3);
        Tensor eF32 = cpu.zeros(DType.F32, 2);
        Tensor w = cpu.zeros(DType.F32, 4);
        Tensor w2d = cpu.zeros(DType.F32, 1, 4);
        Tensor c = cpu.zeros(DType.F32, 1);
        Tensor c2 = cpu.zeros(DType.F32, 2);
        Tensor s = cpu.zeros(DType.F32, 2);
        Tensor s3 = cpu.zeros(DType.F32, 3);
        Tensor dw5 = cpu.zeros(DType.F32, 5);
        Tensor dhBad = cpu.zeros(DType.F32, 2, 4, 4);
        Tensor hOther = other.zeros(DType.F32, 2, 3, 4);
        Tensor sOther = other.zeros(DType.F32, 2)) {
      RewardHead head = RewardHead.of(w, c);
      assertNames("weight", () -> RewardHead.of(null, c));
      assertNames("bias", () -> RewardHead.of(w, null));
      assertNames("weight", () -> RewardHead.of(w2d, c));
      assertNames("bias", () -> RewardHead.of(w, c2));
      assertNames("hidden", () -> head.forward(null, e, s));
      assertNames("hidden", () -> head.forward(h2d, e, s));
      assertNames("hidden", () -> head.forward(hI32, e, s));
      assertNames("hidden", () -> head.forward(hWide, e, s));  // w length != d
      assertNames("endIndex", () -> head.forward(h, null, s));
      assertNames("endIndex", () -> head.forward(h, e3, s));
      assertNames("endIndex", () -> head.forward(h, eF32, s));
      assertNames("scores", () -> head.forward(h, e, s3));
      assertNames("scores", () -> head.forward(h, e, sOther));
      assertNames("hidden", () -> head.forward(hOther, e, s));
      assertNames("dScores", () -> head.backward(h, e, null, null, null, null, GradMode.OVERWRITE));
      assertNames("dWeight", () -> head.backward(h, e, s, null, dw5, null, GradMode.OVERWRITE));
      assertNames("dHidden", () -> head.backward(h, e, s, dhBad, null, null, GradMode.OVERWRITE));
      assertNames("'mode'", () -> head.backward(h, e, s, null, null, null, null));  // was a NullPointerException
      assertNames("lengths", () -> RewardHead.endIndexFromLengths(3, -1));
    }
  }

  @Test
  void endIndexOutOfRangeNamesTheRow() {
    try (Device cpu = Device.cpu();
        Tensor h = cpu.zeros(DType.F32, 3, 4, 2);
        Tensor w = cpu.zeros(DType.F32, 2);
        Tensor c = cpu.zeros(DType.F32, 1);
        Tensor s = cpu.zeros(DType.F32, 3);
        Tensor tooBig = cpu.fromInts(new int[] {0, 3, 4}, 3);
        Tensor tooSmall = cpu.fromInts(new int[] {0, -2, 1}, 3)) {
      RewardHead head = RewardHead.of(w, c);
      FactRlException big = assertThrows(FactRlException.class, () -> head.forward(h, tooBig, s));
      assertEquals(FactRlException.Status.ARGUMENT, big.status());
      assertTrue(big.getMessage().contains("end_index[2] = 4"), big.getMessage());
      FactRlException small =
          assertThrows(FactRlException.class, () -> head.backward(h, tooSmall, s, null, null, null, GradMode.OVERWRITE));
      assertTrue(small.getMessage().contains("end_index[1] = -2"), small.getMessage());
      assertTrue(small.getMessage().contains("frl_reward_head_backward"), small.getMessage());
    }
  }

  @Test
  void nativeChecksNameTheArgument() {
    try (Device cpu = Device.cpu();
        Device other = Device.cpu();
        Tensor h = cpu.zeros(DType.F32, 2, 3, 4);
        Tensor hBf16 = cpu.zeros(DType.BF16, 2, 3, 4);
        Tensor h2d = cpu.zeros(DType.F32, 6, 4);
        Tensor e = cpu.fromInts(new int[] {0, 2}, 2);
        Tensor e3 = cpu.fromInts(new int[] {0, 2, 1}, 3);
        Tensor w = cpu.zeros(DType.F32, 4);
        Tensor w5 = cpu.zeros(DType.F32, 5);
        Tensor c = cpu.zeros(DType.F32, 1);
        Tensor s = cpu.zeros(DType.F32, 2);
        Tensor sOther = other.zeros(DType.F32, 2)) {
      var ctx = cpu.handle();
      assertNativeNames("ctx", PoolingNative.frl_reward_head_forward(null, h.handle(), e.handle(), w.handle(),
          c.handle(), s.handle()));
      assertNativeNames("'h'", PoolingNative.frl_reward_head_forward(ctx, null, e.handle(), w.handle(),
          c.handle(), s.handle()));
      assertNativeNames("'h'", PoolingNative.frl_reward_head_forward(ctx, h2d.handle(), e.handle(), w.handle(),
          c.handle(), s.handle()));
      assertNativeNames("'h'", PoolingNative.frl_reward_head_forward(ctx, hBf16.handle(), e.handle(),
          w.handle(), c.handle(), s.handle()));  // the CPU reference is fp32 only
      assertNativeNames("'w'", PoolingNative.frl_reward_head_forward(ctx, h.handle(), e.handle(), w5.handle(),
          c.handle(), s.handle()));
      assertNativeNames("'end_index'", PoolingNative.frl_reward_head_forward(ctx, h.handle(), e3.handle(),
          w.handle(), c.handle(), s.handle()));
      assertNativeNames("'bias'", PoolingNative.frl_reward_head_forward(ctx, h.handle(), e.handle(),
          w.handle(), null, s.handle()));
      assertNativeNames("'scores'", PoolingNative.frl_reward_head_forward(ctx, h.handle(), e.handle(),
          w.handle(), c.handle(), sOther.handle()));
      assertNativeNames("'dscores'", PoolingNative.frl_reward_head_backward(ctx, h.handle(), e.handle(),
          w.handle(), null, null, null, null, 0, 0));
      assertNativeNames("'dh_mode'", PoolingNative.frl_reward_head_backward(ctx, h.handle(), e.handle(),
          w.handle(), s.handle(), null, null, null, 2, 0));
      assertNativeNames("'dparam_mode'", PoolingNative.frl_reward_head_backward(ctx, h.handle(), e.handle(),
          w.handle(), s.handle(), null, null, null, 0, -1));
      assertNativeNames("'dw'", PoolingNative.frl_reward_head_backward(ctx, h.handle(), e.handle(),
          w.handle(), s.handle(), null, w5.handle(), null, 0, 0));
    }
  }

  /** Outputs that are inputs are refused (dh = h zeroed h before dw read it: a silently wrong dw). */
  @Test
  void aliasedOutputsAreRejected() {
    try (Device cpu = Device.cpu();
        Tensor h = cpu.fromFloats(uniform(1, 2 * 3 * 2, 1f), 2, 3, 2);
        Tensor e = cpu.fromInts(new int[] {1, 2}, 2);
        Tensor w = cpu.fromFloats(new float[] {1, 2}, 2);  // d = B = 2: w, scores, dscores, dw share a shape
        Tensor c = cpu.zeros(DType.F32, 1);
        Tensor g = cpu.fromFloats(new float[] {1, -1}, 2);
        Tensor dw = cpu.zeros(DType.F32, 2)) {
      RewardHead head = RewardHead.of(w, c);
      float[] h0 = h.toFloatArray();
      assertNames("'scores'", () -> head.forward(h, e, w));
      assertNames("'dh'", () -> head.backward(h, e, g, h, dw, null, GradMode.OVERWRITE));
      assertArrayEquals(h0, h.toFloatArray(), "a refused call writes nothing");
      assertNames("'dw'", () -> head.backward(h, e, g, null, g, null, GradMode.OVERWRITE));
      assertNames("'dw'", () -> head.backward(h, e, g, null, w, null, GradMode.OVERWRITE));
      head.backward(h, e, g, null, dw, null, GradMode.OVERWRITE);
    }
  }

  static void assertNativeNames(String argument, int status) {
    assertTrue(status != FactRlCore.FRL_OK, "expected a failing status");
    String message = FactRlCore.frl_last_error().getString();
    assertTrue(message.contains(argument), () -> "native message should name " + argument + ": " + message);
  }

  // ---- CUDA vs the CPU reference (runs only where a GPU is present) --------------------------------

  @ParameterizedTest(name = "{0}")
  @CsvSource({"F32", "BF16"})
  void cudaMatchesCpuReference(DType dtype) {
    Assumptions.assumeTrue(Device.cudaDeviceCount() > 0, "no CUDA device");
    Case k = new Case(2024, 7, 13, 203, 0.2);
    try (Device cpu = Device.cpu(); Device gpu = Device.cuda(0)) {
      if (dtype == DType.BF16) {  // the CPU reference sees the same bf16-rounded h
        try (Tensor r = cpu.fromFloats(DType.BF16, k.h, k.h.length)) {
          float[] rounded = r.toFloatArray();
          System.arraycopy(rounded, 0, k.h, 0, rounded.length);
        }
      }
      float[][] want = run(cpu, DType.F32, k);
      float[][] got = run(gpu, dtype, k);
      double dhTol = dtype == DType.BF16 ? 8e-3 : 1e-6;  // bf16 dh storage: 2^-8 relative
      assertClose(want[0], got[0], 1e-5 * Math.sqrt(k.d), 1e-5, "scores");
      assertClose(want[1], got[1], 1e-6, dhTol, "dh");
      assertClose(want[2], got[2], 1e-5, 1e-5, "dw");
      assertClose(want[3], got[3], 1e-5, 1e-5, "dbias");
    }
  }
}

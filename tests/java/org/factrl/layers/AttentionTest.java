package org.factrl.layers;

import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.plus;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.global.torch;
import org.factrl.bindings.AttentionNative;
import org.factrl.bindings.FactRlCore;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.testing.Torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Multi-head attention: the CPU reference vs libtorch autograd (matmul, triu + masked_fill,
 * softmax, logsumexp, computed in float64 from the same fp32 inputs, so the oracle's own rounding
 * does not count), a hand-computed case, large logits, null outputs, empty sizes, reproducibility
 * and argument checks on both the Java and the native side.
 *
 * <p>Tolerances (our fp32 vs the float64 oracle; inputs uniform in [-1, 1), S up to 64, D up to 64):
 * out, lse, dq, dk, dv atol 2e-6 + rtol 1e-5. Scores are length-D fp32 dot products and outputs
 * fp32 sums over at most S keys; the worst error measured on these cases is 8e-7 (dv, S = 64).
 *
 * <p>Thread count and SIMD path are changed for real in child JVMs (OMP_NUM_THREADS=1 and 3: the
 * same bits as this JVM; FACTRL_CPU_ISA=avx2 and scalar: the tolerances above against the oracle).
 *
 * <p>Large logits (q and k scaled ×100: scores up to ~10^4, far past exp's overflow at 88): every
 * value must be finite; out and lse match to atol 1e-5 + rtol 1e-6 (lse is ~10^4, off by up to
 * 1e-3: one fp32 ulp at 10^4), the gradients to atol 1e-3 + rtol 1e-3 (worst measured 7e-5). A
 * score of size 10^4 carries an fp32 rounding error of about 10^4 · 2^-24 · sqrt(D) ≈ 10^-3, which
 * moves P by up to that relative amount wherever two scores nearly tie.
 */
class AttentionTest {

  // Tolerances, as stated in the class comment.
  private static final double ATOL = 2e-6;
  private static final double RTOL = 1e-5;
  private static final double LARGE_OUT_ATOL = 1e-5;
  private static final double LARGE_OUT_RTOL = 1e-6;
  private static final double LARGE_GRAD_ATOL = 1e-3;
  private static final double LARGE_GRAD_RTOL = 1e-3;

  /** The inputs and the oracle's answers for one random case. */
  private static final class Case {
    final int b, s, h, d;
    final boolean causal;
    final float scale;
    final float[] q, k, v, dout;
    float[] out, lse, dq, dk, dv;

    Case(long seed, int b, int s, int h, int d, boolean causal, float qkScale) {
      this(seed, b, s, h, d, causal, qkScale, true);
    }

    /** The inputs, and the oracle's answers unless withOracle is false (child processes load no libtorch). */
    Case(long seed, int b, int s, int h, int d, boolean causal, float qkScale, boolean withOracle) {
      this.b = b;
      this.s = s;
      this.h = h;
      this.d = d;
      this.causal = causal;
      this.scale = (float) (1.0 / Math.sqrt(d));
      int n = b * s * h * d;
      q = uniform(seed, n, qkScale);
      k = uniform(seed + 1, n, qkScale);
      v = uniform(seed + 2, n, 1f);
      dout = uniform(seed + 3, n, 1f);
      if (withOracle) {
        oracle();
      }
    }

    Attention layer() {
      return Attention.of(causal, scale);
    }

    /**
     * libtorch, float64: with [B,S,H,D] -> [B,H,S,D] by permute, scores = (q kᵀ)·scale with the
     * strict upper triangle filled with -inf when causal, out = softmax(scores) v, lse =
     * logsumexp(scores); gradients by autograd of Σ out ∘ dout.
     */
    private void oracle() {
      try (PointerScope scope = new PointerScope()) {
        org.bytedeco.pytorch.Tensor qt = leaf(q);
        org.bytedeco.pytorch.Tensor kt = leaf(k);
        org.bytedeco.pytorch.Tensor vt = leaf(v);
        org.bytedeco.pytorch.Tensor scores =
            torch.matmul(heads(qt), heads(kt).transpose(-2, -1)).mul(new Scalar((double) scale));
        if (causal) {
          float[] ones = new float[s * s];
          Arrays.fill(ones, 1f);
          org.bytedeco.pytorch.Tensor future = torch.triu(Torch.tensor(ones, s, s), 1).to(torch.ScalarType.Bool);
          scores = scores.masked_fill(future, new Scalar(Double.NEGATIVE_INFINITY));
        }
        org.bytedeco.pytorch.Tensor o = torch.matmul(torch.softmax(scores, -1), heads(vt)).permute(0, 2, 1, 3);
        org.bytedeco.pytorch.Tensor l = torch.logsumexp(scores, new long[] {-1}, false);  // [B, H, S]
        out = Torch.floats(o);
        lse = Torch.floats(l);
        o.mul(Torch.tensor(dout, b, s, h, d).to(torch.ScalarType.Double)).sum().backward();
        dq = Torch.floats(qt.grad());
        dk = Torch.floats(kt.grad());
        dv = Torch.floats(vt.grad());
      }
    }

    /** A float64 leaf [B, S, H, D] that requires grad. */
    private org.bytedeco.pytorch.Tensor leaf(float[] x) {
      return Torch.tensor(x, b, s, h, d).to(torch.ScalarType.Double).requires_grad_(true);
    }

    /** [B, S, H, D] -> [B, H, S, D]. */
    private static org.bytedeco.pytorch.Tensor heads(org.bytedeco.pytorch.Tensor x) {
      return x.permute(0, 2, 1, 3);
    }
  }

  /** Our forward and backward on the CPU; returns {out, lse, dq, dk, dv}. Outputs start as garbage. */
  private static float[][] run(Device dev, Case c) {
    return run(dev, c, GradMode.OVERWRITE);
  }

  /** The prefilled contents of dq, dk, dv in {@link #run}: G0 of the accumulate test. */
  private static float[][] prefill(Case c) {
    int n = c.b * c.s * c.h * c.d;
    return new float[][] {uniform(97, n, 5f), uniform(96, n, 5f), uniform(95, n, 5f)};
  }

  private static float[][] run(Device dev, Case c, GradMode mode) {
    float[][] g0 = prefill(c);
    long[] bshd = {c.b, c.s, c.h, c.d};
    int n = c.b * c.s * c.h * c.d;
    try (Tensor q = dev.fromFloats(c.q, bshd);
        Tensor k = dev.fromFloats(c.k, bshd);
        Tensor v = dev.fromFloats(c.v, bshd);
        Tensor dout = dev.fromFloats(c.dout, bshd);
        Tensor out = dev.fromFloats(uniform(99, n, 5f), bshd);
        Tensor lse = dev.fromFloats(uniform(98, c.b * c.h * c.s, 5f), c.b, c.h, c.s);
        Tensor dq = dev.fromFloats(g0[0], bshd);
        Tensor dk = dev.fromFloats(g0[1], bshd);
        Tensor dv = dev.fromFloats(g0[2], bshd)) {
      Attention attention = c.layer();
      attention.forward(q, k, v, out, lse);
      attention.backward(q, k, v, out, lse, dout, dq, dk, dv, mode);
      return new float[][] {
        out.toFloatArray(), lse.toFloatArray(), dq.toFloatArray(), dk.toFloatArray(), dv.toFloatArray()
      };
    }
  }

  private static final String[] NAMES = {"out", "lse", "dq", "dk", "dv"};

  private static float[][] oracleOf(Case c) {
    return new float[][] {c.out, c.lse, c.dq, c.dk, c.dv};
  }

  @ParameterizedTest(name = "B={0} S={1} H={2} D={3} causal={4}")
  @CsvSource({
    "1,1,1,1,true", "1,1,1,1,false", "2,7,3,5,true", "2,7,3,5,false", "1,6,1,1,true", "2,1,3,4,false",
    "1,5,2,1,false", "3,16,2,8,true", "1,33,4,16,false", "2,9,1,64,true"
  })
  void matchesTorchSoftmaxAttentionWithAutograd(int b, int s, int h, int d, boolean causal) {
    Case c = new Case(1000L * b + 100L * s + 10L * h + d, b, s, h, d, causal, 1f);
    try (Device cpu = Device.cpu()) {
      float[][] ours = run(cpu, c);
      float[][] want = oracleOf(c);
      for (int i = 0; i < NAMES.length; i++) {
        assertClose(want[i], ours[i], ATOL, RTOL, NAMES[i]);
      }
    }
  }

  @ParameterizedTest(name = "B={0} S={1} H={2} D={3} causal={4}")
  @CsvSource({"2,7,3,5,true", "2,7,3,5,false", "1,16,2,8,true", "1,12,1,1,false"})
  void largeLogitsStayFiniteAndMatch(int b, int s, int h, int d, boolean causal) {
    Case c = new Case(7L * s + d, b, s, h, d, causal, 100f);
    try (Device cpu = Device.cpu()) {
      float[][] ours = run(cpu, c);
      for (int i = 0; i < NAMES.length; i++) {
        for (float x : ours[i]) {
          assertTrue(Float.isFinite(x), NAMES[i] + " has a non-finite value " + x);
        }
      }
      float maxLse = 0;
      for (float x : c.lse) {
        maxLse = Math.max(maxLse, Math.abs(x));
      }
      assertTrue(maxLse > 100, "the case should have scores past exp's overflow, max |lse| = " + maxLse);
      assertClose(c.out, ours[0], LARGE_OUT_ATOL, LARGE_OUT_RTOL, "out");
      assertClose(c.lse, ours[1], LARGE_OUT_ATOL, LARGE_OUT_RTOL, "lse");
      assertClose(c.dq, ours[2], LARGE_GRAD_ATOL, LARGE_GRAD_RTOL, "dq");
      assertClose(c.dk, ours[3], LARGE_GRAD_ATOL, LARGE_GRAD_RTOL, "dk");
      assertClose(c.dv, ours[4], LARGE_GRAD_ATOL, LARGE_GRAD_RTOL, "dv");
    }
  }

  @ParameterizedTest(name = "B={0} S={1} H={2} D={3} causal={4}")
  @CsvSource({"1,1,1,1,true", "2,7,3,5,true", "2,7,3,5,false", "1,33,4,16,false"})
  void accumulateAddsTheOracleGradientToWhatTheOutputsHeld(int b, int s, int h, int d, boolean causal) {
    Case c = new Case(1000L * b + 100L * s + 10L * h + d, b, s, h, d, causal, 1f);
    try (Device cpu = Device.cpu()) {
      float[][] ours = run(cpu, c, GradMode.ACCUMULATE);
      float[][] g0 = prefill(c);
      float[][] want = oracleOf(c);
      for (int i = 2; i < NAMES.length; i++) {  // |G0| <= 5: one more rounding of that size
        assertClose(plus(g0[i - 2], want[i]), ours[i], ATOL + 1e-6, RTOL, NAMES[i] + " = G0 + oracle");
      }
    }
  }

  @Test
  void handComputedCausalCase() {
    // B = H = 1, S = 2, D = 1, scale 1. Row 0 sees key 0 only: out = v0, lse = q0·k0 = 0.
    // Row 1 sees scores (ln3·0, ln3·1) = (0, ln 3): P = (1/4, 3/4), lse = ln 4, out = 4/4 + 3·8/4 = 7.
    float ln3 = (float) Math.log(3);
    try (Device cpu = Device.cpu();
        Tensor q = cpu.fromFloats(new float[] {2f, ln3}, 1, 2, 1, 1);
        Tensor k = cpu.fromFloats(new float[] {0f, 1f}, 1, 2, 1, 1);
        Tensor v = cpu.fromFloats(new float[] {4f, 8f}, 1, 2, 1, 1);
        Tensor out = cpu.zeros(DType.F32, 1, 2, 1, 1);
        Tensor lse = cpu.zeros(DType.F32, 1, 1, 2);
        Tensor dout = cpu.fromFloats(new float[] {1f, 1f}, 1, 2, 1, 1);
        Tensor dv = cpu.zeros(DType.F32, 1, 2, 1, 1);
        Tensor dq = cpu.zeros(DType.F32, 1, 2, 1, 1)) {
      Attention causal = Attention.of(true, 1f);
      causal.forward(q, k, v, out, lse);
      assertClose(new float[] {4f, 7f}, out.toFloatArray(), 1e-6, 1e-6, "out");
      assertClose(new float[] {0f, (float) Math.log(4)}, lse.toFloatArray(), 1e-6, 1e-6, "lse");
      causal.backward(q, k, v, out, lse, dout, dq, null, dv, GradMode.OVERWRITE);
      // dv_0 = P00 + P10 = 1 + 1/4, dv_1 = P11 = 3/4.
      assertClose(new float[] {1.25f, 0.75f}, dv.toFloatArray(), 1e-6, 1e-6, "dv");
      // Row 0 has one key: dS = 0, dq_0 = 0. Row 1: D = 7, dS = P ∘ (v − 7) = (1/4·(−3), 3/4·1),
      // dq_1 = Σ_j dS_j k_j = 3/4.
      assertClose(new float[] {0f, 0.75f}, dq.toFloatArray(), 1e-6, 1e-6, "dq");
    }
  }

  @Test
  void nullOutputsAreSkippedAndTheOthersUnchanged() {
    Case c = new Case(5, 2, 7, 3, 5, true, 1f);
    long[] bshd = {c.b, c.s, c.h, c.d};
    try (Device cpu = Device.cpu();
        Tensor q = cpu.fromFloats(c.q, bshd);
        Tensor k = cpu.fromFloats(c.k, bshd);
        Tensor v = cpu.fromFloats(c.v, bshd);
        Tensor dout = cpu.fromFloats(c.dout, bshd);
        Tensor out = cpu.zeros(DType.F32, bshd);
        Tensor outNoLse = cpu.zeros(DType.F32, bshd);
        Tensor lse = cpu.zeros(DType.F32, c.b, c.h, c.s);
        Tensor dq = cpu.zeros(DType.F32, bshd);
        Tensor dk = cpu.zeros(DType.F32, bshd);
        Tensor dv = cpu.zeros(DType.F32, bshd);
        Tensor one = cpu.zeros(DType.F32, bshd)) {
      Attention attention = c.layer();
      attention.forward(q, k, v, out, lse);
      attention.forward(q, k, v, outNoLse, null);
      assertArrayEquals(out.toFloatArray(), outNoLse.toFloatArray(), "out without lse");
      attention.backward(q, k, v, out, lse, dout, dq, dk, dv, GradMode.OVERWRITE);
      attention.backward(q, k, v, out, lse, dout, one, null, null, GradMode.OVERWRITE);
      assertArrayEquals(dq.toFloatArray(), one.toFloatArray(), "dq alone");
      attention.backward(q, k, v, out, lse, dout, null, one, null, GradMode.OVERWRITE);
      assertArrayEquals(dk.toFloatArray(), one.toFloatArray(), "dk alone");
      attention.backward(q, k, v, out, lse, dout, null, null, one, GradMode.OVERWRITE);
      assertArrayEquals(dv.toFloatArray(), one.toFloatArray(), "dv alone");
      attention.backward(q, k, v, out, lse, dout, null, null, null, GradMode.OVERWRITE);  // nothing to compute: no error
    }
  }

  @Test
  void resultsAreBitwiseReproducible() {
    // Large enough (B·H·S²·D ≈ 1.6M multiply-adds) that both passes run on every OpenMP thread.
    Case c = new Case(11, 2, 64, 4, 48, true, 1f);
    try (Device cpu = Device.cpu()) {
      float[][] first = run(cpu, c);
      float[][] second = run(cpu, c);
      for (int i = 0; i < NAMES.length; i++) {
        assertArrayEquals(first[i], second[i], NAMES[i]);
      }
      float[][] want = oracleOf(c);
      for (int i = 0; i < NAMES.length; i++) {
        assertClose(want[i], first[i], ATOL, RTOL, NAMES[i]);
      }
    }
  }

  @ParameterizedTest(name = "B={0} S={1} H={2} D={3}")
  @CsvSource({"0,3,2,4", "2,0,2,4", "2,3,0,4", "2,3,2,0"})
  void emptySizesGiveEmptyOrTrivialResults(int b, int s, int h, int d) {
    long[] bshd = {b, s, h, d};
    try (Device cpu = Device.cpu();
        Tensor q = cpu.zeros(DType.F32, bshd);
        Tensor k = cpu.zeros(DType.F32, bshd);
        Tensor v = cpu.zeros(DType.F32, bshd);
        Tensor out = cpu.zeros(DType.F32, bshd);
        Tensor lse = cpu.zeros(DType.F32, b, h, s);
        Tensor dq = cpu.zeros(DType.F32, bshd)) {
      for (Attention attention : new Attention[] {Attention.of(true, 1f), Attention.of(false, 1f)}) {
        attention.forward(q, k, v, out, lse);
        attention.backward(q, k, v, out, lse, out, dq, null, null, GradMode.OVERWRITE);
        // With D = 0 every score is 0: lse is the log of the number of keys each query sees.
        float[] want = new float[b * h * s];
        for (int row = 0; row < want.length; row++) {
          int i = row % Math.max(s, 1);
          want[row] = (float) Math.log(attention.isCausal() ? i + 1 : s);
        }
        assertClose(want, lse.toFloatArray(), 1e-6, 1e-6, attention + " lse");
      }
    }
  }

  @Test
  void factoriesUseOneOverSqrtHeadDim() {
    assertEquals(0.125f, Attention.causal(64).scale());
    assertTrue(Attention.causal(64).isCausal());
    assertEquals(Attention.of(false, 0.5f), Attention.bidirectional(4));
    assertNotEquals(Attention.causal(4), Attention.bidirectional(4));
    assertEquals("Attention[causal, scale=0.125]", Attention.causal(64).toString());
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
        Tensor x = cpu.zeros(DType.F32, 2, 3, 4, 5);
        Tensor x3d = cpu.zeros(DType.F32, 2, 3, 20);
        Tensor xI32 = cpu.zeros(DType.I32, 2, 3, 4, 5);
        Tensor xBf16 = cpu.zeros(DType.BF16, 2, 3, 4, 5);
        Tensor xLong = cpu.zeros(DType.F32, 2, 4, 4, 5);
        Tensor lse = cpu.zeros(DType.F32, 2, 4, 3);
        Tensor lseSwapped = cpu.zeros(DType.F32, 2, 3, 4);  // [B, S, H]: the wrong order
        Tensor xOther = other.zeros(DType.F32, 2, 3, 4, 5)) {
      Attention a = Attention.causal(5);
      assertNames("headDim", () -> Attention.causal(0));
      assertNames("headDim", () -> Attention.bidirectional(-3));
      assertNames("scale", () -> Attention.of(true, Float.NaN));
      assertNames("scale", () -> Attention.of(true, Float.POSITIVE_INFINITY));
      assertNames("scale", () -> Attention.of(false, 0f));
      assertNames("scale", () -> Attention.of(false, -0.5f));
      assertNames("'q'", () -> a.forward(null, x, x, x, lse));
      assertNames("'q'", () -> a.forward(x3d, x, x, x, lse));
      assertNames("'q'", () -> a.forward(xI32, x, x, x, lse));
      assertNames("'k'", () -> a.forward(x, null, x, x, lse));
      assertNames("'k'", () -> a.forward(x, xLong, x, x, lse));
      assertNames("'v'", () -> a.forward(x, x, xBf16, x, lse));
      assertNames("'v'", () -> a.forward(x, x, xOther, x, lse));
      assertNames("'out'", () -> a.forward(x, x, x, null, lse));
      assertNames("'lse'", () -> a.forward(x, x, x, x, lseSwapped));
      assertNames("'lse'", () -> a.backward(x, x, x, x, null, x, x, x, x, GradMode.OVERWRITE));
      assertNames("'dOut'", () -> a.backward(x, x, x, x, lse, null, x, x, x, GradMode.OVERWRITE));
      assertNames("'dOut'", () -> a.backward(x, x, x, x, lse, xI32, x, x, x, GradMode.OVERWRITE));
      assertNames("'dq'", () -> a.backward(x, x, x, x, lse, x, xLong, null, null, GradMode.OVERWRITE));
      assertNames("'dk'", () -> a.backward(x, x, x, x, lse, x, null, x3d, null, GradMode.OVERWRITE));
      assertNames("'dv'", () -> a.backward(x, x, x, x, lse, x, null, null, xOther, GradMode.OVERWRITE));
      // outputs must not alias inputs: the kernels read q, k, v (and dout) while writing
      try (Tensor q = cpu.zeros(DType.F32, 2, 3, 4, 5); Tensor out = cpu.zeros(DType.F32, 2, 3, 4, 5)) {
        assertNames("'out' must not be the same tensor as 'q'", () -> a.forward(q, x, x, q, lse));
        assertNames("'dk' must not be the same tensor as 'k'", () -> a.backward(q, x, x, out, lse, out, null, x, null, GradMode.OVERWRITE));
      }
    }
  }

  @Test
  void nativeChecksNameTheArgument() {
    try (Device cpu = Device.cpu();
        Device other = Device.cpu();
        Tensor x = cpu.zeros(DType.F32, 2, 3, 4, 5);
        Tensor x3d = cpu.zeros(DType.F32, 2, 3, 20);
        Tensor xI32 = cpu.zeros(DType.I32, 2, 3, 4, 5);
        Tensor xLong = cpu.zeros(DType.F32, 2, 4, 4, 5);
        Tensor lse = cpu.zeros(DType.F32, 2, 4, 3);
        Tensor lseSwapped = cpu.zeros(DType.F32, 2, 3, 4);
        Tensor xOther = other.zeros(DType.F32, 2, 3, 4, 5)) {
      var ctx = cpu.handle();
      var t = x.handle();
      var l = lse.handle();
      assertNativeNames("ctx", AttentionNative.frl_attention_forward(null, t, t, t, 1, 0.5f, t, l));
      assertNativeNames("'q'", AttentionNative.frl_attention_forward(ctx, null, t, t, 1, 0.5f, t, l));
      assertNativeNames("'q'", AttentionNative.frl_attention_forward(ctx, x3d.handle(), t, t, 1, 0.5f, t, l));
      assertNativeNames("'q'", AttentionNative.frl_attention_forward(ctx, xI32.handle(), t, t, 1, 0.5f, t, l));
      assertNativeNames("'k'", AttentionNative.frl_attention_forward(ctx, t, xLong.handle(), t, 1, 0.5f, t, l));
      assertNativeNames("'v'", AttentionNative.frl_attention_forward(ctx, t, t, xI32.handle(), 1, 0.5f, t, l));
      assertNativeNames("'out'", AttentionNative.frl_attention_forward(ctx, t, t, t, 1, 0.5f, xOther.handle(), l));
      assertNativeNames("'lse'", AttentionNative.frl_attention_forward(ctx, t, t, t, 1, 0.5f, t,
          lseSwapped.handle()));
      assertNativeNames("'causal'", AttentionNative.frl_attention_forward(ctx, t, t, t, 2, 0.5f, t, l));
      assertNativeNames("'scale'", AttentionNative.frl_attention_forward(ctx, t, t, t, 1, Float.NaN, t, l));
      assertNativeNames("'scale'", AttentionNative.frl_attention_forward(ctx, t, t, t, 1, 0f, t, l));
      assertNativeNames("'scale'", AttentionNative.frl_attention_forward(ctx, t, t, t, 0,
          Float.NEGATIVE_INFINITY, t, l));
      assertNativeNames("'lse'", AttentionNative.frl_attention_backward(ctx, t, t, t, t, null, t, 1, 0.5f, t,
          t, t, 0));
      assertNativeNames("'dout'", AttentionNative.frl_attention_backward(ctx, t, t, t, t, l, null, 1, 0.5f,
          t, t, t, 0));
      assertNativeNames("'dq'", AttentionNative.frl_attention_backward(ctx, t, t, t, t, l, t, 1, 0.5f,
          xLong.handle(), null, null, 0));
      assertNativeNames("'dk'", AttentionNative.frl_attention_backward(ctx, t, t, t, t, l, t, 1, 0.5f, null,
          xI32.handle(), null, 0));
      assertNativeNames("'dv'", AttentionNative.frl_attention_backward(ctx, t, t, t, t, l, t, 1, 0.5f, null,
          null, xOther.handle(), 0));
      assertNativeNames("'scale'", AttentionNative.frl_attention_backward(ctx, t, t, t, t, l, t, 1,
          Float.POSITIVE_INFINITY, null, null, null, 0));
      assertNativeNames("frl_attention_backward", AttentionNative.frl_attention_backward(ctx, t, t, t, t, l, t,
          -1, 0.5f, null, null, null, 0));
    }
  }

  static void assertNativeNames(String argument, int status) {
    assertTrue(status != FactRlCore.FRL_OK, "expected a failing status");
    String message = FactRlCore.frl_last_error().getString();
    assertTrue(message.contains(argument), () -> "native message should name " + argument + ": " + message);
  }

  // ---- thread count and ISA path, really changed: in child JVMs ------------------------------------

  /**
   * The case the child processes compute: several query tiles and key blocks (64 each), a partial
   * last block, D not a multiple of 16 (packed operands), causal.
   */
  private static Case childCase(boolean withOracle) {
    return new Case(23, 2, 150, 3, 40, true, 1f, withOracle);
  }

  /**
   * Entry point of a child JVM: computes {@link #childCase} with this process's OMP_NUM_THREADS and
   * FACTRL_CPU_ISA and writes {out, lse, dq, dk, dv} as raw floats to the file args[0].
   */
  public static final class Child {
    public static void main(String[] args) throws IOException {
      float[][] results;
      try (Device cpu = Device.cpu()) {
        System.out.println("device: " + cpu.name());  // "cpu (N threads)": the parent checks N
        results = run(cpu, childCase(false));
      }
      try (DataOutputStream o = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(args[0])))) {
        for (float[] r : results) {
          o.writeInt(r.length);
          for (float x : r) {
            o.writeFloat(x);
          }
        }
      }
    }
  }

  /**
   * Runs {@link Child} in a new JVM with extra environment variables; returns its results and checks
   * that its log contains {@code expectedLog}.
   */
  private static float[][] runChild(Map<String, String> env, String expectedLog) throws Exception {
    Path file = Files.createTempFile("factrl-attention-", ".bin");
    try {
      List<String> command = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path")));
      String cache = System.getProperty("org.bytedeco.javacpp.cachedir");
      if (cache != null) {
        command.add("-Dorg.bytedeco.javacpp.cachedir=" + cache);
      }
      command.add(Child.class.getName());
      command.add(file.toString());
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.environment().putAll(env);
      Process process = builder.start();
      String log = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(process.waitFor(300, TimeUnit.SECONDS), "child JVM did not finish: " + log);
      assertEquals(0, process.exitValue(), () -> "child JVM " + env + " failed: " + log);
      assertTrue(log.contains(expectedLog), () -> "child JVM " + env + " log lacks " + expectedLog + ": " + log);
      float[][] results = new float[NAMES.length][];
      try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
        for (int i = 0; i < results.length; i++) {
          results[i] = new float[in.readInt()];
          for (int j = 0; j < results[i].length; j++) {
            results[i][j] = in.readFloat();
          }
        }
      }
      return results;
    } finally {
      Files.deleteIfExists(file);
    }
  }

  @Test
  void sameBitsForOtherThreadCountsAndOracleAccuracyOnEveryIsaPath() throws Exception {
    Case c = childCase(true);
    float[][] here;
    try (Device cpu = Device.cpu()) {
      here = run(cpu, c);
    }
    // This JVM uses OpenMP's default thread count (the cores); the children 1 and 3 threads. Every
    // output element is summed by one task in a fixed order: the bits must not change.
    for (String threads : new String[] {"1", "3"}) {
      float[][] child = runChild(Map.of("OMP_NUM_THREADS", threads), "(" + threads + " threads)");
      for (int i = 0; i < NAMES.length; i++) {
        assertArrayEquals(here[i], child[i], NAMES[i] + " with OMP_NUM_THREADS=" + threads);
      }
    }
    // The lower SIMD paths (taken where the CPU has nothing better) round differently but must meet
    // the same tolerance against the oracle.
    float[][] want = oracleOf(c);
    for (String isa : new String[] {"avx2", "scalar"}) {
      float[][] child = runChild(Map.of("FACTRL_CPU_ISA", isa), "device: cpu");
      for (int i = 0; i < NAMES.length; i++) {
        assertClose(want[i], child[i], ATOL, RTOL, NAMES[i] + " with FACTRL_CPU_ISA=" + isa);
      }
    }
  }

  // ---- CUDA (runs only where a GPU is present) --------------------------------------------------------

  /**
   * The CUDA kernels (kernels/attention.cu) against the same float64 oracle, F32 storage: the
   * device's fast-math exp/log are a few ulp off libm, so 5x the CPU's tolerances.
   */
  @ParameterizedTest(name = "CUDA B={0} S={1} H={2} D={3} causal={4}")
  @CsvSource({"1,1,1,1,true", "2,7,3,5,true", "2,7,3,5,false", "3,16,2,8,true", "1,33,4,16,false",
      "2,9,1,64,true", "1,70,2,128,true"})
  void cudaMatchesTorchSoftmaxAttentionWithAutograd(int b, int s, int h, int d, boolean causal) {
    Assumptions.assumeTrue(Device.cudaDeviceCount() > 0, "no CUDA device");
    Case c = new Case(1000L * b + 100L * s + 10L * h + d, b, s, h, d, causal, 1f);
    try (Device gpu = Device.cuda(0)) {
      float[][] ours = run(gpu, c);
      float[][] want = oracleOf(c);
      for (int i = 0; i < NAMES.length; i++) {
        assertClose(want[i], ours[i], 5 * ATOL, 5 * RTOL, NAMES[i] + " on CUDA");
      }
    }
  }
}

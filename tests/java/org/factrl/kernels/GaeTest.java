package org.factrl.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.factrl.bindings.FactRlCore;
import org.factrl.bindings.GaeNative;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;
import org.factrl.testing.Numerics;
import org.factrl.testing.Torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** GAE and masked whitening on the CPU reference backend. */
class GaeTest {
  private static Device cpu;

  @BeforeAll
  static void open() {
    cpu = Device.cpu();
  }

  @AfterAll
  static void close() {
    cpu.close();
  }

  // ---- references ----------------------------------------------------------------------------

  /** The textbook loop, per row, in double: {advantages, returns}. Padded positions stay 0. */
  static double[][] referenceGae(float[] r, float[] v, int[] m, int b, int t, float gamma, float lambda) {
    double[] adv = new double[b * t];
    double[] ret = new double[b * t];
    double g = gamma;
    double gl = (double) gamma * (double) lambda;
    for (int row = 0; row < b; row++) {
      int len = 0;
      while (len < t && m[row * t + len] == 1) {
        len++;
      }
      double a = 0;
      for (int i = len - 1; i >= 0; i--) {
        int k = row * t + i;
        double next = i + 1 < len ? v[k + 1] : 0.0;
        double delta = r[k] + g * next - v[k];
        a = delta + gl * a;
        adv[k] = a;
        ret[k] = a + v[k];
      }
    }
    return new double[][] {adv, ret};
  }

  /** Prefix mask with the given lengths. */
  static int[] prefixMask(int[] lengths, int t) {
    int[] m = new int[lengths.length * t];
    for (int row = 0; row < lengths.length; row++) {
      for (int i = 0; i < lengths[row]; i++) {
        m[row * t + i] = 1;
      }
    }
    return m;
  }

  /** Random lengths in [0, T], forcing one empty and one full row when B allows. */
  static int[] randomLengths(SplittableRandom rnd, int b, int t) {
    int[] len = new int[b];
    for (int i = 0; i < b; i++) {
      len[i] = rnd.nextInt(t + 1);
    }
    if (b >= 2) {
      len[0] = 0;
      len[b - 1] = t;
    }
    return len;
  }

  static float[] toFloats(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }

  /** {advantages, returns} from the engine, unwhitened. */
  static float[][] runGae(float[] r, float[] v, int[] m, int b, int t, GaeOptions options) {
    return runGae(cpu, r, v, m, b, t, options);
  }

  static float[][] runGae(Device device, float[] r, float[] v, int[] m, int b, int t, GaeOptions options) {
    try (Tensor tr = device.fromFloats(r, b, t);
        Tensor tv = device.fromFloats(v, b, t);
        Tensor tm = device.fromInts(m, b, t);
        Tensor adv = device.zeros(DType.F32, b, t);
        Tensor ret = device.zeros(DType.F32, b, t)) {
      Gae.compute(tr, tv, tm, options, adv, ret);
      return new float[][] {adv.toFloatArray(), ret.toFloatArray()};
    }
  }

  static GaeOptions plain(float gamma, float lambda) {
    return GaeOptions.builder().gamma(gamma).lambda(lambda).whiten(false).build();
  }

  // ---- GAE vs the sequential loop --------------------------------------------------------------

  /**
   * Random batches (odd sizes, lengths 0..T with an empty and a full row, NaN in the padding, which
   * must never be read). The CPU kernel also accumulates in double, so the only difference is the
   * final rounding to float: atol 1e-6 + rtol 1e-6.
   */
  @ParameterizedTest
  @CsvSource({"1, 1, 1.0, 1.0", "3, 7, 1.0, 1.0", "5, 33, 0.99, 0.95", "8, 129, 0.9, 0.5", "13, 300, 1.0, 0.0",
      "6, 257, 0.0, 1.0", "2, 1000, 0.999, 1.0"})
  void matchesSequentialLoopOnRandomBatches(int b, int t, float gamma, float lambda) {
    SplittableRandom rnd = new SplittableRandom(31L * b + t);
    int[] lengths = randomLengths(rnd, b, t);
    int[] m = prefixMask(lengths, t);
    float[] r = Numerics.uniform(rnd.nextLong(), b * t, 1f);
    float[] v = Numerics.uniform(rnd.nextLong(), b * t, 2f);
    for (int i = 0; i < b * t; i++) {
      if (m[i] == 0) {
        r[i] = Float.NaN;
        v[i] = Float.NaN;
      }
    }
    float[][] got = runGae(r, v, m, b, t, plain(gamma, lambda));
    double[][] want = referenceGae(r, v, m, b, t, gamma, lambda);
    Numerics.assertClose(toFloats(want[0]), got[0], 1e-6, 1e-6, "advantages");
    Numerics.assertClose(toFloats(want[1]), got[1], 1e-6, 1e-6, "returns");
  }

  /**
   * Hand-computed, T = 3. Row 0 full: r = [1, 0, 2], V = [0.5, 1, -1]. Row 1 has length 2 (same r,
   * V, padding holds 7s that must be ignored).
   *
   * <p>gamma = lambda = 1 (row 0): delta_2 = 2 + 0 - (-1) = 3, delta_1 = 0 + (-1) - 1 = -2,
   * delta_0 = 1 + 1 - 0.5 = 1.5; A = [1.5 + 1, -2 + 3, 3] = [2.5, 1, 3]; R = A + V = [3, 2, 2]
   * (the reward-to-go, as it must be for gamma = lambda = 1). Row 1: delta_1 = 0 + 0 - 1 = -1,
   * delta_0 = 1.5; A = [0.5, -1, 0]; R = [1, 0, 0].
   *
   * <p>gamma = 0.9, lambda = 0.95 (gamma*lambda = 0.855), row 0: delta_2 = 3, delta_1 = 0 + 0.9*(-1)
   * - 1 = -1.9, delta_0 = 1 + 0.9*1 - 0.5 = 1.4; A_2 = 3, A_1 = -1.9 + 0.855*3 = 0.665,
   * A_0 = 1.4 + 0.855*0.665 = 1.968575; R = [2.468575, 1.665, 2]. Row 1: delta_1 = -1,
   * delta_0 = 1.4; A_1 = -1, A_0 = 1.4 - 0.855 = 0.545; R = [1.045, 0, 0]. Tolerance 1e-6.
   */
  @Test
  void handComputedSmallCases() {
    float[] r = {1, 0, 2, 1, 0, 7};
    float[] v = {0.5f, 1, -1, 0.5f, 1, 7};
    int[] m = {1, 1, 1, 1, 1, 0};
    float[][] one = runGae(r, v, m, 2, 3, plain(1f, 1f));
    Numerics.assertClose(new float[] {2.5f, 1, 3, 0.5f, -1, 0}, one[0], 1e-6, 0, "advantages, gamma=lambda=1");
    Numerics.assertClose(new float[] {3, 2, 2, 1, 0, 0}, one[1], 1e-6, 0, "returns, gamma=lambda=1");
    float[][] disc = runGae(r, v, m, 2, 3, plain(0.9f, 0.95f));
    Numerics.assertClose(new float[] {1.968575f, 0.665f, 3, 0.545f, -1, 0}, disc[0], 1e-6, 0,
        "advantages, gamma=0.9 lambda=0.95");
    Numerics.assertClose(new float[] {2.468575f, 1.665f, 2, 1.045f, 0, 0}, disc[1], 1e-6, 0,
        "returns, gamma=0.9 lambda=0.95");
  }

  /** Length-1 rows: A_0 = r_0 - V_0 and R_0 = r_0, whatever gamma and lambda are. */
  @Test
  void lengthOneSequences() {
    float[] r = {2, 9, -1, 9};
    float[] v = {0.5f, 9, 3, 9};
    int[] m = {1, 0, 1, 0};
    float[][] got = runGae(r, v, m, 2, 2, plain(0.7f, 0.3f));
    assertArrayEquals(new float[] {1.5f, 0, -4, 0}, got[0]);
    assertArrayEquals(new float[] {2, 0, -1, 0}, got[1]);
  }

  /** All-padding rows between full rows give zeros and leave the full rows exact. */
  @Test
  void allPaddingRowsMixedWithFullRows() {
    int b = 4;
    int t = 5;
    int[] m = prefixMask(new int[] {5, 0, 5, 0}, t);
    float[] r = Numerics.uniform(7, b * t, 1f);
    float[] v = Numerics.uniform(8, b * t, 1f);
    float[][] got = runGae(r, v, m, b, t, plain(0.95f, 0.9f));
    double[][] want = referenceGae(r, v, m, b, t, 0.95f, 0.9f);
    Numerics.assertClose(toFloats(want[0]), got[0], 1e-6, 1e-6, "advantages");
    Numerics.assertClose(toFloats(want[1]), got[1], 1e-6, 1e-6, "returns");
    for (int i = 0; i < t; i++) {
      assertEquals(0f, got[0][t + i]);
      assertEquals(0f, got[1][3 * t + i]);
    }
  }

  /** Outputs are overwritten: stale values in advantages / returns do not leak into padding. */
  @Test
  void outputsAreOverwrittenNotAccumulated() {
    int[] m = {1, 1, 0};
    try (Tensor tr = cpu.fromFloats(new float[] {1, 1, 1}, 1, 3);
        Tensor tv = cpu.fromFloats(new float[] {0, 0, 0}, 1, 3);
        Tensor tm = cpu.fromInts(m, 1, 3);
        Tensor adv = cpu.fromFloats(new float[] {5, 5, 5}, 1, 3);
        Tensor ret = cpu.fromFloats(new float[] {5, 5, 5}, 1, 3)) {
      Gae.compute(tr, tv, tm, plain(1f, 1f), adv, ret);
      assertArrayEquals(new float[] {2, 1, 0}, adv.toFloatArray());
      assertArrayEquals(new float[] {2, 1, 0}, ret.toFloatArray());
    }
  }

  // ---- whitening --------------------------------------------------------------------------------

  /** Mean and unbiased std over the valid entries, in double: {mean, std}. */
  static double[] maskedMoments(float[] x, int[] m) {
    double n = 0;
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      if (m[i] != 0) {
        n++;
        s += x[i];
      }
    }
    double mean = s / n;
    double m2 = 0;
    for (int i = 0; i < x.length; i++) {
      if (m[i] != 0) {
        m2 += (x[i] - mean) * (x[i] - mean);
      }
    }
    return new double[] {mean, Math.sqrt(m2 / (n - 1))};
  }

  /**
   * GAE then whitening (shift_mean): over valid tokens mean 0 (|mean| < 1e-5) and unbiased std 1
   * (|std - 1| < 1e-5); padding exactly 0; the returns are those of the unwhitened advantages.
   */
  @Test
  void whitenedAdvantagesHaveZeroMeanUnitStdOverValidTokens() {
    int b = 9;
    int t = 77;
    SplittableRandom rnd = new SplittableRandom(5);
    int[] m = prefixMask(randomLengths(rnd, b, t), t);
    float[] r = Numerics.uniform(1, b * t, 1f);
    float[] v = Numerics.uniform(2, b * t, 1f);
    float[][] white = runGae(r, v, m, b, t, GaeOptions.defaults());
    double[] mom = maskedMoments(white[0], m);
    assertEquals(0.0, mom[0], 1e-5, "mean");
    assertEquals(1.0, mom[1], 1e-5, "std");
    for (int i = 0; i < m.length; i++) {
      if (m[i] == 0) {
        assertEquals(0f, white[0][i], "padding " + i);
      }
    }
    double[][] want = referenceGae(r, v, m, b, t, 1f, 1f);
    Numerics.assertClose(toFloats(want[1]), white[1], 1e-6, 1e-6, "returns (from unwhitened advantages)");
  }

  /** shift_mean = false keeps the mean (rel. 1e-5) and still gives std 1 (1e-5). */
  @Test
  void noShiftKeepsTheMean() {
    int n = 1000;
    float[] x = Numerics.uniform(11, n, 3f);
    for (int i = 0; i < n; i++) {
      x[i] += 4f;
    }
    int[] m = new int[n];
    SplittableRandom rnd = new SplittableRandom(3);
    for (int i = 0; i < n; i++) {
      m[i] = rnd.nextInt(3) == 0 ? 0 : 1;
    }
    double[] before = maskedMoments(x, m);
    try (Tensor tx = cpu.fromFloats(x, 10, 100);
        Tensor tm = cpu.fromInts(m, 10, 100);
        Tensor out = cpu.zeros(DType.F32, 10, 100)) {
      Gae.WhitenStats stats = Gae.maskedWhiten(tx, tm, false, 1e-8f, out);
      assertEquals(before[0], stats.mean(), 1e-5 * Math.abs(before[0]));
      assertEquals(before[1], stats.std(), 1e-5 * before[1]);
      double[] after = maskedMoments(out.toFloatArray(), m);
      assertEquals(before[0], after[0], 1e-5 * Math.abs(before[0]), "mean kept");
      assertEquals(1.0, after[1], 1e-5, "std");
    }
  }

  /** Hand case: x = [1, 2, 3 | pad]: mean 2, unbiased var (1 + 0 + 1)/2 = 1, so [-1, 0, 1, 0]. */
  @Test
  void whitenHandComputedAndInPlace() {
    try (Tensor x = cpu.fromFloats(new float[] {1, 2, 3, 100}, 4);
        Tensor m = cpu.fromInts(new int[] {1, 1, 1, 0}, 4)) {
      Gae.WhitenStats s = Gae.maskedWhiten(x, m, true, 1e-8f, x);  // in place
      assertEquals(2f, s.mean(), 1e-7);
      assertEquals(1f, s.std(), 1e-7);
      Numerics.assertClose(new float[] {-1, 0, 1, 0}, x.toFloatArray(), 1e-7, 0, "in-place whiten");
    }
    try (Tensor x = cpu.fromFloats(new float[] {1, 2, 3, 100}, 4);
        Tensor m = cpu.fromInts(new int[] {1, 1, 1, 0}, 4);
        Tensor out = cpu.zeros(DType.F32, 4)) {
      Gae.maskedWhiten(x, m, false, 1e-8f, out);
      Numerics.assertClose(new float[] {1, 2, 3, 0}, out.toFloatArray(), 1e-6, 0, "no shift");
    }
  }

  /**
   * libtorch oracle: mean = sum(x m)/sum(m), var = sum((x - mean)^2 m)/(n - 1),
   * out = (x - mean) rsqrt(var + eps) m. Torch computes in float: atol 2e-5, rtol 1e-5.
   */
  @Test
  void whitenMatchesLibtorchMaskedMeanStd() {
    int b = 17;
    int t = 61;
    float eps = 1e-5f;
    float[] x = Numerics.uniform(21, b * t, 2.5f);
    int[] m = prefixMask(randomLengths(new SplittableRandom(22), b, t), t);
    float[] mf = new float[m.length];
    for (int i = 0; i < m.length; i++) {
      mf[i] = m[i];
    }
    float[] expected;
    float expMean;
    float expStd;
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor tx = Torch.tensor(x, b, t);
      org.bytedeco.pytorch.Tensor tm = Torch.tensor(mf, b, t);
      org.bytedeco.pytorch.Tensor n = tm.sum();
      org.bytedeco.pytorch.Tensor mean = tx.mul(tm).sum().div(n);
      org.bytedeco.pytorch.Tensor centered = tx.sub(mean);
      org.bytedeco.pytorch.Tensor var = centered.mul(centered).mul(tm).sum().div(n.sub(new Scalar(1.0)));
      org.bytedeco.pytorch.Tensor out = centered.mul(var.add(new Scalar(eps)).rsqrt()).mul(tm);
      expected = Torch.floats(out);
      expMean = mean.item_float();
      expStd = (float) Math.sqrt(var.item_double());
    }
    try (Tensor tx = cpu.fromFloats(x, b, t);
        Tensor tm = cpu.fromInts(m, b, t);
        Tensor out = cpu.zeros(DType.F32, b, t)) {
      Gae.WhitenStats s = Gae.maskedWhiten(tx, tm, true, eps, out);
      Numerics.assertClose(expected, out.toFloatArray(), 2e-5, 1e-5, "whitened vs libtorch");
      assertEquals(expMean, s.mean(), 2e-5, "mean vs libtorch");
      assertEquals(expStd, s.std(), 2e-5, "std vs libtorch");
    }
  }

  /** No valid token at all: GAE gives zeros, whitening gives zeros (not NaN), mean = std = 0. */
  @Test
  void emptyMaskGivesZerosNotNaN() {
    int b = 3;
    int t = 4;
    float[][] got = runGae(Numerics.uniform(1, b * t, 1f), Numerics.uniform(2, b * t, 1f), new int[b * t], b, t,
        GaeOptions.defaults());
    assertArrayEquals(new float[b * t], got[0]);
    assertArrayEquals(new float[b * t], got[1]);
    try (Tensor x = cpu.fromFloats(Numerics.uniform(3, b * t, 1f), b, t);
        Tensor m = cpu.zeros(DType.I32, b, t);
        Tensor out = cpu.zeros(DType.F32, b, t)) {
      for (boolean shift : new boolean[] {true, false}) {
        Gae.WhitenStats s = Gae.maskedWhiten(x, m, shift, 1e-8f, out);
        assertEquals(new Gae.WhitenStats(0f, 0f), s);
        assertArrayEquals(new float[b * t], out.toFloatArray());
      }
    }
  }

  /**
   * One valid token in the whole batch: the variance of one value is defined as 0, so whitening
   * with the shift gives 0 and without it gives the token back; no NaN or Inf, even with eps = 0.
   */
  @Test
  void singleValidTokenWhitensWithoutNaN() {
    int[] m = {0, 0, 0, 1, 0, 0};
    float[] r = {0, 0, 0, 2.5f, 0, 0};
    float[] v = {0, 0, 0, 0.5f, 0, 0};
    float[][] shifted = runGae(r, v, m, 2, 3, GaeOptions.defaults());
    assertArrayEquals(new float[6], shifted[0]);
    assertArrayEquals(new float[] {0, 0, 0, 2.5f, 0, 0}, shifted[1]);
    for (float eps : new float[] {1e-8f, 0f}) {
      float[][] kept = runGae(r, v, m, 2, 3, GaeOptions.builder().shiftMean(false).eps(eps).build());
      assertArrayEquals(new float[] {0, 0, 0, 2f, 0, 0}, kept[0], "eps " + eps);
      try (Tensor x = cpu.fromFloats(new float[] {0, 0, 0, 2f, 0, 0}, 2, 3);
          Tensor tm = cpu.fromInts(m, 2, 3)) {
        Gae.WhitenStats s = Gae.maskedWhiten(x, tm, true, eps, x);
        assertEquals(new Gae.WhitenStats(2f, 0f), s);
        assertArrayEquals(new float[6], x.toFloatArray());
      }
    }
  }

  // ---- bad arguments ------------------------------------------------------------------------------

  static void assertNames(String argument, Executable call) {
    FactRlException e = assertThrows(FactRlException.class, call);
    assertTrue(e.getMessage().contains("'" + argument + "'"), "message should name '" + argument + "': "
        + e.getMessage());
  }

  @Test
  void badArgumentsFromJavaNameTheArgument() {
    try (Tensor r = cpu.zeros(DType.F32, 2, 3);
        Tensor v = cpu.zeros(DType.F32, 2, 3);
        Tensor m = cpu.fromInts(new int[] {1, 1, 0, 1, 0, 0}, 2, 3);
        Tensor adv = cpu.zeros(DType.F32, 2, 3);
        Tensor ret = cpu.zeros(DType.F32, 2, 3);
        Tensor wrongShape = cpu.zeros(DType.F32, 2, 4);
        Tensor maskWrongShape = cpu.zeros(DType.I32, 3, 3);
        Tensor oneD = cpu.zeros(DType.F32, 6);
        Tensor intR = cpu.zeros(DType.I32, 2, 3);
        Tensor floatMask = cpu.zeros(DType.F32, 2, 3);
        Device other = Device.cpu();
        Tensor foreign = other.zeros(DType.F32, 2, 3)) {
      GaeOptions o = GaeOptions.defaults();
      assertNames("rewards", () -> Gae.compute(null, v, m, o, adv, ret));
      assertNames("values", () -> Gae.compute(r, null, m, o, adv, ret));
      assertNames("mask", () -> Gae.compute(r, v, null, o, adv, ret));
      assertNames("options", () -> Gae.compute(r, v, m, null, adv, ret));
      assertNames("advantages", () -> Gae.compute(r, v, m, o, null, ret));
      assertNames("returns", () -> Gae.compute(r, v, m, o, adv, null));
      assertNames("values", () -> Gae.compute(r, wrongShape, m, o, adv, ret));
      assertNames("mask", () -> Gae.compute(r, v, maskWrongShape, o, adv, ret));
      assertNames("returns", () -> Gae.compute(r, v, m, o, adv, wrongShape));
      assertNames("rewards", () -> Gae.compute(oneD, v, m, o, adv, ret));
      assertNames("rewards", () -> Gae.compute(intR, v, m, o, adv, ret));
      assertNames("mask", () -> Gae.compute(r, v, floatMask, o, adv, ret));
      assertNames("values", () -> Gae.compute(r, foreign, m, o, adv, ret));
      assertNames("advantages", () -> Gae.compute(r, v, m, o, foreign, ret));
      assertNames("advantages", () -> Gae.compute(r, v, m, o, adv, adv));
      assertNames("advantages", () -> Gae.compute(r, v, m, o, r, ret));
      assertNames("returns", () -> Gae.compute(r, v, m, o, adv, v));
      assertNames("x", () -> Gae.maskedWhiten(null, m, true, 1e-8f, adv));
      assertNames("mask", () -> Gae.maskedWhiten(r, maskWrongShape, true, 1e-8f, adv));
      assertNames("mask", () -> Gae.maskedWhiten(r, floatMask, true, 1e-8f, adv));
      assertNames("out", () -> Gae.maskedWhiten(r, m, true, 1e-8f, foreign));
      assertNames("eps", () -> Gae.maskedWhiten(r, m, true, -1f, adv));
      assertNames("eps", () -> Gae.maskedWhiten(r, m, true, Float.NaN, adv));
    }
  }

  @Test
  void gammaAndLambdaOutOfRangeAreRejected() {
    for (float bad : new float[] {Float.NaN, -0.1f, 1.01f, Float.POSITIVE_INFINITY}) {
      assertNames("gamma", () -> GaeOptions.builder().gamma(bad).build());
      assertNames("lambda", () -> GaeOptions.builder().lambda(bad).build());
    }
    assertNames("eps", () -> GaeOptions.builder().eps(-1e-8f).build());
    GaeOptions edge = GaeOptions.builder().gamma(0f).lambda(1f).build();
    assertEquals(edge, edge.toBuilder().build());
  }

  /** Non-prefix masks are rejected naming 'mask' and the row: a 1 after a 0, and a value 2. */
  @Test
  void nonPrefixMaskIsRejectedNamingTheRow() {
    try (Tensor r = cpu.zeros(DType.F32, 3, 4);
        Tensor v = cpu.zeros(DType.F32, 3, 4);
        Tensor hole = cpu.fromInts(new int[] {1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 0}, 3, 4);
        Tensor two = cpu.fromInts(new int[] {1, 1, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0}, 3, 4);
        Tensor adv = cpu.zeros(DType.F32, 3, 4);
        Tensor ret = cpu.zeros(DType.F32, 3, 4)) {
      FactRlException e = assertThrows(FactRlException.class,
          () -> Gae.compute(r, v, hole, GaeOptions.defaults(), adv, ret));
      assertTrue(e.getMessage().contains("'mask'") && e.getMessage().contains("row 2"), e.getMessage());
      assertEquals(FactRlException.Status.ARGUMENT, e.status());
      FactRlException e2 = assertThrows(FactRlException.class,
          () -> Gae.compute(r, v, two, GaeOptions.defaults(), adv, ret));
      assertTrue(e2.getMessage().contains("'mask'") && e2.getMessage().contains("row 1"), e2.getMessage());
    }
  }

  /** The native checks, reached directly through the binding (bypassing the Java checks). */
  @Test
  void nativeChecksNameTheArgument() {
    try (Tensor r = cpu.zeros(DType.F32, 2, 3);
        Tensor v = cpu.zeros(DType.F32, 2, 3);
        Tensor m = cpu.fromInts(new int[] {1, 1, 0, 1, 0, 0}, 2, 3);
        Tensor adv = cpu.zeros(DType.F32, 2, 3);
        Tensor ret = cpu.zeros(DType.F32, 2, 3);
        Tensor wrongShape = cpu.zeros(DType.F32, 3, 2);
        Tensor bf16 = cpu.zeros(DType.BF16, 2, 3);
        Tensor badMask = cpu.fromInts(new int[] {0, 1, 0, 1, 0, 0}, 2, 3);
        Device other = Device.cpu();
        Tensor foreign = other.zeros(DType.F32, 2, 3)) {
      FactRlCore.frl_ctx ctx = cpu.handle();
      assertNames("ctx", () -> Native.check(GaeNative.frl_gae(null, r.handle(), v.handle(), m.handle(), 1f, 1f,
          adv.handle(), ret.handle())));
      assertNames("rewards", () -> Native.check(GaeNative.frl_gae(ctx, null, v.handle(), m.handle(), 1f, 1f,
          adv.handle(), ret.handle())));
      assertNames("values", () -> Native.check(GaeNative.frl_gae(ctx, r.handle(), wrongShape.handle(), m.handle(),
          1f, 1f, adv.handle(), ret.handle())));
      assertNames("rewards", () -> Native.check(GaeNative.frl_gae(ctx, bf16.handle(), v.handle(), m.handle(), 1f,
          1f, adv.handle(), ret.handle())));
      assertNames("mask", () -> Native.check(GaeNative.frl_gae(ctx, r.handle(), v.handle(), v.handle(), 1f, 1f,
          adv.handle(), ret.handle())));
      assertNames("returns", () -> Native.check(GaeNative.frl_gae(ctx, r.handle(), v.handle(), m.handle(), 1f, 1f,
          adv.handle(), foreign.handle())));
      assertNames("advantages", () -> Native.check(GaeNative.frl_gae(ctx, r.handle(), v.handle(), m.handle(), 1f,
          1f, ret.handle(), ret.handle())));
      for (float bad : new float[] {Float.NaN, -1f, 1.5f}) {
        assertNames("gamma", () -> Native.check(GaeNative.frl_gae(ctx, r.handle(), v.handle(), m.handle(), bad, 1f,
            adv.handle(), ret.handle())));
        assertNames("lambda", () -> Native.check(GaeNative.frl_gae(ctx, r.handle(), v.handle(), m.handle(), 1f,
            bad, adv.handle(), ret.handle())));
      }
      FactRlException e = assertThrows(FactRlException.class, () -> Native.check(GaeNative.frl_gae(ctx,
          r.handle(), v.handle(), badMask.handle(), 1f, 1f, adv.handle(), ret.handle())));
      assertTrue(e.getMessage().startsWith("frl_gae: ") && e.getMessage().contains("row 0"), e.getMessage());
      try (FloatPointer mean = new FloatPointer(1)) {
        assertNames("x", () -> Native.check(GaeNative.frl_masked_whiten(ctx, null, m.handle(), 1, 1e-8f,
            adv.handle(), mean, null)));
        assertNames("out", () -> Native.check(GaeNative.frl_masked_whiten(ctx, r.handle(), m.handle(), 1, 1e-8f,
            wrongShape.handle(), mean, null)));
        assertNames("eps", () -> Native.check(GaeNative.frl_masked_whiten(ctx, r.handle(), m.handle(), 1, -1f,
            adv.handle(), mean, null)));
        assertNames("mask", () -> Native.check(GaeNative.frl_masked_whiten(ctx, r.handle(), foreign.handle(), 1,
            1e-8f, adv.handle(), mean, null)));
      }
    }
  }
}

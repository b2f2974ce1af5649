package org.factrl.kernels;

import static org.factrl.testing.Numerics.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.kernels.TokenLogProbs.Outputs;
import org.factrl.kernels.TokenLogProbs.Quantity;
import org.factrl.testing.Numerics;
import org.factrl.testing.Torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * CPU reference of {@link TokenLogProbs} against libtorch (log_softmax + gather, softmax-weighted
 * sums, autograd), a hand-computed case, and edge cases.
 *
 * <p>Tolerances (fp32, logits of magnitude ≤ 8): forward outputs atol 3e-5 + rtol 1e-4 (the
 * reductions run over V ≤ 3001 terms whose rounding error is ~1e-6 each relative to the row sum);
 * gradients atol 2e-6 + rtol 1e-4 (softmax entries are ~1/V).
 */
class TokenLogProbsTest {
  static final double ATOL = 3e-5, RTOL = 1e-4;
  static final double GRAD_ATOL = 2e-6, GRAD_RTOL = 1e-4;

  static Device cpu;

  @BeforeAll
  static void open() {
    cpu = Device.cpu();
  }

  @AfterAll
  static void close() {
    assertEquals(0, cpu.bytesInUse(), "a test leaked tensors");
    cpu.close();
  }

  /** Logits with a ramp (so the running max grows across chunks), noise, and a per-row offset. */
  static float[] logits(long seed, int rows, int vocab, float scale) {
    float[] noise = Numerics.uniform(seed, rows * vocab, scale);
    SplittableRandom r = new SplittableRandom(seed + 1);
    for (int t = 0; t < rows; t++) {
      float offset = (float) (r.nextDouble() * 20 - 10);
      boolean ramp = (t % 2) == 0;
      for (int v = 0; v < vocab; v++) {
        noise[t * vocab + v] += offset + (ramp ? 4.0f * v / vocab : 0.0f);
      }
    }
    return noise;
  }

  static int[] actions(long seed, int rows, int vocab) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] a = new int[rows];
    for (int t = 0; t < rows; t++) {
      a[t] = t == 0 ? vocab - 1 : r.nextInt(vocab);  // the last token is the tail of the row
    }
    return a;
  }

  static int[] mask(long seed, int rows) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] m = new int[rows];
    for (int t = 0; t < rows; t++) {
      m[t] = (t == 0 || r.nextInt(4) != 0) ? 1 : 0;  // ~25% masked, row 0 always valid
    }
    return m;
  }

  /** torch's values of every quantity, masked rows 0: [LOGP_POLICY, LOGP_REF, K1, K3, FULL, ENTROPY, LSE]. */
  static float[][] torchForward(float[] zp, float[] zr, int[] a, int[] m, int rows, int vocab) {
    float[][] out = new float[7][rows];
    try (PointerScope s = new PointerScope()) {
      org.bytedeco.pytorch.Tensor p = Torch.tensor(zp, rows, vocab);
      org.bytedeco.pytorch.Tensor r = Torch.tensor(zr, rows, vocab);
      long[] idx = new long[rows];
      for (int t = 0; t < rows; t++) {
        idx[t] = a[t];
      }
      org.bytedeco.pytorch.Tensor index = Torch.longTensor(idx, rows, 1);
      org.bytedeco.pytorch.Tensor lsp = p.log_softmax(1);
      org.bytedeco.pytorch.Tensor lsr = r.log_softmax(1);
      float[] gp = Torch.floats(lsp.gather(1, index));
      float[] gr = Torch.floats(lsr.gather(1, index));
      org.bytedeco.pytorch.Tensor sp = p.softmax(1);
      float[] full = Torch.floats(sp.mul(lsp.sub(lsr)).sum(1));
      float[] ent = Torch.floats(sp.mul(lsp).sum(1).neg());
      float[] lse = Torch.floats(p.sub(lsp).select(1, 0));  // z - log_softmax(z) = lse
      for (int t = 0; t < rows; t++) {
        if (m[t] == 0) {
          continue;
        }
        double k1 = (double) gp[t] - gr[t];
        out[0][t] = gp[t];
        out[1][t] = gr[t];
        out[2][t] = (float) k1;
        out[3][t] = (float) (Math.exp(-k1) - 1 + k1);
        out[4][t] = full[t];
        out[5][t] = ent[t];
        out[6][t] = lse[t];
      }
    }
    return out;
  }

  static float[][] ours(Device dev, float[] zp, float[] zr, int[] a, int[] m, int rows, int vocab) {
    try (Tensor p = dev.fromFloats(zp, rows, vocab);
        Tensor r = dev.fromFloats(zr, rows, vocab);
        Tensor at = dev.fromInts(a, rows);
        Tensor mt = dev.fromInts(m, rows);
        Outputs out = TokenLogProbs.compute(p, r, at, mt, EnumSet.allOf(Quantity.class))) {
      float[][] res = new float[7][];
      for (Quantity q : Quantity.values()) {
        res[q.ordinal()] = out.floats(q);
      }
      return res;
    }
  }

  @ParameterizedTest(name = "T={0} V={1} scale={2}")
  @CsvSource({"1, 1, 1", "1, 7, 3", "5, 33, 2", "3, 255, 8", "17, 257, 4", "9, 1000, 4", "4, 3001, 6", "2, 513, 1"})
  void forwardMatchesTorch(int rows, int vocab, float scale) {
    long seed = 1000L * rows + vocab;
    float[] zp = logits(seed, rows, vocab, scale);
    float[] zr = logits(seed + 7, rows, vocab, scale);
    int[] a = actions(seed + 3, rows, vocab);
    int[] m = mask(seed + 5, rows);
    float[][] want = torchForward(zp, zr, a, m, rows, vocab);
    float[][] got = ours(cpu, zp, zr, a, m, rows, vocab);
    for (Quantity q : Quantity.values()) {
      // lse itself is ~10 in magnitude: relative tolerance dominates there
      assertClose(want[q.ordinal()], got[q.ordinal()], ATOL, RTOL, q + " T=" + rows + " V=" + vocab);
    }
  }

  @Test
  void policyOnlyGivesLogpAndEntropyWithoutAReference() {
    int rows = 6, vocab = 301;
    float[] zp = logits(11, rows, vocab, 3);
    int[] a = actions(12, rows, vocab);
    int[] m = {1, 1, 0, 1, 1, 1};
    float[][] want = torchForward(zp, zp, a, m, rows, vocab);
    try (Tensor p = cpu.fromFloats(zp, rows, vocab);
        Tensor at = cpu.fromInts(a, rows);
        Tensor mt = cpu.fromInts(m, rows);
        Outputs out = TokenLogProbs.compute(p, null, at, mt, Quantity.LOGP_POLICY, Quantity.ENTROPY)) {
      assertClose(want[0], out.floats(Quantity.LOGP_POLICY), ATOL, RTOL, "logp");
      assertClose(want[5], out.floats(Quantity.ENTROPY), ATOL, RTOL, "entropy");
    }
    // a null mask means every row is valid
    try (Tensor p = cpu.fromFloats(zp, rows, vocab);
        Tensor at = cpu.fromInts(a, rows);
        Outputs out = TokenLogProbs.compute(p, null, at, null, Quantity.LOGP_POLICY)) {
      float[][] all = torchForward(zp, zp, a, new int[] {1, 1, 1, 1, 1, 1}, rows, vocab);
      assertClose(all[0], out.floats(Quantity.LOGP_POLICY), ATOL, RTOL, "logp, no mask");
    }
  }

  @Test
  void handComputedSmallCase() {
    // zp = [1, 2, 3], zr = [0, 0, 0], a = 0:  lse(zp) = 3 + log(1 + e^-1 + e^-2) = 3.4076059644,
    // logp_p = 1 - lse = -2.4076059644, logp_r = -log 3 = -1.0986122887, k1 = -1.3089936758,
    // k3 = e^{1.3089936758} - 1 - 1.3089936758 = 1.3934523000, p = softmax(zp) = [.0900306, .2447285, .6652410],
    // H = -Σ p log p = 0.8323955818, KL(p||uniform) = log 3 - H = 0.2662167068.
    try (Tensor p = cpu.fromFloats(new float[] {1, 2, 3}, 1, 3);
        Tensor r = cpu.fromFloats(new float[] {0, 0, 0}, 1, 3);
        Tensor at = cpu.fromInts(new int[] {0}, 1);
        Tensor mt = cpu.fromInts(new int[] {1}, 1);
        Outputs out = TokenLogProbs.compute(p, r, at, mt, EnumSet.allOf(Quantity.class))) {
      double tol = 2e-6;
      assertEquals(-2.4076059644, out.floats(Quantity.LOGP_POLICY)[0], tol);
      assertEquals(-1.0986122887, out.floats(Quantity.LOGP_REF)[0], tol);
      assertEquals(-1.3089936758, out.floats(Quantity.KL_K1)[0], tol);
      assertEquals(1.3934523000, out.floats(Quantity.KL_K3)[0], tol);
      assertEquals(0.2662167068, out.floats(Quantity.KL_FULL)[0], tol);
      assertEquals(0.8323955818, out.floats(Quantity.ENTROPY)[0], tol);
      assertEquals(3.4076059644, out.floats(Quantity.LSE_POLICY)[0], tol);
      // backward with g = 2: dz = 2 (onehot(0) - p) = [1.8199389, -0.4894569, -1.3304819]
      try (Tensor g = cpu.fromFloats(new float[] {2}, 1);
          Tensor dz = cpu.zeros(DType.F32, 1, 3)) {
        TokenLogProbs.backward(p, at, mt, g, null, dz, GradMode.OVERWRITE);
        assertClose(new float[] {1.8199389f, -0.4894569f, -1.3304819f}, dz.toFloatArray(), 1e-6, 0, "dz");
      }
    }
  }

  @ParameterizedTest(name = "T={0} V={1} lse={2}")
  @CsvSource({"1, 1, false", "3, 5, true", "7, 130, false", "5, 1001, true", "4, 2049, false"})
  void backwardMatchesTorchAutograd(int rows, int vocab, boolean passLse) {
    long seed = 77L * rows + vocab;
    float[] zp = logits(seed, rows, vocab, 3);
    int[] a = actions(seed + 1, rows, vocab);
    int[] m = mask(seed + 2, rows);
    float[] g = Numerics.uniform(seed + 3, rows, 2);
    float[] want;
    try (PointerScope s = new PointerScope()) {
      org.bytedeco.pytorch.Tensor p = Torch.tensor(zp, true, rows, vocab);
      long[] idx = new long[rows];
      float[] gm = new float[rows];
      for (int t = 0; t < rows; t++) {
        idx[t] = a[t];
        gm[t] = m[t] != 0 ? g[t] : 0;
      }
      org.bytedeco.pytorch.Tensor logp = p.log_softmax(1).gather(1, Torch.longTensor(idx, rows, 1)).squeeze(1);
      logp.mul(Torch.tensor(gm, rows)).sum().backward();
      want = Torch.floats(p.grad());
    }
    float[] prefill = Numerics.uniform(seed + 4, rows * vocab, 1);
    try (Tensor p = cpu.fromFloats(zp, rows, vocab);
        Tensor at = cpu.fromInts(a, rows);
        Tensor mt = cpu.fromInts(m, rows);
        Tensor gt = cpu.fromFloats(g, rows);
        Outputs fwd = TokenLogProbs.compute(p, null, at, mt, Quantity.LSE_POLICY);
        Tensor dz = cpu.fromFloats(prefill, rows, vocab)) {
      Tensor lse = passLse ? fwd.get(Quantity.LSE_POLICY) : null;
      TokenLogProbs.backward(p, at, mt, gt, lse, dz, GradMode.OVERWRITE);
      assertClose(want, dz.toFloatArray(), GRAD_ATOL, GRAD_RTOL, "dlogits (overwrite)");
      // accumulate: prefill + grad on valid rows, prefill untouched on masked rows
      dz.write(prefill);
      TokenLogProbs.backward(p, at, mt, gt, lse, dz, GradMode.ACCUMULATE);
      float[] expect = new float[rows * vocab];
      for (int i = 0; i < expect.length; i++) {
        expect[i] = prefill[i] + want[i];
      }
      assertClose(expect, dz.toFloatArray(), GRAD_ATOL, GRAD_RTOL, "dlogits (accumulate)");
    }
  }

  @Test
  void emptyMaskGivesZerosEverywhereAndNeverReadsActions() {
    int rows = 4, vocab = 9;
    float[] zp = logits(5, rows, vocab, 2);
    int[] bad = {-3, vocab, 1000, Integer.MIN_VALUE};  // masked rows: never checked
    float[] sevens = new float[rows];
    java.util.Arrays.fill(sevens, 7f);
    try (Tensor p = cpu.fromFloats(zp, rows, vocab);
        Tensor r = cpu.fromFloats(logits(6, rows, vocab, 2), rows, vocab);
        Tensor at = cpu.fromInts(bad, rows);
        Tensor mt = cpu.zeros(DType.I32, rows);
        Outputs out = Outputs.allocate(cpu, rows, EnumSet.allOf(Quantity.class))) {
      for (Quantity q : Quantity.values()) {
        out.get(q).write(sevens);  // prove the kernel overwrites
      }
      TokenLogProbs.computeInto(p, r, at, mt, out);
      for (Quantity q : Quantity.values()) {
        assertArrayEquals(new float[rows], out.floats(q), q.toString());
      }
      float[] fives = new float[rows * vocab];
      java.util.Arrays.fill(fives, 5f);
      try (Tensor g = cpu.fromFloats(new float[] {1, 2, 3, 4}, rows);
          Tensor dz = cpu.fromFloats(fives, rows, vocab)) {
        TokenLogProbs.backward(p, at, mt, g, null, dz, GradMode.ACCUMULATE);
        assertArrayEquals(fives, dz.toFloatArray(), "accumulate leaves masked rows untouched");
        TokenLogProbs.backward(p, at, mt, g, null, dz, GradMode.OVERWRITE);
        assertArrayEquals(new float[rows * vocab], dz.toFloatArray(), "overwrite zeroes masked rows");
      }
    }
  }

  /** Double-precision reference of one row: [logp_p, logp_r, k1, k3, full, entropy]. */
  static double[] exact(double[] zp, double[] zr, int a) {
    double mp = Double.NEGATIVE_INFINITY, mr = Double.NEGATIVE_INFINITY;
    for (int v = 0; v < zp.length; v++) {
      mp = Math.max(mp, zp[v]);
      mr = Math.max(mr, zr[v]);
    }
    double sp = 0, sr = 0;
    for (int v = 0; v < zp.length; v++) {
      sp += Math.exp(zp[v] - mp);
      sr += Math.exp(zr[v] - mr);
    }
    double full = 0, ent = 0;
    for (int v = 0; v < zp.length; v++) {
      double lp = (zp[v] - mp) - Math.log(sp), lr = (zr[v] - mr) - Math.log(sr);
      double p = Math.exp(lp);
      if (p > 0) {
        full += p * (lp - lr);
        ent -= p * lp;
      }
    }
    double lpa = (zp[a] - mp) - Math.log(sp), lra = (zr[a] - mr) - Math.log(sr), k1 = lpa - lra;
    return new double[] {lpa, lra, k1, Math.expm1(-k1) + k1, full, ent};
  }

  @Test
  void hugeLogitsStayFiniteAndCorrect() {
    // Row 0: ±1e4 (naive exp overflows); row 1: ~1e30 values (naive lse loses the O(1) part: zp[a] - lse
    // must be computed as (zp[a] - max) - log s); row 2: ±3e38 near FLT_MAX (zp - zr overflows to
    // -inf if not taken relative to the maxima).
    float[] zp = {1e4f, 1e4f - 1, -1e4f, 1e4f - 2, 1e30f, 1e30f, -1e30f, 0f, 3e38f, 3e38f, 0f, -3e38f};
    float[] zr = {1e4f - 0.5f, 1e4f, 1e4f - 3, -1e4f, 3e38f, 3e38f, 3e38f, 3e38f, 3e38f, 3e38f, -3e38f, 3e38f};
    int[] a = {1, 0, 1};
    int rows = 3, vocab = 4;
    float[][] got = ours(cpu, zp, zr, a, new int[] {1, 1, 1}, rows, vocab);
    String[] names = {"logp_p", "logp_r", "k1", "k3", "full", "entropy"};
    for (int t = 0; t < rows; t++) {
      double[] p = new double[vocab], r = new double[vocab];
      for (int v = 0; v < vocab; v++) {
        p[v] = zp[t * vocab + v];
        r[v] = zr[t * vocab + v];
      }
      double[] want = exact(p, r, a[t]);
      for (int k = 0; k < 6; k++) {
        float value = got[k][t];
        assertTrue(Float.isFinite(value), names[k] + " row " + t + " is " + value);
        assertEquals(want[k], value, 1e-5 + 1e-5 * Math.abs(want[k]), names[k] + " row " + t);
      }
    }
    // hand check of row 1: p = [1/2, 1/2, 0, 0], r uniform over 4: logp_p = -log 2, logp_r = -log 4,
    // k1 = log 2, KL = log 2, H = log 2
    assertEquals(-Math.log(2), got[0][1], 1e-6);
    assertEquals(Math.log(2), got[4][1], 1e-6);
    // row 2: p = [1/2, 1/2, 0, 0], r = [1/3, 1/3, 0, 1/3]: KL = log(3/2), H = log 2
    assertEquals(Math.log(1.5), got[4][2], 1e-6);
    assertEquals(Math.log(2), got[5][2], 1e-6);

    // the gradient at huge logits, recomputing lse (exact): row 1 has p = [1/2, 1/2, 0, 0], a = 0
    try (Tensor pt = cpu.fromFloats(zp, rows, vocab);
        Tensor at = cpu.fromInts(a, rows);
        Tensor g = cpu.fromFloats(new float[] {1, 1, 1}, rows);
        Tensor dz = cpu.zeros(DType.F32, rows, vocab)) {
      TokenLogProbs.backward(pt, at, null, g, null, dz, GradMode.OVERWRITE);
      float[] d = dz.toFloatArray();
      for (float x : d) {
        assertTrue(Float.isFinite(x), "gradient " + java.util.Arrays.toString(d));
      }
      assertClose(new float[] {0.5f, -0.5f, 0, 0}, java.util.Arrays.copyOfRange(d, 4, 8), 1e-6, 0, "row 1 grad");
      assertClose(new float[] {-0.5f, 0.5f, 0, 0}, java.util.Arrays.copyOfRange(d, 8, 12), 1e-6, 0, "row 2 grad");
    }
  }

  @Test
  void identicalPolicyAndReferenceGiveZeroKl() {
    int rows = 5, vocab = 1537;  // 3 chunks of 512 + 1
    float[] z = logits(31, rows, vocab, 7);
    int[] a = actions(32, rows, vocab);
    float[][] got = ours(cpu, z, z, a, new int[] {1, 1, 1, 1, 1}, rows, vocab);
    for (int t = 0; t < rows; t++) {
      assertEquals(0f, got[2][t], 0f, "k1 is exactly 0");
      assertEquals(0f, got[3][t], 0f, "k3 is exactly 0");
      assertEquals(0f, got[4][t], 1e-6f, "full KL ~ 0");
      assertEquals(got[0][t], got[1][t], 0f, "logp_p == logp_r");
    }
  }

  @Test
  void negativeInfinityLogitsAreBannedTokens() {
    float ninf = Float.NEGATIVE_INFINITY;
    float[] zp = {ninf, 0f, 0f, ninf, ninf};
    float[] zr = {0f, 0f, 0f, 0f, ninf};  // reference has mass everywhere the policy has
    float[][] got = ours(cpu, zp, zr, new int[] {1}, new int[] {1}, 1, 5);
    assertEquals(-Math.log(2), got[0][0], 1e-6, "logp_p");
    assertEquals(-Math.log(4), got[1][0], 1e-6, "logp_r");
    assertEquals(Math.log(2), got[4][0], 1e-6, "full KL = log 2");
    assertEquals(Math.log(2), got[5][0], 1e-6, "entropy = log 2");

    // a reference that bans tokens the policy uses: KL = +inf; here the whole first CPU chunk (512)
    // of the reference is -inf, the policy uniform over 600
    int vocab = 600;
    float[] p2 = new float[vocab];
    float[] r2 = new float[vocab];
    java.util.Arrays.fill(r2, 0, 512, ninf);
    float[][] banned = ours(cpu, p2, r2, new int[] {599}, new int[] {1}, 1, vocab);
    assertEquals(-Math.log(600), banned[0][0], 1e-5, "logp_p");
    assertEquals(-Math.log(88), banned[1][0], 1e-5, "logp_r");
    assertEquals(Float.POSITIVE_INFINITY, banned[4][0], "full KL");
    assertEquals(Math.log(600), banned[5][0], 1e-5, "entropy");
  }

  @Test
  void emptyBatchIsANoOp() {
    try (Tensor p = cpu.zeros(DType.F32, 0, 5);
        Tensor at = cpu.zeros(DType.I32, 0);
        Outputs out = TokenLogProbs.compute(p, p, at, null, Quantity.KL_K1)) {
      assertEquals(0, out.floats(Quantity.KL_K1).length);
    }
  }
}

package org.factrl.layers;

import static org.factrl.layers.AttentionTest.assertNativeNames;
import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.plus;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.global.torch;
import org.factrl.bindings.AttentionNative;
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
 * Masked attention (per-row key lengths and query offsets, queries and keys of different lengths):
 * the CPU kernels vs libtorch autograd with an explicit boolean mask (float64 from the same fp32
 * inputs), rows that see no key, KV-cache decoding vs the full causal forward, right-padded prefill
 * vs each row alone, the unmasked special case, accumulate, and argument checks.
 *
 * <p>Tolerances (our fp32 vs the float64 oracle; inputs uniform in [-1, 1), Sk up to 150, D up to
 * 20): out, lse, dq, dk, dv atol 2e-6 + rtol 1e-5, as {@link AttentionTest}. The decode, prefill and
 * unmasked comparisons are bitwise: the masked kernels visit the same key blocks with the same sums
 * per element, and what a mask adds is exact (a masked score's exp is 0, and x + 0 = x, x · 1 = x).
 *
 * <p>Keys at or past a row's length are set to NaN in our inputs (the oracle gets finite values
 * there): a KV cache may hold anything past its filled part, and the kernels must never read it.
 */
class AttentionMaskedTest {

  private static final double ATOL = 2e-6;
  private static final double RTOL = 1e-5;
  private static final String[] NAMES = {"out", "lse", "dq", "dk", "dv"};

  /** One random masked case and, once computed, the oracle's {out, lse, dq, dk, dv}. */
  private static final class Case {
    final int b, sq, sk, h, d;
    final boolean causal;
    final float scale;
    final int[] lengths;  // null: every row Sk
    final int[] offsets;  // null: every row 0
    final float[] q, k, v, dout;

    Case(long seed, int b, int sq, int sk, int h, int d, boolean causal, int[] lengths, int[] offsets) {
      this.b = b;
      this.sq = sq;
      this.sk = sk;
      this.h = h;
      this.d = d;
      this.causal = causal;
      this.scale = (float) (1.0 / Math.sqrt(d));
      this.lengths = lengths;
      this.offsets = offsets;
      q = uniform(seed, b * sq * h * d, 1f);
      k = uniform(seed + 1, b * sk * h * d, 1f);
      v = uniform(seed + 2, b * sk * h * d, 1f);
      dout = uniform(seed + 3, b * sq * h * d, 1f);
    }

    int length(int row) {
      return lengths == null ? sk : lengths[row];
    }

    int offset(int row) {
      return offsets == null ? 0 : offsets[row];
    }

    /** Whether query i of row r sees key j: j < L_r and (not causal or j <= off_r + i). */
    boolean visible(int r, int i, int j) {
      return j < length(r) && (!causal || j <= offset(r) + i);
    }

    boolean seesAKey(int r, int i) {
      return visible(r, i, 0);
    }

    /** A copy of keys or values with every key at or past its row's length set to NaN. */
    float[] poisoned(float[] x) {
      float[] y = x.clone();
      for (int r = 0; r < b; r++) {
        Arrays.fill(y, (r * sk + length(r)) * h * d, (r + 1) * sk * h * d, Float.NaN);
      }
      return y;
    }

    Attention layer() {
      return Attention.of(causal, scale);
    }

    /**
     * libtorch, float64: scores [B, H, Sq, Sk] = (q kᵀ)·scale, masked_fill(−inf) where the explicit
     * boolean mask hides a key; out = softmax(scores) v, lse = logsumexp(scores); gradients by
     * autograd of Σ out ∘ dout. A row that sees no key is left unmasked in the oracle (softmax of an
     * all −inf row is NaN) and its output multiplied by 0: out 0 and no gradient through it; its lse
     * is set to −inf afterwards.
     */
    float[][] oracle() {
      float[] hide = new float[b * sq * sk];
      float[] seen = new float[b * sq];
      for (int r = 0; r < b; r++) {
        for (int i = 0; i < sq; i++) {
          seen[r * sq + i] = seesAKey(r, i) ? 1f : 0f;
          for (int j = 0; j < sk; j++) {
            hide[(r * sq + i) * sk + j] = seesAKey(r, i) && !visible(r, i, j) ? 1f : 0f;
          }
        }
      }
      try (PointerScope scope = new PointerScope()) {
        org.bytedeco.pytorch.Tensor qt = leaf(q, sq);
        org.bytedeco.pytorch.Tensor kt = leaf(k, sk);
        org.bytedeco.pytorch.Tensor vt = leaf(v, sk);
        org.bytedeco.pytorch.Tensor scores =
            torch.matmul(heads(qt), heads(kt).transpose(-2, -1)).mul(new Scalar((double) scale));
        org.bytedeco.pytorch.Tensor mask = Torch.tensor(hide, b, 1, sq, sk).to(torch.ScalarType.Bool);
        scores = scores.masked_fill(mask, new Scalar(Double.NEGATIVE_INFINITY));
        org.bytedeco.pytorch.Tensor rowSeen = Torch.tensor(seen, b, 1, sq, 1).to(torch.ScalarType.Double);
        org.bytedeco.pytorch.Tensor o =
            torch.matmul(torch.softmax(scores, -1), heads(vt)).mul(rowSeen).permute(0, 2, 1, 3);
        float[] out = Torch.floats(o);
        float[] lse = Torch.floats(torch.logsumexp(scores, new long[] {-1}, false));  // [B, H, Sq]
        for (int r = 0; r < b; r++) {
          for (int hh = 0; hh < h; hh++) {
            for (int i = 0; i < sq; i++) {
              if (!seesAKey(r, i)) {
                lse[(r * h + hh) * sq + i] = Float.NEGATIVE_INFINITY;
              }
            }
          }
        }
        o.mul(Torch.tensor(dout, b, sq, h, d).to(torch.ScalarType.Double)).sum().backward();
        return new float[][] {out, lse, Torch.floats(qt.grad()), Torch.floats(kt.grad()), Torch.floats(vt.grad())};
      }
    }

    private org.bytedeco.pytorch.Tensor leaf(float[] x, int s) {
      return Torch.tensor(x, b, s, h, d).to(torch.ScalarType.Double).requires_grad_(true);
    }

    private static org.bytedeco.pytorch.Tensor heads(org.bytedeco.pytorch.Tensor x) {
      return x.permute(0, 2, 1, 3);
    }
  }

  private static int[] ints(String spec) {
    return spec.equals("-") ? null : Arrays.stream(spec.trim().split(" +")).mapToInt(Integer::parseInt).toArray();
  }

  private static Tensor maskOrNull(Device dev, int[] values) {
    return values == null ? null : dev.fromInts(values, values.length);
  }

  /** Prefilled gradient contents (G0 of the accumulate test). */
  private static float[][] prefill(Case c) {
    int nq = c.b * c.sq * c.h * c.d;
    int nk = c.b * c.sk * c.h * c.d;
    return new float[][] {uniform(97, nq, 5f), uniform(96, nk, 5f), uniform(95, nk, 5f)};
  }

  /** Our masked forward and backward (keys past L poisoned with NaN); returns {out, lse, dq, dk, dv}. */
  private static float[][] run(Device dev, Case c, GradMode mode) {
    float[][] g0 = prefill(c);
    long[] qShape = {c.b, c.sq, c.h, c.d};
    long[] kShape = {c.b, c.sk, c.h, c.d};
    try (Tensor q = dev.fromFloats(c.q, qShape);
        Tensor k = dev.fromFloats(c.poisoned(c.k), kShape);
        Tensor v = dev.fromFloats(c.poisoned(c.v), kShape);
        Tensor lengths = maskOrNull(dev, c.lengths);
        Tensor offsets = maskOrNull(dev, c.offsets);
        Tensor dout = dev.fromFloats(c.dout, qShape);
        Tensor out = dev.fromFloats(uniform(99, c.b * c.sq * c.h * c.d, 5f), qShape);
        Tensor lse = dev.fromFloats(uniform(98, c.b * c.h * c.sq, 5f), c.b, c.h, c.sq);
        Tensor dq = dev.fromFloats(g0[0], qShape);
        Tensor dk = dev.fromFloats(g0[1], kShape);
        Tensor dv = dev.fromFloats(g0[2], kShape)) {
      Attention attention = c.layer();
      attention.forward(q, k, v, lengths, offsets, out, lse);
      attention.backward(q, k, v, lengths, offsets, out, lse, dout, dq, dk, dv, mode);
      return new float[][] {
        out.toFloatArray(), lse.toFloatArray(), dq.toFloatArray(), dk.toFloatArray(), dv.toFloatArray()
      };
    }
  }

  @ParameterizedTest(name = "B={0} Sq={1} Sk={2} H={3} D={4} causal={5} L=[{6}] off=[{7}]")
  @CsvSource({
    "4,7,20,3,5,true,0 20 9 13,0 3 2 25",
    "4,7,20,3,5,false,0 20 9 13,0 3 2 25",
    "3,70,150,2,20,true,150 0 97,80 5 0",
    "3,70,150,2,20,false,150 0 97,-",
    "3,20,20,2,8,true,20 7 0,-",  // right-padded prefill with an empty row
    "2,1,40,2,16,true,31 1,30 0",  // one decode step per row on a cache of 40
    "2,3,40,1,4,true,-,5 37",      // offsets alone; the last row ends at Sk
    "2,5,9,2,3,true,9 4,7 20",     // offsets past the keys: no constraint, they see every key below L
    "1,6,4,1,1,false,-,-"          // Sq > Sk, nothing masked
  })
  void matchesTorchWithAnExplicitBooleanMask(int b, int sq, int sk, int h, int d, boolean causal, String lengths,
      String offsets) {
    Case c = new Case(1000L * sq + 10L * sk + d, b, sq, sk, h, d, causal, ints(lengths), ints(offsets));
    float[][] want = c.oracle();
    try (Device cpu = Device.cpu()) {
      float[][] ours = run(cpu, c, GradMode.OVERWRITE);
      for (int i = 0; i < NAMES.length; i++) {
        assertClose(want[i], ours[i], ATOL, RTOL, NAMES[i]);  // NaN anywhere fails here too
      }
    }
  }

  @Test
  void accumulateAddsToWhatTheOutputsHeldAndLeavesUnseenKeysAlone() {
    Case c = new Case(31, 3, 7, 20, 2, 5, true, new int[] {0, 20, 9}, new int[] {0, 3, 2});
    float[][] want = c.oracle();
    float[][] g0 = prefill(c);
    try (Device cpu = Device.cpu()) {
      float[][] ours = run(cpu, c, GradMode.ACCUMULATE);
      for (int i = 2; i < NAMES.length; i++) {  // |G0| <= 5: one more rounding of that size
        assertClose(plus(g0[i - 2], want[i]), ours[i], ATOL + 1e-6, RTOL, NAMES[i] + " = G0 + oracle");
      }
      // Row 0 (L = 0) and the keys past each row's causal reach: bitwise untouched.
      int keyRow = c.sk * c.h * c.d;
      assertArrayEquals(Arrays.copyOfRange(g0[1], 0, keyRow), Arrays.copyOfRange(ours[3], 0, keyRow), "dk of row 0");
      assertArrayEquals(Arrays.copyOfRange(g0[2], 2 * keyRow + 9 * c.h * c.d, 3 * keyRow),
          Arrays.copyOfRange(ours[4], 2 * keyRow + 9 * c.h * c.d, 3 * keyRow), "dv of row 2 past L = 9");
    }
  }

  @Test
  void rowsThatSeeNoKeyGiveZeroMinusInfinityAndNoGradient() {
    // Row 1 has no keys; its cache is all NaN. Row 0 is an ordinary causal prefill.
    Case c = new Case(41, 2, 5, 8, 2, 4, true, new int[] {8, 0}, null);
    try (Device cpu = Device.cpu()) {
      float[][] ours = run(cpu, c, GradMode.OVERWRITE);
      int queryRow = c.sq * c.h * c.d;
      int keyRow = c.sk * c.h * c.d;
      float[] zeroQueries = new float[queryRow];
      float[] zeroKeys = new float[keyRow];
      float[] minusInf = new float[c.h * c.sq];
      Arrays.fill(minusInf, Float.NEGATIVE_INFINITY);
      assertArrayEquals(zeroQueries, Arrays.copyOfRange(ours[0], queryRow, 2 * queryRow), "out of the empty row");
      assertArrayEquals(minusInf, Arrays.copyOfRange(ours[1], c.h * c.sq, 2 * c.h * c.sq), "lse of the empty row");
      assertArrayEquals(zeroQueries, Arrays.copyOfRange(ours[2], queryRow, 2 * queryRow), "dq of the empty row");
      assertArrayEquals(zeroKeys, Arrays.copyOfRange(ours[3], keyRow, 2 * keyRow), "dk of the empty row");
      assertArrayEquals(zeroKeys, Arrays.copyOfRange(ours[4], keyRow, 2 * keyRow), "dv of the empty row");
      for (int i = 0; i < NAMES.length; i++) {
        for (float x : ours[i]) {
          assertTrue(!Float.isNaN(x), NAMES[i] + " has a NaN");
        }
      }
      // Row 0 keys 5..7 come after every causal query (off 0, Sq 5): zero gradient.
      assertArrayEquals(new float[3 * c.h * c.d], Arrays.copyOfRange(ours[3], 5 * c.h * c.d, keyRow), "dk past the queries");
    }
  }

  /**
   * Decoding with a KV cache: one token (then three) at a time, the cache [B, Smax, H, D] filled up
   * to the current position and NaN beyond, offsets = tokens already cached, lengths = offset + Sq.
   * Every step's out and lse must be bitwise those of the full causal forward over the sequence.
   * 150 tokens: three key blocks of 64, the last partial; three-token steps cross block edges.
   */
  @ParameterizedTest(name = "{0} new token(s) per step")
  @CsvSource({"1", "3"})
  void decodingWithAGrowingCacheGivesTheBitsOfTheFullCausalForward(int step) {
    int b = 2;
    int s = 150;
    int smax = 160;
    int h = 2;
    int d = 16;
    Attention attention = Attention.causal(d);
    float[] q = uniform(51, b * s * h * d, 1f);
    float[] k = uniform(52, b * s * h * d, 1f);
    float[] v = uniform(53, b * s * h * d, 1f);
    int token = h * d;
    try (Device cpu = Device.cpu();
        Tensor qa = cpu.fromFloats(q, b, s, h, d);
        Tensor ka = cpu.fromFloats(k, b, s, h, d);
        Tensor va = cpu.fromFloats(v, b, s, h, d);
        Tensor fullOut = cpu.zeros(DType.F32, b, s, h, d);
        Tensor fullLse = cpu.zeros(DType.F32, b, h, s);
        Tensor kc = cpu.zeros(DType.F32, b, smax, h, d);
        Tensor vc = cpu.zeros(DType.F32, b, smax, h, d);
        Tensor qs = cpu.zeros(DType.F32, b, step, h, d);
        Tensor out = cpu.zeros(DType.F32, b, step, h, d);
        Tensor lse = cpu.zeros(DType.F32, b, h, step);
        Tensor offsets = cpu.zeros(DType.I32, b);
        Tensor lengths = cpu.zeros(DType.I32, b)) {
      attention.forward(qa, ka, va, fullOut, fullLse);
      float[] wantOut = fullOut.toFloatArray();
      float[] wantLse = fullLse.toFloatArray();
      float[] kCache = new float[b * smax * token];
      float[] vCache = new float[b * smax * token];
      Arrays.fill(kCache, Float.NaN);
      Arrays.fill(vCache, Float.NaN);
      for (int t = 0; t < s; t += step) {
        float[] qStep = new float[b * step * token];
        for (int r = 0; r < b; r++) {
          System.arraycopy(k, (r * s + t) * token, kCache, (r * smax + t) * token, step * token);
          System.arraycopy(v, (r * s + t) * token, vCache, (r * smax + t) * token, step * token);
          System.arraycopy(q, (r * s + t) * token, qStep, r * step * token, step * token);
        }
        kc.write(kCache);
        vc.write(vCache);
        qs.write(qStep);
        offsets.write(new int[] {t, t});
        lengths.write(new int[] {t + step, t + step});
        attention.forward(qs, kc, vc, lengths, offsets, out, lse);
        float[] gotOut = out.toFloatArray();
        float[] gotLse = lse.toFloatArray();
        for (int r = 0; r < b; r++) {
          int tt = t;
          assertArrayEquals(Arrays.copyOfRange(wantOut, (r * s + t) * token, (r * s + t + step) * token),
              Arrays.copyOfRange(gotOut, r * step * token, (r + 1) * step * token), () -> "out at t=" + tt);
          for (int hh = 0; hh < h; hh++) {
            assertArrayEquals(Arrays.copyOfRange(wantLse, (r * h + hh) * s + t, (r * h + hh) * s + t + step),
                Arrays.copyOfRange(gotLse, (r * h + hh) * step, (r * h + hh + 1) * step), () -> "lse at t=" + tt);
          }
        }
      }
    }
  }

  /**
   * A right-padded batch (row lengths 70 and 23 in S = 70, padding keys NaN, the loss masking padding
   * queries with dout = 0) gives each row's real positions bitwise the unmasked causal forward and
   * backward of that row alone.
   */
  @Test
  void rightPaddedPrefillGivesEachRowTheBitsOfItsOwnCausalPass() {
    int s = 70;
    int h = 2;
    int d = 12;
    int[] lengths = {70, 23};
    Case c = new Case(61, 2, s, s, h, d, true, lengths, null);
    int token = h * d;
    float[] dout = c.dout.clone();
    Arrays.fill(dout, (s + lengths[1]) * token, 2 * s * token, 0f);
    Case padded = new Case(61, 2, s, s, h, d, true, lengths, null);
    System.arraycopy(dout, 0, padded.dout, 0, dout.length);
    try (Device cpu = Device.cpu()) {
      float[][] batch = run(cpu, padded, GradMode.OVERWRITE);
      for (int r = 0; r < 2; r++) {
        int len = lengths[r];
        Case alone = new Case(0, 1, len, len, h, d, true, null, null);
        System.arraycopy(c.q, r * s * token, alone.q, 0, len * token);
        System.arraycopy(c.k, r * s * token, alone.k, 0, len * token);
        System.arraycopy(c.v, r * s * token, alone.v, 0, len * token);
        System.arraycopy(dout, r * s * token, alone.dout, 0, len * token);
        float[][] own = runUnmasked(cpu, alone);
        int row = r;
        for (int i : new int[] {0, 2, 3, 4}) {  // out, dq, dk, dv: [S, H, D] per row
          assertArrayEquals(own[i], Arrays.copyOfRange(batch[i], r * s * token, (r * s + len) * token),
              () -> NAMES[i] + " of row " + row);
        }
        for (int hh = 0; hh < h; hh++) {
          assertArrayEquals(Arrays.copyOfRange(own[1], hh * len, (hh + 1) * len),
              Arrays.copyOfRange(batch[1], (r * h + hh) * s, (r * h + hh) * s + len), "lse of row " + r);
        }
      }
    }
  }

  /** The unmasked forward and backward of a self-attention case (Sq = Sk). */
  private static float[][] runUnmasked(Device dev, Case c) {
    long[] shape = {c.b, c.sq, c.h, c.d};
    try (Tensor q = dev.fromFloats(c.q, shape);
        Tensor k = dev.fromFloats(c.k, shape);
        Tensor v = dev.fromFloats(c.v, shape);
        Tensor dout = dev.fromFloats(c.dout, shape);
        Tensor out = dev.zeros(DType.F32, shape);
        Tensor lse = dev.zeros(DType.F32, c.b, c.h, c.sq);
        Tensor dq = dev.zeros(DType.F32, shape);
        Tensor dk = dev.zeros(DType.F32, shape);
        Tensor dv = dev.zeros(DType.F32, shape)) {
      Attention attention = c.layer();
      attention.forward(q, k, v, out, lse);
      attention.backward(q, k, v, out, lse, dout, dq, dk, dv, GradMode.OVERWRITE);
      return new float[][] {
        out.toFloatArray(), lse.toFloatArray(), dq.toFloatArray(), dk.toFloatArray(), dv.toFloatArray()
      };
    }
  }

  @ParameterizedTest(name = "causal={0}")
  @CsvSource({"true", "false"})
  void withoutMasksOrWithFullOnesTheMaskedCallsGiveTheUnmaskedBits(boolean causal) {
    // 2·100·100·4·24 pairs: large enough for the parallel paths and the one-task-per-head backward.
    int b = 2;
    int s = 100;
    Case none = new Case(71, b, s, s, 4, 24, causal, null, null);
    Case full = new Case(71, b, s, s, 4, 24, causal, new int[] {s, s}, new int[] {0, 0});
    try (Device cpu = Device.cpu()) {
      float[][] want = runUnmasked(cpu, none);
      float[][] withNone = run(cpu, none, GradMode.OVERWRITE);
      float[][] withFull = run(cpu, full, GradMode.OVERWRITE);
      for (int i = 0; i < NAMES.length; i++) {
        assertArrayEquals(want[i], withNone[i], NAMES[i] + " without masks");
        assertArrayEquals(want[i], withFull[i], NAMES[i] + " with L = S, off = 0");
      }
    }
  }

  // ---- bad arguments -------------------------------------------------------------------------------

  private static void assertNames(String argument, Executable call) {
    FactRlException ex = assertThrows(FactRlException.class, call);
    assertTrue(ex.getMessage().contains(argument), () -> "message should name '" + argument + "': " + ex.getMessage());
  }

  @Test
  void badArgumentsNameTheArgumentAndTheRow() {
    try (Device cpu = Device.cpu();
        Device other = Device.cpu();
        Tensor q = cpu.zeros(DType.F32, 3, 2, 4, 5);
        Tensor k = cpu.zeros(DType.F32, 3, 6, 4, 5);
        Tensor v = cpu.zeros(DType.F32, 3, 6, 4, 5);
        Tensor kOtherH = cpu.zeros(DType.F32, 3, 6, 2, 5);
        Tensor kOtherB = cpu.zeros(DType.F32, 2, 6, 4, 5);
        Tensor vShort = cpu.zeros(DType.F32, 3, 5, 4, 5);
        Tensor out = cpu.zeros(DType.F32, 3, 2, 4, 5);
        Tensor lse = cpu.zeros(DType.F32, 3, 4, 2);
        Tensor dq = cpu.zeros(DType.F32, 3, 2, 4, 5);
        Tensor dk = cpu.zeros(DType.F32, 3, 6, 4, 5);
        Tensor lengths = cpu.fromInts(new int[] {6, 0, 3}, 3);
        Tensor tooLong = cpu.fromInts(new int[] {6, 7, 3}, 3);
        Tensor negative = cpu.fromInts(new int[] {6, 0, -1}, 3);
        Tensor offsets = cpu.fromInts(new int[] {0, 4, 9}, 3);
        Tensor negativeOffset = cpu.fromInts(new int[] {0, -2, 0}, 3);
        Tensor lengthsF32 = cpu.zeros(DType.F32, 3);
        Tensor lengthsShort = cpu.fromInts(new int[] {1, 1}, 2);
        Tensor lengthsOther = other.fromInts(new int[] {1, 1, 1}, 3)) {
      Attention a = Attention.causal(5);
      a.forward(q, k, v, lengths, offsets, out, lse);  // the valid call
      a.backward(q, k, v, lengths, offsets, out, lse, out, dq, dk, null, GradMode.OVERWRITE);
      assertNames("'k'", () -> a.forward(q, null, v, lengths, offsets, out, lse));
      assertNames("'k'", () -> a.forward(q, kOtherH, v, lengths, offsets, out, lse));
      assertNames("'k'", () -> a.forward(q, kOtherB, v, lengths, offsets, out, lse));
      assertNames("'v'", () -> a.forward(q, k, vShort, lengths, offsets, out, lse));
      assertNames("'keyLengths'", () -> a.forward(q, k, v, lengthsF32, offsets, out, lse));
      assertNames("'keyLengths'", () -> a.forward(q, k, v, lengthsShort, offsets, out, lse));
      assertNames("'keyLengths'", () -> a.forward(q, k, v, lengthsOther, offsets, out, lse));
      assertNames("'queryOffsets'", () -> a.forward(q, k, v, lengths, lengthsShort, out, lse));
      assertNames("'dk'", () -> a.backward(q, k, v, lengths, offsets, out, lse, out, null, dq, null, GradMode.OVERWRITE));
      assertNames("'dv'", () -> a.backward(q, k, v, lengths, offsets, out, lse, out, null, null, dq, GradMode.OVERWRITE));
      assertNames("'mode'", () -> a.backward(q, k, v, lengths, offsets, out, lse, out, dq, null, null, null));
      // Values are checked natively: the message names the argument and the row.
      assertNames("'key_lengths' is 7 at row 1", () -> a.forward(q, k, v, tooLong, offsets, out, lse));
      assertNames("'key_lengths' is -1 at row 2", () -> a.forward(q, k, v, negative, null, out, lse));
      assertNames("'query_offsets' is -2 at row 1", () -> a.forward(q, k, v, null, negativeOffset, out, null));
      assertNames("'key_lengths' is 7 at row 1",
          () -> a.backward(q, k, v, tooLong, offsets, out, lse, out, dq, dk, null, GradMode.OVERWRITE));
      assertNames("'query_offsets' is -2 at row 1",
          () -> a.backward(q, k, v, lengths, negativeOffset, out, lse, out, dq, null, null, GradMode.ACCUMULATE));
      assertNames("'dk' must not be the same tensor as 'k'",
          () -> a.backward(q, k, v, lengths, offsets, out, lse, out, null, k, null, GradMode.OVERWRITE));
    }
  }

  @Test
  void nativeChecksNameTheArgument() {
    try (Device cpu = Device.cpu();
        Tensor q = cpu.zeros(DType.F32, 3, 2, 4, 5);
        Tensor k = cpu.zeros(DType.F32, 3, 6, 4, 5);
        Tensor kOtherD = cpu.zeros(DType.F32, 3, 6, 4, 4);
        Tensor out = cpu.zeros(DType.F32, 3, 2, 4, 5);
        Tensor lse = cpu.zeros(DType.F32, 3, 4, 2);
        Tensor lengths = cpu.fromInts(new int[] {6, 0, 3}, 3);
        Tensor lengths2d = cpu.fromInts(new int[] {6, 0, 3}, 3, 1);
        Tensor lengthsF32 = cpu.zeros(DType.F32, 3)) {
      var ctx = cpu.handle();
      var t = q.handle();
      var kk = k.handle();
      var l = lse.handle();
      var len = lengths.handle();
      assertNativeNames("ctx", AttentionNative.frl_attention_forward_masked(null, t, kk, kk, len, null, 1, 0.5f, t, l));
      assertNativeNames("'k'", AttentionNative.frl_attention_forward_masked(ctx, t, kOtherD.handle(), kk, len, null, 1,
          0.5f, t, l));
      assertNativeNames("'v'", AttentionNative.frl_attention_forward_masked(ctx, t, kk, t, len, null, 1, 0.5f, t, l));
      assertNativeNames("'key_lengths'", AttentionNative.frl_attention_forward_masked(ctx, t, kk, kk,
          lengths2d.handle(), null, 1, 0.5f, t, l));
      assertNativeNames("'query_offsets'", AttentionNative.frl_attention_forward_masked(ctx, t, kk, kk, len,
          lengthsF32.handle(), 1, 0.5f, t, l));
      assertNativeNames("'causal'", AttentionNative.frl_attention_forward_masked(ctx, t, kk, kk, len, null, 3, 0.5f,
          t, l));
      assertNativeNames("'lse'", AttentionNative.frl_attention_backward_masked(ctx, t, kk, kk, len, null, t, null, t,
          1, 0.5f, null, null, null, 0));
      assertNativeNames("'dk'", AttentionNative.frl_attention_backward_masked(ctx, t, kk, kk, len, null, t, l, t, 1,
          0.5f, null, t, null, 0));
      assertNativeNames("'mode'", AttentionNative.frl_attention_backward_masked(ctx, t, kk, kk, len, null, t, l, t, 1,
          0.5f, null, null, null, 5));
      assertNativeNames("frl_attention_backward_masked", AttentionNative.frl_attention_backward_masked(ctx, t, kk, kk,
          len, null, t, l, t, 1, Float.NaN, null, null, null, 0));
      assertEquals(0, AttentionNative.frl_attention_forward_masked(ctx, t, kk, kk, len, null, 1, 0.5f, out.handle(),
          l), "the valid call");
    }
  }

  @Test
  void emptyKeysOrQueriesGiveZerosAndMinusInfinity() {
    try (Device cpu = Device.cpu();
        Tensor q = cpu.fromFloats(uniform(81, 2 * 3 * 2 * 4, 1f), 2, 3, 2, 4);
        Tensor noKeys = cpu.zeros(DType.F32, 2, 0, 2, 4);
        Tensor out = cpu.fromFloats(uniform(82, 2 * 3 * 2 * 4, 1f), 2, 3, 2, 4);
        Tensor lse = cpu.zeros(DType.F32, 2, 2, 3);
        Tensor dq = cpu.fromFloats(uniform(83, 2 * 3 * 2 * 4, 1f), 2, 3, 2, 4);
        Tensor noQueries = cpu.zeros(DType.F32, 2, 0, 2, 4);
        Tensor noOut = cpu.zeros(DType.F32, 2, 0, 2, 4);
        Tensor noLse = cpu.zeros(DType.F32, 2, 2, 0);
        Tensor k = cpu.fromFloats(uniform(84, 2 * 5 * 2 * 4, 1f), 2, 5, 2, 4);
        Tensor dk = cpu.fromFloats(uniform(85, 2 * 5 * 2 * 4, 1f), 2, 5, 2, 4)) {
      Attention a = Attention.causal(4);
      // Sk = 0: every query sees nothing.
      a.forward(q, noKeys, noKeys, null, null, out, lse);
      assertArrayEquals(new float[2 * 3 * 2 * 4], out.toFloatArray(), "out with no keys");
      float[] minusInf = new float[2 * 2 * 3];
      Arrays.fill(minusInf, Float.NEGATIVE_INFINITY);
      assertArrayEquals(minusInf, lse.toFloatArray(), "lse with no keys");
      a.backward(q, noKeys, noKeys, null, null, out, lse, out, dq, null, null, GradMode.OVERWRITE);
      assertArrayEquals(new float[2 * 3 * 2 * 4], dq.toFloatArray(), "dq with no keys");
      // Sq = 0: no query sees the keys.
      a.forward(noQueries, k, k, null, null, noOut, noLse);
      a.backward(noQueries, k, k, null, null, noOut, noLse, noOut, null, dk, null, GradMode.OVERWRITE);
      assertArrayEquals(new float[2 * 5 * 2 * 4], dk.toFloatArray(), "dk with no queries");
    }
  }

  /**
   * The CUDA kernels (kernels/attention.cu, masks applied per row) against the CPU reference on the
   * same cases, keys past L poisoned with NaN on both (never read), OVERWRITE and ACCUMULATE. fp32
   * on both; the device sums in another order with fast-math exp: atol 1e-5·max(1, s), rtol 1e-4
   * (lse too). Runs where a GPU is (and on the GPU visit through bench/gpu/model_gpu.py).
   */
  @ParameterizedTest(name = "B={0} Sq={1} Sk={2} H={3} D={4} causal={5} L=[{6}] off=[{7}]")
  @CsvSource({
    "4,7,20,3,5,true,0 20 9 13,0 3 2 25",
    "3,70,150,2,20,false,150 0 97,-",
    "2,1,40,2,16,true,31 1,30 0",
    "2,5,9,2,3,true,9 4,7 20"
  })
  void cudaMatchesTheCpuReference(int b, int sq, int sk, int h, int d, boolean causal, String lengths,
      String offsets) {
    Assumptions.assumeTrue(Device.cudaDeviceCount() > 0, "no CUDA device");
    Case c = new Case(1000L * sq + 10L * sk + d, b, sq, sk, h, d, causal, ints(lengths), ints(offsets));
    try (Device cpu = Device.cpu(); Device gpu = Device.cuda(0)) {
      for (GradMode mode : GradMode.values()) {
        float[][] want = run(cpu, c, mode);
        float[][] got = run(gpu, c, mode);
        for (int i = 0; i < NAMES.length; i++) {
          float s = 0f;
          for (float x : want[i]) s = Float.isFinite(x) ? Math.max(s, Math.abs(x)) : s;
          if (NAMES[i].equals("lse")) {
            for (int r = 0; r < want[i].length; r++) {
              assertEquals(want[i][r] == Float.NEGATIVE_INFINITY, got[i][r] == Float.NEGATIVE_INFINITY,
                  "lse row " + r + " is -inf on one side only");
              if (want[i][r] == Float.NEGATIVE_INFINITY) got[i][r] = want[i][r] = 0f;
            }
          }
          assertClose(want[i], got[i], 1e-5 * Math.max(1, s), 1e-4, mode + " " + NAMES[i]);
        }
      }
    }
  }

}

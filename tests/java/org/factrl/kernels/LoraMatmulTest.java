package org.factrl.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.factrl.bindings.FactRlCore;
import org.factrl.bindings.LoraNative;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;
import org.factrl.testing.Numerics;
import org.factrl.testing.Torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fused LoRA matmul (CPU reference) against libtorch autograd, its conventions (adapters off,
 * overwrite vs accumulate, optional outputs), and argument checking on both the Java and native sides.
 *
 * <p>Tolerance (fp32): |ours - torch| <= 1e-5 * sqrt(L) + 1e-5 * |torch| elementwise, L the reduction
 * length of that output (K + r for y, K for u, M + r for dx, N for dA and dB). Inputs are uniform in
 * [-1, 1], so outputs are O(sqrt(L)) and float32 summation error is O(1e-7 sqrt(L)); an indexing or
 * transpose mistake gives O(1) errors.
 */
class LoraMatmulTest {
  /** Inputs of one case, reproducible from a seed. */
  private static final class Case {
    final int n, k, m, r;
    final float s;
    final float[] x, w, a, b, dy;

    Case(long seed, int n, int k, int m, int r, float s) {
      this.n = n;
      this.k = k;
      this.m = m;
      this.r = r;
      this.s = s;
      x = Numerics.uniform(seed, n * k, 1f);
      w = Numerics.uniform(seed + 1, m * k, 1f);
      a = Numerics.uniform(seed + 2, r * k, 1f);
      b = Numerics.uniform(seed + 3, m * r, 1f);
      dy = Numerics.uniform(seed + 4, n * m, 1f);
    }

    private Case(Case c, float[] x, float[] w, float[] a, float[] b, float[] dy) {
      this.n = c.n;
      this.k = c.k;
      this.m = c.m;
      this.r = c.r;
      this.s = c.s;
      this.x = x;
      this.w = w;
      this.a = a;
      this.b = b;
      this.dy = dy;
    }

    /** The same case with every input rounded to bf16 (through a BF16 tensor on {@code cpu}). */
    Case roundedToBf16(Device cpu) {
      return new Case(this, round(cpu, x), round(cpu, w), round(cpu, a), round(cpu, b), round(cpu, dy));
    }

    /** x, W, dy rounded to bf16, the adapter A, B kept in f32 (mixed precision: f32 master weights). */
    Case activationsRoundedToBf16(Device cpu) {
      return new Case(this, round(cpu, x), round(cpu, w), a, b, round(cpu, dy));
    }

    private static float[] round(Device cpu, float[] v) {
      try (Tensor t = cpu.fromFloats(DType.BF16, v, v.length)) {
        return t.toFloatArray();
      }
    }
  }

  /** libtorch's y, u, dx, dA, dB for a case (autograd through y = x W^T + s (x A^T) B^T). */
  private static float[][] torchReference(Case c, boolean adapter) {
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor x = Torch.tensor(c.x, true, c.n, c.k);
      org.bytedeco.pytorch.Tensor w = Torch.tensor(c.w, c.m, c.k);
      org.bytedeco.pytorch.Tensor a = Torch.tensor(c.a, true, c.r, c.k);
      org.bytedeco.pytorch.Tensor b = Torch.tensor(c.b, true, c.m, c.r);
      org.bytedeco.pytorch.Tensor dy = Torch.tensor(c.dy, c.n, c.m);
      org.bytedeco.pytorch.Tensor u = x.matmul(a.t());
      org.bytedeco.pytorch.Tensor y = x.matmul(w.t());
      if (adapter) {
        y = y.add(u.matmul(b.t()).mul(new Scalar(c.s)));
      }
      TensorVector inputs = adapter ? new TensorVector(x, a, b) : new TensorVector(x);
      TensorVector grads = torch.grad(new TensorVector(y), inputs, new TensorVector(dy), new BoolOptional(), false,
          false);
      float[][] out = new float[5][];
      out[0] = Torch.floats(y);
      out[1] = Torch.floats(u);
      out[2] = Torch.floats(grads.get(0));
      if (adapter) {
        out[3] = Torch.floats(grads.get(1));
        out[4] = Torch.floats(grads.get(2));
      }
      return out;
    }
  }

  private static void assertCloseL(float[] expected, float[] actual, int reduction, String what) {
    Numerics.assertClose(expected, actual, 1e-5 * Math.sqrt(reduction), 1e-5, what);
  }

  @ParameterizedTest(name = "N={0} K={1} M={2} r={3}")
  @CsvSource({"1, 1, 1, 1", "1, 9, 5, 1", "5, 7, 9, 1", "13, 33, 17, 3", "37, 100, 65, 8", "64, 130, 257, 16",
      "97, 301, 99, 5"})
  void forwardAndBackwardMatchLibtorchAutograd(int n, int k, int m, int r) {
    Case c = new Case(31L * n + 7L * k + m + r, n, k, m, r, 0.37f);
    float[][] ref = torchReference(c, true);
    try (Device cpu = Device.cpu();
        Tensor x = cpu.fromFloats(c.x, n, k);
        Tensor w = cpu.fromFloats(c.w, m, k);
        Tensor a = cpu.fromFloats(c.a, r, k);
        Tensor b = cpu.fromFloats(c.b, m, r);
        Tensor dy = cpu.fromFloats(c.dy, n, m);
        Tensor y = cpu.zeros(DType.F32, n, m);
        Tensor u = cpu.zeros(DType.F32, n, r);
        Tensor dx = cpu.zeros(DType.F32, n, k);
        Tensor dA = cpu.fromFloats(Numerics.uniform(99, r * k, 5f), r, k);  // garbage: must be overwritten
        Tensor dB = cpu.fromFloats(Numerics.uniform(98, m * r, 5f), m, r)) {
      LoraAdapter adapter = LoraAdapter.of(a, b, c.s);
      LoraMatmul.forward(x, w, adapter, y, u);
      LoraMatmul.backward(x, w, adapter, dy, u, dx, dA, dB, GradMode.OVERWRITE);
      assertCloseL(ref[0], y.toFloatArray(), k + r, "y");
      assertCloseL(ref[1], u.toFloatArray(), k, "u");
      assertCloseL(ref[2], dx.toFloatArray(), m + r, "dx");
      assertCloseL(ref[3], dA.toFloatArray(), n, "dA");
      assertCloseL(ref[4], dB.toFloatArray(), n, "dB");
    }
  }

  @Test
  void handComputedCase() {
    // N=1, K=2, M=2, r=1, s=0.5: x=[1,2], W=[[1,0],[0,1]], A=[[3,4]], B=[[1],[2]].
    // u = x A^T = 11; y = x W^T + s u B^T = [1,2] + 0.5*11*[1,2] = [6.5, 13].
    // g = [1, -1]: v = g B = -1; dx = g W + s v A = [1,-1] + 0.5*(-1)*[3,4] = [-0.5, -3];
    // dA = s v^T x = 0.5*(-1)*[1,2] = [-0.5, -1]; dB = s g^T u = 0.5*11*[1,-1] = [5.5, -5.5].
    try (Device cpu = Device.cpu();
        Tensor x = cpu.fromFloats(new float[] {1, 2}, 1, 2);
        Tensor w = cpu.fromFloats(new float[] {1, 0, 0, 1}, 2, 2);
        Tensor a = cpu.fromFloats(new float[] {3, 4}, 1, 2);
        Tensor b = cpu.fromFloats(new float[] {1, 2}, 2, 1);
        Tensor dy = cpu.fromFloats(new float[] {1, -1}, 1, 2);
        Tensor y = cpu.zeros(DType.F32, 1, 2);
        Tensor u = cpu.zeros(DType.F32, 1, 1);
        Tensor dx = cpu.zeros(DType.F32, 1, 2);
        Tensor dA = cpu.zeros(DType.F32, 1, 2);
        Tensor dB = cpu.zeros(DType.F32, 2, 1)) {
      LoraAdapter adapter = LoraAdapter.withAlpha(a, b, 0.5f);  // alpha / r = 0.5 / 1
      assertEquals(0.5f, adapter.scale());
      LoraMatmul.forward(x, w, adapter, y, u);
      LoraMatmul.backward(x, w, adapter, dy, u, dx, dA, dB, GradMode.OVERWRITE);
      assertArrayEquals(new float[] {11}, u.toFloatArray());
      assertArrayEquals(new float[] {6.5f, 13f}, y.toFloatArray());
      assertArrayEquals(new float[] {-0.5f, -3f}, dx.toFloatArray());
      assertArrayEquals(new float[] {-0.5f, -1f}, dA.toFloatArray());
      assertArrayEquals(new float[] {5.5f, -5.5f}, dB.toFloatArray());
    }
  }

  @Test
  void adaptersOffIsTheBaseMatmulExactly() {
    Case c = new Case(5, 19, 45, 23, 4, 2.5f);
    float[][] ref = torchReference(c, false);
    try (Device cpu = Device.cpu();
        Tensor x = cpu.fromFloats(c.x, c.n, c.k);
        Tensor w = cpu.fromFloats(c.w, c.m, c.k);
        Tensor a = cpu.fromFloats(c.a, c.r, c.k);
        Tensor zeroB = cpu.zeros(DType.F32, c.m, c.r);
        Tensor b = cpu.fromFloats(c.b, c.m, c.r);
        Tensor dy = cpu.fromFloats(c.dy, c.n, c.m);
        Tensor yOff = cpu.fromFloats(Numerics.uniform(1, c.n * c.m, 9f), c.n, c.m);
        Tensor yZeroB = cpu.zeros(DType.F32, c.n, c.m);
        Tensor yOn = cpu.zeros(DType.F32, c.n, c.m);
        Tensor dxOff = cpu.fromFloats(Numerics.uniform(2, c.n * c.k, 9f), c.n, c.k)) {
      LoraMatmul.forwardBase(x, w, yOff);
      assertCloseL(ref[0], yOff.toFloatArray(), c.k, "y (adapters off) vs torch x W^T");
      // The same kernel with a zero B adds exactly nothing: bitwise equal to adapters off.
      LoraMatmul.forward(x, w, LoraAdapter.of(a, zeroB, c.s), yZeroB, null);
      assertArrayEquals(yOff.toFloatArray(), yZeroB.toFloatArray());
      // And with a real adapter the output differs (the flag is not ignored).
      LoraMatmul.forward(x, w, LoraAdapter.of(a, b, c.s), yOn, null);
      assertTrue(Numerics.maxAbsDiff(yOff.toFloatArray(), yOn.toFloatArray()) > 1e-2);

      LoraMatmul.backwardBase(x, w, dy, dxOff);
      assertCloseL(ref[2], dxOff.toFloatArray(), c.m, "dx (adapters off) vs torch g W");
    }
  }

  @Test
  void accumulateAddsIntoAdapterGradientsAndOverwriteReplaces() {
    Case c = new Case(11, 21, 38, 27, 3, 0.8f);
    float[][] ref = torchReference(c, true);
    float[] dA0 = Numerics.uniform(7, c.r * c.k, 2f);
    float[] dB0 = Numerics.uniform(8, c.m * c.r, 2f);
    try (Device cpu = Device.cpu();
        Tensor x = cpu.fromFloats(c.x, c.n, c.k);
        Tensor w = cpu.fromFloats(c.w, c.m, c.k);
        Tensor a = cpu.fromFloats(c.a, c.r, c.k);
        Tensor b = cpu.fromFloats(c.b, c.m, c.r);
        Tensor dy = cpu.fromFloats(c.dy, c.n, c.m);
        Tensor y = cpu.zeros(DType.F32, c.n, c.m);
        Tensor u = cpu.zeros(DType.F32, c.n, c.r);
        Tensor dA = cpu.fromFloats(dA0, c.r, c.k);
        Tensor dB = cpu.fromFloats(dB0, c.m, c.r)) {
      LoraAdapter adapter = LoraAdapter.of(a, b, c.s);
      LoraMatmul.forward(x, w, adapter, y, u);
      // Two micro-batches accumulated on top of dA0/dB0 (dx not needed: null).
      LoraMatmul.backward(x, w, adapter, dy, u, null, dA, dB, GradMode.ACCUMULATE);
      LoraMatmul.backward(x, w, adapter, dy, u, null, dA, dB, GradMode.ACCUMULATE);
      float[] wantA = dA0.clone();
      float[] wantB = dB0.clone();
      for (int i = 0; i < wantA.length; i++) {
        wantA[i] += 2 * ref[3][i];
      }
      for (int i = 0; i < wantB.length; i++) {
        wantB[i] += 2 * ref[4][i];
      }
      assertCloseL(wantA, dA.toFloatArray(), 2 * c.n, "dA accumulated");
      assertCloseL(wantB, dB.toFloatArray(), 2 * c.n, "dB accumulated");
      LoraMatmul.backward(x, w, adapter, dy, u, null, dA, null, GradMode.OVERWRITE);
      assertCloseL(ref[3], dA.toFloatArray(), c.n, "dA overwritten");
      assertCloseL(wantB, dB.toFloatArray(), 2 * c.n, "dB untouched when null");
    }
  }

  /**
   * ACCUMULATE adds into dx as well (q/k/v projections of one x share one dx): dx, dA and dB start
   * from random G0 and must end at G0 + the libtorch gradient (not 2x our own result); with the
   * adapter off, dx = G0 + dy W. Tolerance: assertCloseL with the reduction length (M + r for dx, N
   * for dA/dB) plus the O(1) G0, whose float rounding adds at most 1 ulp.
   */
  @Test
  void accumulateAddsIntoDxAgainstTorch() {
    Case c = new Case(12, 19, 41, 23, 4, 0.6f);
    float[][] ref = torchReference(c, true);
    float[][] refOff = torchReference(c, false);
    float[] dx0 = Numerics.uniform(21, c.n * c.k, 2f);
    float[] dA0 = Numerics.uniform(22, c.r * c.k, 2f);
    float[] dB0 = Numerics.uniform(23, c.m * c.r, 2f);
    try (Device cpu = Device.cpu();
        Tensor x = cpu.fromFloats(c.x, c.n, c.k);
        Tensor w = cpu.fromFloats(c.w, c.m, c.k);
        Tensor a = cpu.fromFloats(c.a, c.r, c.k);
        Tensor b = cpu.fromFloats(c.b, c.m, c.r);
        Tensor dy = cpu.fromFloats(c.dy, c.n, c.m);
        Tensor y = cpu.zeros(DType.F32, c.n, c.m);
        Tensor u = cpu.zeros(DType.F32, c.n, c.r);
        Tensor dx = cpu.fromFloats(dx0, c.n, c.k);
        Tensor dxOff = cpu.fromFloats(dx0, c.n, c.k);
        Tensor dA = cpu.fromFloats(dA0, c.r, c.k);
        Tensor dB = cpu.fromFloats(dB0, c.m, c.r)) {
      LoraAdapter adapter = LoraAdapter.of(a, b, c.s);
      LoraMatmul.forward(x, w, adapter, y, u);
      LoraMatmul.backward(x, w, adapter, dy, u, dx, dA, dB, GradMode.ACCUMULATE);
      assertCloseL(plus(dx0, ref[2]), dx.toFloatArray(), c.m + c.r, "dx accumulated");
      assertCloseL(plus(dA0, ref[3]), dA.toFloatArray(), c.n, "dA accumulated");
      assertCloseL(plus(dB0, ref[4]), dB.toFloatArray(), c.n, "dB accumulated");
      LoraMatmul.backward(x, w, null, dy, null, dxOff, null, null, GradMode.ACCUMULATE);
      assertCloseL(plus(dx0, refOff[2]), dxOff.toFloatArray(), c.m, "dx accumulated (adapter off)");
      LoraMatmul.backward(x, w, adapter, dy, u, dx, null, null, GradMode.OVERWRITE);
      assertCloseL(ref[2], dx.toFloatArray(), c.m + c.r, "dx overwritten");
    }
  }

  private static float[] plus(float[] p, float[] q) {
    float[] out = new float[p.length];
    for (int i = 0; i < p.length; i++) {
      out[i] = p[i] + q[i];
    }
    return out;
  }

  @Test
  void forwardWithoutSavingUGivesTheSameOutput() {
    Case c = new Case(3, 8, 70, 12, 6, 0.25f);
    try (Device cpu = Device.cpu();
        Tensor x = cpu.fromFloats(c.x, c.n, c.k);
        Tensor w = cpu.fromFloats(c.w, c.m, c.k);
        Tensor a = cpu.fromFloats(c.a, c.r, c.k);
        Tensor b = cpu.fromFloats(c.b, c.m, c.r);
        Tensor y1 = cpu.zeros(DType.F32, c.n, c.m);
        Tensor y2 = cpu.zeros(DType.F32, c.n, c.m);
        Tensor u = cpu.zeros(DType.F32, c.n, c.r)) {
      LoraAdapter adapter = LoraAdapter.of(a, b, c.s);
      LoraMatmul.forward(x, w, adapter, y1, u);
      LoraMatmul.forward(x, w, adapter, y2, null);
      assertArrayEquals(y1.toFloatArray(), y2.toFloatArray());
    }
  }

  /** Asserts the call throws a FactRlException whose message names {@code argument}. */
  private static FactRlException assertNames(String argument, Executable call) {
    FactRlException e = assertThrows(FactRlException.class, call);
    assertTrue(e.getMessage().contains("'" + argument + "'"), "expected '" + argument + "' in: " + e.getMessage());
    return e;
  }

  @Test
  void badArgumentsFromJavaNameTheArgument() {
    try (Device cpu = Device.cpu();
        Device other = Device.cpu();
        Tensor x = cpu.zeros(DType.F32, 4, 6);
        Tensor w = cpu.zeros(DType.F32, 5, 6);
        Tensor wBadK = cpu.zeros(DType.F32, 5, 7);
        Tensor a = cpu.zeros(DType.F32, 2, 6);
        Tensor aBadK = cpu.zeros(DType.F32, 2, 7);
        Tensor b = cpu.zeros(DType.F32, 5, 2);
        Tensor bBadM = cpu.zeros(DType.F32, 4, 2);
        Tensor bBadR = cpu.zeros(DType.F32, 5, 3);
        Tensor a1d = cpu.zeros(DType.F32, 12);
        Tensor y = cpu.zeros(DType.F32, 4, 5);
        Tensor yBad = cpu.zeros(DType.F32, 5, 4);
        Tensor u = cpu.zeros(DType.F32, 4, 2);
        Tensor uBad = cpu.zeros(DType.F32, 4, 3);
        Tensor dy = cpu.zeros(DType.F32, 4, 5);
        Tensor dx = cpu.zeros(DType.F32, 4, 6);
        Tensor dA = cpu.zeros(DType.F32, 2, 6);
        Tensor dABad = cpu.zeros(DType.F32, 6, 2);
        Tensor dB = cpu.zeros(DType.F32, 5, 2);
        Tensor xInt = cpu.zeros(DType.I32, 4, 6);
        Tensor wOther = other.zeros(DType.F32, 5, 6);
        Tensor bOther = other.zeros(DType.F32, 5, 2)) {
      LoraAdapter ad = LoraAdapter.of(a, b, 0.5f);
      assertNames("x", () -> LoraMatmul.forward(null, w, ad, y, u));
      assertNames("w", () -> LoraMatmul.forward(x, null, ad, y, u));
      assertNames("y", () -> LoraMatmul.forward(x, w, ad, null, u));
      assertNames("w", () -> LoraMatmul.forward(x, wBadK, ad, y, u));  // mismatched K
      assertNames("a", () -> LoraMatmul.forward(x, w, LoraAdapter.of(aBadK, b, 1f), y, u));
      assertNames("b", () -> LoraMatmul.forward(x, w, LoraAdapter.of(a, bBadM, 1f), y, u));
      assertNames("b", () -> LoraAdapter.of(a, bBadR, 1f));  // r mismatch
      assertNames("a", () -> LoraAdapter.of(a1d, b, 1f));
      assertNames("a", () -> LoraAdapter.of(null, b, 1f));
      assertNames("scale", () -> LoraAdapter.of(a, b, Float.NaN));
      assertNames("scale", () -> LoraAdapter.of(a, b, Float.POSITIVE_INFINITY));
      assertNames("y", () -> LoraMatmul.forward(x, w, ad, yBad, u));
      assertNames("u", () -> LoraMatmul.forward(x, w, ad, y, uBad));
      assertNames("u", () -> LoraMatmul.forward(x, w, null, y, u));
      assertNames("w", () -> LoraMatmul.forward(x, wOther, ad, y, u));  // another device
      assertNames("b", () -> LoraAdapter.of(a, bOther, 1f));
      FactRlException dtype = assertNames("x", () -> LoraMatmul.forward(xInt, w, ad, y, u));  // native check
      assertEquals(FactRlException.Status.SHAPE, dtype.status());
      assertTrue(dtype.getMessage().contains("frl_lora_forward"), dtype.getMessage());

      assertNames("dy", () -> LoraMatmul.backward(x, w, ad, null, u, dx, dA, dB, GradMode.OVERWRITE));
      assertNames("mode", () -> LoraMatmul.backward(x, w, ad, dy, u, dx, dA, dB, null));
      assertNames("dy", () -> LoraMatmul.backward(x, w, ad, yBad, u, dx, dA, dB, GradMode.OVERWRITE));
      assertNames("dA", () -> LoraMatmul.backward(x, w, ad, dy, u, dx, dABad, dB, GradMode.OVERWRITE));
      assertNames("u", () -> LoraMatmul.backward(x, w, ad, dy, null, dx, dA, dB, GradMode.OVERWRITE));
      assertNames("dx", () -> LoraMatmul.backward(x, w, null, dy, null, null, null, null, GradMode.OVERWRITE));
      assertNames("dA", () -> LoraMatmul.backward(x, w, null, dy, null, dx, dA, null, GradMode.OVERWRITE));
    }
  }

  @Test
  void badArgumentsReachingTheNativeChecksNameTheArgument() {
    try (Device cpu = Device.cpu();
        Device other = Device.cpu();
        Tensor x = cpu.zeros(DType.F32, 4, 6);
        Tensor w = cpu.zeros(DType.F32, 5, 6);
        Tensor wBadK = cpu.zeros(DType.F32, 5, 7);
        Tensor a = cpu.zeros(DType.F32, 2, 6);
        Tensor b = cpu.zeros(DType.F32, 5, 2);
        Tensor bBadR = cpu.zeros(DType.F32, 5, 3);
        Tensor y = cpu.zeros(DType.F32, 4, 5);
        Tensor u = cpu.zeros(DType.F32, 4, 2);
        Tensor dy = cpu.zeros(DType.F32, 4, 5);
        Tensor dx = cpu.zeros(DType.F32, 4, 6);
        Tensor dA = cpu.zeros(DType.F32, 2, 6);
        Tensor dB = cpu.zeros(DType.F32, 5, 2);
        Tensor aBf16 = cpu.zeros(DType.BF16, 2, 6);
        Tensor wOther = other.zeros(DType.F32, 5, 6)) {
      FactRlCore.frl_ctx ctx = cpu.handle();
      assertNative("ctx", LoraNative.frl_lora_forward(null, x.handle(), w.handle(), a.handle(), b.handle(), 1f, 1,
          y.handle(), u.handle()));
      assertNative("x", LoraNative.frl_lora_forward(ctx, null, w.handle(), a.handle(), b.handle(), 1f, 1,
          y.handle(), u.handle()));
      assertNative("W", LoraNative.frl_lora_forward(ctx, x.handle(), wBadK.handle(), a.handle(), b.handle(), 1f, 1,
          y.handle(), u.handle()));
      assertNative("B", LoraNative.frl_lora_forward(ctx, x.handle(), w.handle(), a.handle(), bBadR.handle(), 1f, 1,
          y.handle(), u.handle()));
      assertNative("A", LoraNative.frl_lora_forward(ctx, x.handle(), w.handle(), null, b.handle(), 1f, 1,
          y.handle(), u.handle()));
      assertNative("A", LoraNative.frl_lora_forward(ctx, x.handle(), w.handle(), aBf16.handle(), b.handle(), 1f,
          1, y.handle(), u.handle()));
      assertNative("scale", LoraNative.frl_lora_forward(ctx, x.handle(), w.handle(), a.handle(), b.handle(),
          Float.NaN, 1, y.handle(), u.handle()));
      assertNative("W", LoraNative.frl_lora_forward(ctx, x.handle(), wOther.handle(), a.handle(), b.handle(), 1f,
          1, y.handle(), u.handle()));
      assertNative("y", LoraNative.frl_lora_forward(ctx, x.handle(), w.handle(), a.handle(), b.handle(), 1f, 1,
          dx.handle(), u.handle()));
      assertNative("accumulate", LoraNative.frl_lora_backward(ctx, x.handle(), w.handle(), a.handle(), b.handle(),
          1f, 1, dy.handle(), u.handle(), dx.handle(), dA.handle(), dB.handle(), 2));
      assertNative("dB", LoraNative.frl_lora_backward(ctx, x.handle(), w.handle(), a.handle(), b.handle(), 1f, 1,
          dy.handle(), u.handle(), dx.handle(), dA.handle(), dA.handle(), 0));
      assertNative("u", LoraNative.frl_lora_backward(ctx, x.handle(), w.handle(), a.handle(), b.handle(), 1f, 1,
          dy.handle(), null, dx.handle(), dA.handle(), dB.handle(), 0));
      assertNative("dy", LoraNative.frl_lora_backward(ctx, x.handle(), w.handle(), a.handle(), b.handle(), 1f, 1,
          dx.handle(), u.handle(), dx.handle(), dA.handle(), dB.handle(), 0));
      assertNative("dx", LoraNative.frl_lora_backward(ctx, x.handle(), w.handle(), null, null, 1f, 0,
          dy.handle(), null, null, null, null, 0));
      assertNative("scale", LoraNative.frl_lora_backward(ctx, x.handle(), w.handle(), a.handle(), b.handle(),
          Float.NaN, 1, dy.handle(), u.handle(), dx.handle(), dA.handle(), dB.handle(), 0));
      // Adapters off: A, B, u may be NULL.
      assertEquals(0, LoraNative.frl_lora_forward(ctx, x.handle(), w.handle(), null, null, 0f, 0, y.handle(), null));
    }
  }

  /**
   * An output that is also an input (or another output) is refused: the kernels read their inputs
   * while writing, so y = x (M = K) or dx = x gave silently wrong values before this check.
   */
  @Test
  void aliasedOutputsAreRejectedNamingBoth() {
    try (Device cpu = Device.cpu();
        Tensor x = cpu.fromFloats(Numerics.uniform(1, 12, 1f), 3, 4);
        Tensor w = cpu.fromFloats(Numerics.uniform(2, 16, 1f), 4, 4);  // M = K: y and dx fit x's shape
        Tensor a = cpu.fromFloats(Numerics.uniform(3, 8, 1f), 2, 4);
        Tensor b = cpu.fromFloats(Numerics.uniform(4, 8, 1f), 4, 2);  // dB's shape
        Tensor dy = cpu.fromFloats(Numerics.uniform(5, 12, 1f), 3, 4);
        Tensor y = cpu.zeros(DType.F32, 3, 4);
        Tensor u = cpu.zeros(DType.F32, 3, 2);
        Tensor dx = cpu.zeros(DType.F32, 3, 4);
        Tensor dA = cpu.zeros(DType.F32, 2, 4)) {
      LoraAdapter ad = LoraAdapter.of(a, b, 0.5f);
      float[] x0 = x.toFloatArray();
      FactRlException fwd = assertNames("y", () -> LoraMatmul.forward(x, w, ad, x, u));
      assertTrue(fwd.getMessage().contains("'x'"), fwd.getMessage());
      assertNames("y", () -> LoraMatmul.forwardBase(x, w, x));
      assertArrayEquals(x0, x.toFloatArray(), "a refused call writes nothing");
      LoraMatmul.forward(x, w, ad, y, u);
      FactRlException e = assertNames("dx", () -> LoraMatmul.backward(x, w, ad, dy, u, x, dA, null,
          GradMode.OVERWRITE));
      assertTrue(e.getMessage().contains("'x'"), e.getMessage());
      assertNames("dx", () -> LoraMatmul.backward(x, w, ad, dy, u, dy, dA, null, GradMode.OVERWRITE));
      assertNames("dA", () -> LoraMatmul.backward(x, w, ad, dy, u, dx, a, null, GradMode.OVERWRITE));
      assertNames("dB", () -> LoraMatmul.backward(x, w, ad, dy, u, dx, dA, b, GradMode.OVERWRITE));
      assertNames("dx", () -> LoraMatmul.backwardBase(x, w, dy, dy));
      // distinct tensors still work
      LoraMatmul.backward(x, w, ad, dy, u, dx, dA, null, GradMode.OVERWRITE);
    }
  }

  private static void assertNative(String argument, int status) {
    assertNotEquals(FactRlCore.FRL_OK, status, "expected a failure naming '" + argument + "'");
    String message = FactRlCore.frl_last_error().getString();
    assertTrue(message.contains("'" + argument + "'"), "expected '" + argument + "' in: " + message);
  }

  @Test
  void cudaMatchesTheCpuReference() {
    Assumptions.assumeTrue(Device.cudaDeviceCount() > 0, "no CUDA device");
    int[][] shapes = {{1, 1, 1, 1}, {7, 13, 11, 3}, {37, 263, 129, 1}, {130, 257, 301, 17}, {200, 512, 384, 64}};
    try (Device cpu = Device.cpu();
        Device gpu = Device.cuda(0)) {
      for (int[] sh : shapes) {
        Case c = new Case(sh[0] + sh[1], sh[0], sh[1], sh[2], sh[3], 0.75f);
        float[][] ref = run(cpu, DType.F32, c);
        float[][] f32 = run(gpu, DType.F32, c);
        // bf16: the CPU reference gets the same bf16-rounded inputs.
        Case rounded = c.roundedToBf16(cpu);
        float[][] refRounded = run(cpu, DType.F32, rounded);
        float[][] bf16 = run(gpu, DType.BF16, rounded);
        // f32 adapter over a bf16 base (rounded to bf16 on the GPU for the products), and ACCUMULATE
        // into a pre-filled dx / dA / dB: the CPU reference gets the same starting gradients.
        Case mixed = c.activationsRoundedToBf16(cpu);
        float[][] refMixed = run(cpu, DType.F32, DType.F32, mixed, GradMode.ACCUMULATE);
        float[][] gpuMixed = run(gpu, DType.BF16, DType.F32, mixed, GradMode.ACCUMULATE);
        String[] names = {"y", "u", "dx", "dA", "dB"};
        int[] red = {c.k + c.r, c.k, c.m + c.r, c.n, c.n};
        for (int i = 0; i < names.length; i++) {
          String what = names[i] + " " + java.util.Arrays.toString(sh);
          Numerics.assertClose(ref[i], f32[i], 2e-5 * Math.sqrt(red[i]), 1e-5, "cuda f32 " + what);
          // bf16 storage: inputs, u, v and outputs rounded to 8 bits of mantissa; compare relative to
          // the output's scale (1.5e-2 of the largest |value|).
          double scale = 0;
          for (float v : refRounded[i]) {
            scale = Math.max(scale, Math.abs(v));
          }
          Numerics.assertClose(refRounded[i], bf16[i], 1.5e-2 * scale + 1e-6, 0, "cuda bf16 " + what);
          double mixedScale = 0;
          for (float v : refMixed[i]) {
            mixedScale = Math.max(mixedScale, Math.abs(v));
          }
          Numerics.assertClose(refMixed[i], gpuMixed[i], 1.5e-2 * mixedScale + 1e-6, 0,
              "cuda bf16 base + f32 adapter, accumulate " + what);
        }
      }
    }
  }

  /** y, u, dx, dA, dB on a device in a dtype (dA, dB in F32), inputs from the case. */
  private static float[][] run(Device d, DType dtype, Case c) {
    return run(d, dtype, dtype, c, GradMode.OVERWRITE);
  }

  /**
   * The same with the adapter in {@code adapterDtype}; with ACCUMULATE the gradients start from
   * fixed pseudo-random values (dx rounded to {@code dtype}'s storage by its tensor).
   */
  private static float[][] run(Device d, DType dtype, DType adapterDtype, Case c, GradMode mode) {
    List<Tensor> all = new ArrayList<>();
    try {
      Tensor x = track(all, d.fromFloats(dtype, c.x, c.n, c.k));
      Tensor w = track(all, d.fromFloats(dtype, c.w, c.m, c.k));
      Tensor a = track(all, d.fromFloats(adapterDtype, c.a, c.r, c.k));
      Tensor b = track(all, d.fromFloats(adapterDtype, c.b, c.m, c.r));
      Tensor dy = track(all, d.fromFloats(dtype, c.dy, c.n, c.m));
      Tensor y = track(all, d.zeros(dtype, c.n, c.m));
      Tensor u = track(all, d.zeros(dtype, c.n, c.r));
      boolean acc = mode == GradMode.ACCUMULATE;
      Tensor dx = track(all, acc ? d.fromFloats(dtype, bf16Exact(31, c.n * c.k), c.n, c.k)
          : d.zeros(dtype, c.n, c.k));
      Tensor dA = track(all, acc ? d.fromFloats(bf16Exact(32, c.r * c.k), c.r, c.k)
          : d.zeros(DType.F32, c.r, c.k));
      Tensor dB = track(all, acc ? d.fromFloats(bf16Exact(33, c.m * c.r), c.m, c.r)
          : d.zeros(DType.F32, c.m, c.r));
      LoraAdapter adapter = LoraAdapter.of(a, b, c.s);
      LoraMatmul.forward(x, w, adapter, y, u);
      LoraMatmul.backward(x, w, adapter, dy, u, dx, dA, dB, mode);
      return new float[][] {y.toFloatArray(), u.toFloatArray(), dx.toFloatArray(), dA.toFloatArray(),
          dB.toFloatArray()};
    } finally {
      all.forEach(Tensor::close);
    }
  }

  /** Uniform values in [-1, 1) with 8 mantissa bits: exact in bf16 and f32 alike. */
  private static float[] bf16Exact(long seed, int n) {
    float[] v = Numerics.uniform(seed, n, 1f);
    for (int i = 0; i < n; i++) {
      v[i] = Math.round(v[i] * 128f) / 128f;
    }
    return v;
  }

  private static Tensor track(List<Tensor> all, Tensor t) {
    all.add(t);
    return t;
  }
}

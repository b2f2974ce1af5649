package org.factrl.kernels;

import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.factrl.bindings.GlueNative;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;
import org.factrl.testing.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The glue ops on the CPU backend against plain Java loops (add, axpy, scale, fill, gather, scatter:
 * exact, as each output element is one fp32 operation or a copy) and the bf16 cast against libtorch's
 * {@code to(bfloat16)} (exact: both round to nearest, ties to even). Argument errors name the argument.
 */
class TensorOpsTest {

  @Test
  void elementwiseOpsMatchPlainLoops() {
    int n = 1000;
    float[] a = uniform(1, n, 3f);
    float[] b = uniform(2, n, 5f);
    float alpha = -0.37f;
    float[] sum = new float[n];
    float[] axpy = new float[n];
    float[] scaled = new float[n];
    for (int i = 0; i < n; i++) {
      sum[i] = a[i] + b[i];
      axpy[i] = b[i] + alpha * a[i];
      scaled[i] = alpha * a[i];
    }
    try (Device cpu = Device.cpu();
        Tensor at = cpu.fromFloats(a, 10, 100);
        Tensor bt = cpu.fromFloats(b, 10, 100);
        Tensor y = cpu.zeros(DType.F32, 10, 100)) {
      TensorOps.add(at, bt, y);
      assertArrayEquals(sum, y.toFloatArray(), 0f, "add");
      y.copyFrom(bt);
      TensorOps.axpy(alpha, at, y);
      assertArrayEquals(axpy, y.toFloatArray(), 0f, "axpy");
      TensorOps.scale(alpha, at, y);
      assertArrayEquals(scaled, y.toFloatArray(), 0f, "scale");
      // the allowed aliases: y = a + y, y = 2y (axpy on itself), in-place scale
      TensorOps.add(at, bt, bt);
      assertArrayEquals(sum, bt.toFloatArray(), 0f, "add into b");
      TensorOps.axpy(1f, bt, bt);
      float[] doubled = new float[n];
      for (int i = 0; i < n; i++) {
        doubled[i] = sum[i] + 1f * sum[i];
      }
      assertArrayEquals(doubled, bt.toFloatArray(), 0f, "axpy x = y");
      TensorOps.scale(0.5f, bt, bt);
      assertArrayEquals(sum, bt.toFloatArray(), 0f, "scale in place");
    }
  }

  @Test
  void fillSetsEveryElementAndRoundsForBf16() {
    try (Device cpu = Device.cpu(); Tensor f = cpu.zeros(DType.F32, 3, 4); Tensor h = cpu.zeros(DType.BF16, 7)) {
      TensorOps.fill(f, 2.5f);
      float[] want = new float[12];
      java.util.Arrays.fill(want, 2.5f);
      assertArrayEquals(want, f.toFloatArray(), 0f);
      TensorOps.fill(h, 1f + 1f / 256);  // a tie between 1 and 1 + 2^-7: to even, 1
      for (float v : h.toFloatArray()) {
        assertEquals(1f, v, 0f);
      }
      TensorOps.fill(f, Float.NEGATIVE_INFINITY);
      for (float v : f.toFloatArray()) {
        assertEquals(Float.NEGATIVE_INFINITY, v, 0f);
      }
    }
  }

  @Test
  void castToBf16RoundsLikeTorchAndBackIsExact() {
    float one = 1f;
    float ulp = (float) Math.pow(2, -7);  // bf16 spacing at 1
    float[] special = {0f, -0f, one + ulp / 2, one + 3 * ulp / 2, one + ulp / 2 + 1e-7f, -(one + ulp / 2),
        3.3895314e38f, Float.MAX_VALUE, Float.MIN_VALUE, 1e-40f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
    float[] random = uniform(7, 500, 1e4f);
    float[] x = new float[special.length + random.length];
    System.arraycopy(special, 0, x, 0, special.length);
    System.arraycopy(random, 0, x, special.length, random.length);
    float[] want;
    try (PointerScope scope = new PointerScope()) {
      want = Torch.floats(Torch.tensor(x, x.length).to(torch.ScalarType.BFloat16));
    }
    assertEquals(1f, want[2], 0f, "torch rounds the tie 1 + 2^-8 to even");
    try (Device cpu = Device.cpu();
        Tensor f = cpu.fromFloats(x, x.length);
        Tensor h = cpu.zeros(DType.BF16, x.length);
        Tensor back = cpu.zeros(DType.F32, x.length);
        Tensor nan = cpu.fromFloats(new float[] {Float.NaN}, 1);
        Tensor nanH = cpu.zeros(DType.BF16, 1)) {
      TensorOps.cast(f, h);
      assertArrayEquals(want, h.toFloatArray(), 0f, "f32 -> bf16 (read back widened, exact)");
      TensorOps.cast(h, back);
      assertArrayEquals(want, back.toFloatArray(), 0f, "bf16 -> f32 is exact");
      TensorOps.cast(nan, nanH);
      assertTrue(Float.isNaN(nanH.toFloatArray()[0]), "NaN stays NaN");
    }
  }

  @Test
  void gatherTakesRowsOfEveryDtype() {
    float[] src = uniform(3, 5 * 2 * 3, 1f);
    int[] idx = {3, 1, 3, 0, 4, 4};
    float[] want = new float[idx.length * 6];
    for (int i = 0; i < idx.length; i++) {
      System.arraycopy(src, idx[i] * 6, want, i * 6, 6);
    }
    for (DType dt : new DType[] {DType.F32, DType.BF16}) {
      try (Device cpu = Device.cpu();
          Tensor s = cpu.fromFloats(dt, src, 5, 2, 3);
          Tensor ix = cpu.fromInts(idx, idx.length);
          Tensor d = cpu.zeros(dt, idx.length, 2, 3)) {
        TensorOps.gatherRows(s, ix, d);
        float[] srcStored = s.toFloatArray();  // bf16-rounded values for BF16
        float[] wantStored = new float[want.length];
        for (int i = 0; i < idx.length; i++) {
          System.arraycopy(srcStored, idx[i] * 6, wantStored, i * 6, 6);
        }
        assertArrayEquals(wantStored, d.toFloatArray(), 0f, dt + " gather");
      }
    }
    try (Device cpu = Device.cpu();
        Tensor tokens = cpu.fromInts(new int[] {10, 11, 12, 20, 21, 22, 30, 31, 32}, 3, 3);
        Tensor ix = cpu.fromInts(new int[] {2, 0}, 2);
        Tensor d = cpu.zeros(DType.I32, 2, 3)) {
      TensorOps.gatherRows(tokens, ix, d);  // a minibatch of token rows
      assertArrayEquals(new int[] {30, 31, 32, 10, 11, 12}, d.toIntArray());
    }
  }

  @Test
  void scatterOverwritesOrAddsToPrefilledRows() {
    int rows = 6;
    int width = 5;
    int[] idx = {4, 1, 4, 0};  // 4 repeats: overwrite keeps the last, accumulate adds both
    float[] src = uniform(11, idx.length * width, 2f);
    float[] g0 = uniform(12, rows * width, 7f);  // what dst holds before
    float[] wantOverwrite = g0.clone();
    float[] wantAdd = g0.clone();
    for (int i = 0; i < idx.length; i++) {
      for (int j = 0; j < width; j++) {
        wantOverwrite[idx[i] * width + j] = src[i * width + j];
        wantAdd[idx[i] * width + j] += src[i * width + j];
      }
    }
    try (Device cpu = Device.cpu();
        Tensor s = cpu.fromFloats(src, idx.length, width);
        Tensor ix = cpu.fromInts(idx, idx.length);
        Tensor d = cpu.fromFloats(g0, rows, width)) {
      TensorOps.scatterRows(s, ix, d, GradMode.OVERWRITE);
      assertArrayEquals(wantOverwrite, d.toFloatArray(), 0f, "overwrite (rows 2, 3, 5 untouched)");
      d.write(g0);
      TensorOps.scatterRows(s, ix, d, GradMode.ACCUMULATE);
      assertClose(wantAdd, d.toFloatArray(), 0, 0, "accumulate: G0 + rows, repeated index in ascending order");
    }
  }

  @Test
  void largeRowOpsTakeTheParallelPathsAndStayExact() {
    int rows = 300;
    int n = 500;
    int width = 300;  // n · width > 2^16: OpenMP over column blocks (scatter-add) and rows (gather)
    int[] idx = new int[n];
    java.util.SplittableRandom r = new java.util.SplittableRandom(5);
    for (int i = 0; i < n; i++) {
      idx[i] = r.nextInt(rows);  // repeats
    }
    float[] table = uniform(21, rows * width, 1f);
    float[] part = uniform(22, n * width, 1f);
    float[] g0 = uniform(23, rows * width, 1f);
    float[] wantGather = new float[n * width];
    float[] wantAdd = g0.clone();
    for (int i = 0; i < n; i++) {
      System.arraycopy(table, idx[i] * width, wantGather, i * width, width);
      for (int j = 0; j < width; j++) {
        wantAdd[idx[i] * width + j] += part[i * width + j];  // ascending i, as the kernels add
      }
    }
    try (Device cpu = Device.cpu();
        Tensor t = cpu.fromFloats(table, rows, width);
        Tensor ix = cpu.fromInts(idx, n);
        Tensor taken = cpu.zeros(DType.F32, n, width);
        Tensor p = cpu.fromFloats(part, n, width);
        Tensor d = cpu.fromFloats(g0, rows, width)) {
      TensorOps.gatherRows(t, ix, taken);
      assertArrayEquals(wantGather, taken.toFloatArray(), 0f, "gather");
      TensorOps.scatterRows(p, ix, d, GradMode.ACCUMULATE);
      assertArrayEquals(wantAdd, d.toFloatArray(), 0f, "scatter-add: bitwise the sequential sum");
    }
  }

  @Test
  void scatterAppendsToACacheAndSplicesImageFeatures() {
    // A [B·S_max, width] cache; append one token per sequence at positions 2 and 0.
    try (Device cpu = Device.cpu();
        Tensor cache = cpu.zeros(DType.BF16, 2 * 3, 2);
        Tensor kv = cpu.fromFloats(DType.BF16, new float[] {1, 2, 3, 4}, 2, 2);
        Tensor at = cpu.fromInts(new int[] {0 * 3 + 2, 1 * 3 + 0}, 2)) {
      TensorOps.scatterRows(kv, at, cache, GradMode.OVERWRITE);
      assertArrayEquals(new float[] {0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0}, cache.toFloatArray(), 0f);
    }
  }

  @Test
  void badArgumentsNameTheArgument() {
    try (Device cpu = Device.cpu();
        Tensor a = cpu.zeros(DType.F32, 4, 3);
        Tensor b = cpu.zeros(DType.F32, 4, 3);
        Tensor c = cpu.zeros(DType.F32, 3, 4);
        Tensor h = cpu.zeros(DType.BF16, 4, 3);
        Tensor i32 = cpu.zeros(DType.I32, 4, 3);
        Tensor rows2 = cpu.zeros(DType.F32, 2, 3);
        Tensor rowsWide = cpu.zeros(DType.F32, 2, 4);
        Tensor bad = cpu.fromInts(new int[] {1, 7}, 2);
        Tensor negative = cpu.fromInts(new int[] {-1, 0}, 2);
        Tensor ok = cpu.fromInts(new int[] {1, 2}, 2);
        Tensor ok2d = cpu.fromInts(new int[] {1, 2}, 1, 2)) {
      assertMessage(() -> TensorOps.add(a, c, b), "'b' has shape [3, 4]");
      assertMessage(() -> TensorOps.add(a, b, h), "'y'");
      assertMessage(() -> TensorOps.add(h, h, h), "'a' has dtype bf16");  // no bf16 arithmetic on the CPU
      assertMessage(() -> TensorOps.axpy(1f, a, null), "'y' is null");
      assertMessage(() -> TensorOps.scale(1f, a, c), "'y' has shape [3, 4]");
      assertMessage(() -> TensorOps.fill(i32, 1f), "'t' has dtype i32");
      assertMessage(() -> TensorOps.cast(i32, a), "'src' has dtype i32");
      assertMessage(() -> TensorOps.cast(a, c), "'dst' has shape [3, 4]");
      assertMessage(() -> TensorOps.gatherRows(a, bad, rows2), "idx[1] = 7 is outside [0, 4)");
      assertMessage(() -> TensorOps.gatherRows(a, negative, rows2), "idx[0] = -1 is outside [0, 4)");
      assertMessage(() -> TensorOps.gatherRows(a, ok2d, rows2), "'idx' has shape [1, 2]");
      assertMessage(() -> TensorOps.gatherRows(a, ok, rowsWide), "'dst' has shape [2, 4]");
      assertMessage(() -> TensorOps.gatherRows(a, ok, h), "'dst'");
      assertMessage(() -> TensorOps.gatherRows(a, b, rows2), "'idx' has dtype f32");
      assertMessage(() -> TensorOps.gatherRows(rows2, ok, rows2), "'dst' must not be the same tensor as 'src'");
      assertMessage(() -> TensorOps.scatterRows(rows2, bad, a, GradMode.OVERWRITE), "idx[1] = 7 is outside [0, 4)");
      assertMessage(() -> TensorOps.scatterRows(rows2, ok, rows2, GradMode.ACCUMULATE), "'dst' must not be the same");
      assertMessage(() -> TensorOps.scatterRows(i32, ok, i32, GradMode.ACCUMULATE), "'src' has dtype i32");
      assertMessage(() -> TensorOps.scatterRows(rows2, ok, a, null), "'mode' is null");
      FactRlException e = assertThrows(FactRlException.class, () -> org.factrl.engine.Native.check(
          GlueNative.frl_scatter_rows(cpu.handle(), rows2.handle(), ok.handle(), a.handle(), 2)));
      assertTrue(e.getMessage().contains("'mode'"), e.getMessage());
      assertArrayEquals(new float[12], a.toFloatArray(), 0f, "a failed call writes nothing");
      Tensor closed = cpu.zeros(DType.F32, 4, 3);
      closed.close();
      assertMessage(() -> TensorOps.add(a, closed, b), "'b' is closed");
      assertMessage(() -> TensorOps.gatherRows(a, ok, closed), "'dst' is closed");
    }
  }

  static void assertMessage(Executable call, String part) {
    FactRlException e = assertThrows(FactRlException.class, call);
    assertTrue(e.getMessage().contains(part), () -> "message '" + e.getMessage() + "' lacks '" + part + "'");
  }
}

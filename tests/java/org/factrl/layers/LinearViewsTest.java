package org.factrl.layers;

import static org.factrl.layers.RmsNormTest.assertMessage;
import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.kernels.LoraAdapter;
import org.factrl.kernels.LoraMatmul;
import org.factrl.testing.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The GEMM-based ops on row-contiguous views (a leading dimension larger than the width): the
 * linear layer (x, W, y, dy, dx, dW) and the LoRA matmul (x, y, dy, dx) give exactly the bits of
 * the same call on contiguous copies (same GEMM blocking, only the addressing differs), the rest
 * of each wide buffer is untouched, and libtorch's linear on narrowed tensors agrees (fp32, atol
 * 1e-5·√K + rtol 1e-4). Views an op cannot take are rejected naming the argument.
 */
class LinearViewsTest {

  // Columns [c0, c0 + width) of a row-major [rows, ld] array.
  private static float[] columns(float[] wide, int rows, int ld, int c0, int width) {
    float[] out = new float[rows * width];
    for (int i = 0; i < rows; i++) {
      System.arraycopy(wide, i * ld + c0, out, i * width, width);
    }
    return out;
  }

  private static Tensor dense(Device dev, Tensor view) {
    Tensor t = dev.zeros(view.dtype(), view.shape());
    t.copyFrom(view);
    return t;
  }

  enum Accumulate { OVERWRITE, ACCUMULATE }

  @ParameterizedTest
  @EnumSource(Accumulate.class)
  void linearOnColumnViewsMatchesContiguousCopiesExactly(Accumulate acc) {
    GradMode mode = acc == Accumulate.ACCUMULATE ? GradMode.ACCUMULATE : GradMode.OVERWRITE;
    int n = 37, k = 19, m = 23, ldx = 31, ldw = 24, ldy = 50;
    try (Device cpu = Device.cpu();
        Tensor xWide = cpu.fromFloats(uniform(1, n * ldx, 1f), n, ldx);
        Tensor wWide = cpu.fromFloats(uniform(2, m * ldw, 1f), m, ldw);
        Tensor yWide = cpu.fromFloats(uniform(3, n * ldy, 1f), n, ldy);
        Tensor gWide = cpu.fromFloats(uniform(4, n * ldy, 1f), n, ldy);
        Tensor dxWide = cpu.fromFloats(uniform(5, n * ldx, 1f), n, ldx);
        Tensor dwWide = cpu.fromFloats(uniform(6, m * ldw, 1f), m, ldw);
        Tensor b = cpu.fromFloats(uniform(7, m, 1f), m);
        Tensor db = cpu.zeros(DType.F32, m);
        Tensor db2 = cpu.zeros(DType.F32, m);
        Tensor x = xWide.narrow(1, 5, k); Tensor w = wWide.narrow(1, 3, k); Tensor y = yWide.narrow(1, 20, m);
        Tensor g = gWide.narrow(1, 1, m); Tensor dx = dxWide.narrow(1, 7, k); Tensor dw = dwWide.narrow(1, 2, k);
        Tensor xc = dense(cpu, x); Tensor wc = dense(cpu, w); Tensor yc = dense(cpu, y); Tensor gc = dense(cpu, g);
        Tensor dxc = dense(cpu, dx); Tensor dwc = dense(cpu, dw)) {
      float[] yBefore = yWide.toFloatArray();
      float[] dxBefore = dxWide.toFloatArray();
      Linear.of(w, b).forward(x, y);
      Linear.of(wc, b).forward(xc, yc);
      assertArrayEquals(yc.toFloatArray(), y.toFloatArray());
      Linear.of(w, b).backward(x, g, dx, dw, db, mode);
      Linear.of(wc, b).backward(xc, gc, dxc, dwc, db2, mode);
      assertArrayEquals(dxc.toFloatArray(), dx.toFloatArray());
      assertArrayEquals(dwc.toFloatArray(), dw.toFloatArray());
      assertArrayEquals(db2.toFloatArray(), db.toFloatArray());
      // Outside the views nothing changed.
      float[] yAfter = yWide.toFloatArray();
      float[] dxAfter = dxWide.toFloatArray();
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < ldy; j++) {
          if (j < 20 || j >= 20 + m) {
            org.junit.jupiter.api.Assertions.assertEquals(yBefore[i * ldy + j], yAfter[i * ldy + j]);
          }
        }
        for (int j = 0; j < ldx; j++) {
          if (j < 7 || j >= 7 + k) {
            org.junit.jupiter.api.Assertions.assertEquals(dxBefore[i * ldx + j], dxAfter[i * ldx + j]);
          }
        }
      }
    }
  }

  @Test
  void linearOnNarrowedTensorsMatchesTorch() {
    int n = 16, k = 12, m = 9, ldx = 20;
    float[] xw = uniform(11, n * ldx, 1f);
    float[] w = uniform(12, m * k, 1f);
    float[] expected;
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor xt = Torch.tensor(xw, n, ldx).narrow(1, 4, k);
      expected = Torch.floats(torch.linear(xt, Torch.tensor(w, m, k)));
    }
    try (Device cpu = Device.cpu(); Tensor xWide = cpu.fromFloats(xw, n, ldx); Tensor x = xWide.narrow(1, 4, k);
        Tensor wt = cpu.fromFloats(w, m, k); Tensor y = cpu.zeros(DType.F32, n, m)) {
      Linear.of(wt, null).forward(x, y);
      assertClose(expected, y.toFloatArray(), 1e-5 * Math.sqrt(k), 1e-4, "y");
    }
  }

  @Test
  void qkvProjectionsWriteColumnSlicesOfOneBufferSeenAsHeads() {
    // q, k, v = x Wq^T, x Wk^T, x Wv^T into one [B*S, 3*H*D] buffer, then each slice seen as
    // [B, S, H, D] without a copy; weights are entries of one parameter blob.
    int b = 2, s = 3, h = 2, d = 4, e = 8, hd = h * d;
    try (Device cpu = Device.cpu();
        ParameterBlob params = ParameterBlob.builder()
            .add("q_proj.weight", DType.F32, hd, e).add("k_proj.weight", DType.F32, hd, e)
            .add("v_proj.weight", DType.F32, hd, e).build(cpu);
        Tensor x = cpu.fromFloats(uniform(20, b * s * e, 1f), b, s, e);
        Tensor qkv = cpu.zeros(DType.F32, b * s, 3 * hd)) {
      String[] names = {"q_proj.weight", "k_proj.weight", "v_proj.weight"};
      for (int i = 0; i < 3; i++) {
        params.tensor(names[i]).write(uniform(30 + i, hd * e, 1f));
      }
      try (Tensor x2 = x.reshape(b * s, e)) {
        for (int i = 0; i < 3; i++) {
          try (Tensor slice = qkv.narrow(1, i * hd, hd); Tensor alone = cpu.zeros(DType.F32, b * s, hd)) {
            Linear.of(params.tensor(names[i]), null).forward(x2, slice);
            Linear.of(params.tensor(names[i]), null).forward(x2, alone);
            assertArrayEquals(alone.toFloatArray(), slice.toFloatArray());
            try (Tensor heads = qkv.view(i * hd, new long[] {b, s, h, d}, new long[] {s * 3L * hd, 3L * hd, d, 1})) {
              assertArrayEquals(alone.toFloatArray(), heads.toFloatArray());
            }
          }
        }
      }
    }
  }

  @Test
  void loraOnRowViewsMatchesContiguousCopiesExactly() {
    int n = 21, k = 16, m = 10, r = 3, ld = 40;
    try (Device cpu = Device.cpu();
        Tensor wide = cpu.fromFloats(uniform(40, n * ld, 1f), n, ld);
        Tensor w = cpu.fromFloats(uniform(41, m * k, 1f), m, k);
        Tensor a = cpu.fromFloats(uniform(42, r * k, 1f), r, k);
        Tensor bb = cpu.fromFloats(uniform(43, m * r, 1f), m, r);
        Tensor x = wide.narrow(1, 0, k); Tensor y = wide.narrow(1, k, m); Tensor g = wide.narrow(1, k + m, m);
        Tensor dxWide = cpu.zeros(DType.F32, n, ld); Tensor dx = dxWide.narrow(1, 3, k);
        Tensor u = cpu.zeros(DType.F32, n, r); Tensor u2 = cpu.zeros(DType.F32, n, r);
        Tensor dA = cpu.zeros(DType.F32, r, k); Tensor dB = cpu.zeros(DType.F32, m, r);
        Tensor dA2 = cpu.zeros(DType.F32, r, k); Tensor dB2 = cpu.zeros(DType.F32, m, r);
        Tensor xc = dense(cpu, x); Tensor gc = dense(cpu, g); Tensor yc = cpu.zeros(DType.F32, n, m);
        Tensor dxc = cpu.zeros(DType.F32, n, k)) {
      LoraAdapter adapter = LoraAdapter.of(a, bb, 0.5f);
      LoraMatmul.forward(x, w, adapter, y, u);
      LoraMatmul.forward(xc, w, adapter, yc, u2);
      assertArrayEquals(yc.toFloatArray(), y.toFloatArray());
      assertArrayEquals(u2.toFloatArray(), u.toFloatArray());
      assertArrayEquals(gc.toFloatArray(), g.toFloatArray());  // y's columns lie beside g's: g untouched
      LoraMatmul.backward(x, w, adapter, g, u, dx, dA, dB, GradMode.OVERWRITE);
      LoraMatmul.backward(xc, w, adapter, gc, u2, dxc, dA2, dB2, GradMode.OVERWRITE);
      assertArrayEquals(dxc.toFloatArray(), dx.toFloatArray());
      assertArrayEquals(dA2.toFloatArray(), dA.toFloatArray());
      assertArrayEquals(dB2.toFloatArray(), dB.toFloatArray());
      // W, A, B stay contiguous-only in LoRA: a column view of W is rejected naming it.
      try (Tensor wWide = cpu.zeros(DType.F32, m, k + 1); Tensor wv = wWide.narrow(1, 0, k)) {
        assertMessage(() -> LoraMatmul.forward(xc, wv, adapter, yc, u2), "argument 'W' is a non-contiguous view");
      }
    }
  }

  @Test
  void viewsTheGemmCannotReadAreRejectedNamingTheArgument() {
    int n = 4, k = 3, m = 2;
    try (Device cpu = Device.cpu(); Tensor base = cpu.fromFloats(uniform(50, n * 2 * k, 1f), n, 2 * k);
        Tensor strided = base.view(0, new long[] {n, k}, new long[] {2L * k, 2});  // column stride 2
        Tensor w = cpu.fromFloats(uniform(51, m * k, 1f), m, k);
        Tensor y = cpu.zeros(DType.F32, n, m);
        Tensor yWide = cpu.zeros(DType.F32, n, 4);
        Tensor overlapping = base.view(1, new long[] {n, m}, new long[] {2L * k, 1});
        Tensor xOk = base.narrow(1, 3, k);
        Tensor yOverlapsX = base.narrow(1, 1, m)) {
      assertMessage(() -> Linear.of(w, null).forward(strided, y), "argument 'x' is a view with shape [4, 3] and strides [6, 2]");
      try (Tensor wT = w.view(0, new long[] {m, k}, new long[] {1, m})) {
        assertMessage(() -> Linear.of(wT, null).forward(xOk, y), "argument 'W' is a view");
      }
      // y lies in the same storage as x: columns 1..2 vs 3..5 are disjoint (allowed) ...
      Linear.of(w, null).forward(xOk, yOverlapsX);
      // ... but columns 1..2 overlap x = columns 0..2 (rejected, naming both).
      try (Tensor x0 = base.narrow(1, 0, k)) {
        assertMessage(() -> Linear.of(w, null).forward(x0, overlapping), "argument 'y' is a view that overlaps 'x'");
      }
      try (Tensor flat = yWide.reshape(4 * n); Tensor bias = flat.narrow(0, 2, m)) {
        Linear.of(w, bias).forward(xOk, y);  // a contiguous 1-D view is a fine bias
      }
    }
  }
}

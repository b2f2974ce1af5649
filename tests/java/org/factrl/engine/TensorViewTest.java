package org.factrl.engine;

import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.factrl.layers.SwiGlu;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Views (reshape, narrow on every dim, row ranges, general strided views) through tensor I/O,
 * against a plain index loop over the base tensor's values (exact: I/O only moves bits);
 * ownership errors; rejection of non-contiguous views by an op that needs contiguous input.
 */
class TensorViewTest {

  static void assertMessage(Executable call, String... fragments) {
    FactRlException e = assertThrows(FactRlException.class, call);
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), () -> "message '" + e.getMessage() + "' lacks '" + f + "'");
    }
  }

  // Elements of a [d0, d1, d2] row-major array in the view [i0, i1, i2] -> base[(o0 + i0)...] of a
  // narrow of dimension dim.
  private static float[] narrowByLoop(float[] base, int d0, int d1, int d2, int dim, int start, int len) {
    int[] shape = {d0, d1, d2};
    shape[dim] = len;
    float[] out = new float[shape[0] * shape[1] * shape[2]];
    int n = 0;
    for (int i = 0; i < shape[0]; i++) {
      for (int j = 0; j < shape[1]; j++) {
        for (int k = 0; k < shape[2]; k++) {
          int[] at = {i, j, k};
          at[dim] += start;
          out[n++] = base[(at[0] * d1 + at[1]) * d2 + at[2]];
        }
      }
    }
    return out;
  }

  @Test
  void reshapeSharesMemoryAndInfersOneDimension() {
    float[] v = uniform(1, 24, 1f);
    try (Device cpu = Device.cpu(); Tensor t = cpu.fromFloats(v, 6, 4); Tensor r = t.reshape(2, -1, 4)) {
      assertArrayEquals(new long[] {2, 3, 4}, r.shape());
      assertArrayEquals(new long[] {12, 4, 1}, r.strides());
      assertTrue(r.isContiguous());
      assertArrayEquals(v, r.toFloatArray());
      r.write(new float[24]);  // writes through to t
      assertArrayEquals(new float[24], t.toFloatArray());
      assertEquals(1, t.liveViews());
      assertMessage(() -> t.reshape(5, 5), "cannot reshape", "25");
      assertMessage(() -> t.reshape(-1, -1), "more than one -1");
    }
  }

  @Test
  void narrowOnEveryDimensionReadsAndWritesTheRightElements() {
    int d0 = 3, d1 = 5, d2 = 7;
    float[] base = uniform(2, d0 * d1 * d2, 1f);
    int[][] cases = {{0, 1, 2}, {1, 2, 3}, {2, 3, 4}, {2, 0, 7}, {1, 4, 1}};
    try (Device cpu = Device.cpu(); Tensor t = cpu.fromFloats(base, d0, d1, d2)) {
      for (int[] c : cases) {
        int dim = c[0], start = c[1], len = c[2];
        float[] expected = narrowByLoop(base, d0, d1, d2, dim, start, len);
        try (Tensor n = t.narrow(dim, start, len)) {
          assertArrayEquals(expected, n.toFloatArray(), "read of narrow" + java.util.Arrays.toString(c));
          assertEquals(dim == 0 || (dim == 2 && len == d2), n.isContiguous());
          // Write new values through the view: exactly those elements of the base change.
          float[] fresh = uniform(100 + dim, expected.length, 1f);
          n.write(fresh);
          assertArrayEquals(fresh, n.toFloatArray());
          float[] all = t.toFloatArray();
          assertArrayEquals(fresh, narrowByLoop(all, d0, d1, d2, dim, start, len));
          n.fillZero();
          float[] zeroed = t.toFloatArray();
          assertArrayEquals(new float[expected.length], narrowByLoop(zeroed, d0, d1, d2, dim, start, len));
          int changed = 0;
          for (int i = 0; i < base.length; i++) {
            changed += zeroed[i] != all[i] ? 1 : 0;
          }
          assertTrue(changed <= expected.length);
          t.write(base);  // restore
        }
      }
    }
  }

  @Test
  void partialReadsAndWritesAtAnOffsetWalkTheViewInRowMajorOrder() {
    float[] base = uniform(3, 4 * 6, 1f);
    try (Device cpu = Device.cpu(); Tensor t = cpu.fromFloats(base, 4, 6); Tensor cols = t.narrow(1, 1, 3);
        org.bytedeco.javacpp.FloatPointer p = new org.bytedeco.javacpp.FloatPointer(5)) {
      float[] expected = narrowByLoop(base, 1, 4, 6, 2, 1, 3);  // [4, 3] columns 1..3
      cols.read(2, p, 5);  // elements 2..6 of the view: crosses a row boundary
      float[] got = new float[5];
      p.get(got);
      assertArrayEquals(java.util.Arrays.copyOfRange(expected, 2, 7), got);
    }
  }

  @Test
  void rowsAndGeneralStridedViews() {
    float[] base = uniform(4, 8 * 4, 1f);
    try (Device cpu = Device.cpu(); Tensor t = cpu.fromFloats(base, 8, 4);
        Tensor rows = t.rows(2, 3);
        Tensor transposed = t.view(0, new long[] {4, 8}, new long[] {1, 4});
        Tensor everyOther = t.view(1, new long[] {8, 2}, new long[] {4, 2})) {
      assertArrayEquals(java.util.Arrays.copyOfRange(base, 8, 20), rows.toFloatArray());
      assertTrue(rows.isContiguous());
      assertEquals(8, rows.storageOffset());
      float[] tr = transposed.toFloatArray();
      float[] eo = everyOther.toFloatArray();
      for (int i = 0; i < 8; i++) {
        for (int j = 0; j < 4; j++) {
          assertEquals(base[i * 4 + j], tr[j * 8 + i]);
        }
        assertEquals(base[i * 4 + 1], eo[i * 2]);
        assertEquals(base[i * 4 + 3], eo[i * 2 + 1]);
      }
      assertFalse(transposed.isContiguous());
      assertMessage(() -> transposed.reshape(32), "'src' is a non-contiguous view");
      assertMessage(() -> t.view(1, new long[] {8, 4}, new long[] {4, 1}), "reaches elements");
      assertMessage(() -> t.view(0, new long[] {2}, new long[] {-1}), "strides[0]");
      assertMessage(() -> t.narrow(1, 2, 3), "outside dimension 1");
      assertMessage(() -> t.narrow(2, 0, 1), "'dim'");
    }
  }

  @Test
  void copyBetweenStridedAndContiguousViewsAndOtherDtypes() {
    float[] base = uniform(5, 6 * 5, 1f);
    try (Device cpu = Device.cpu(); Tensor t = cpu.fromFloats(base, 6, 5); Tensor cols = t.narrow(1, 1, 2);
        Tensor dense = cpu.zeros(DType.F32, 6, 2)) {
      dense.copyFrom(cols);
      assertArrayEquals(narrowByLoop(base, 1, 6, 5, 2, 1, 2), dense.toFloatArray());
      dense.write(uniform(6, 12, 1f));
      cols.copyFrom(dense);
      assertArrayEquals(dense.toFloatArray(), cols.toFloatArray());
    }
    int[] ids = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    try (Device cpu = Device.cpu(); Tensor t = cpu.fromInts(ids, 3, 4); Tensor col = t.narrow(1, 2, 1)) {
      assertArrayEquals(new int[] {3, 7, 11}, col.toIntArray());
      col.write(new int[] {-1, -2, -3});
      assertArrayEquals(new int[] {1, 2, -1, 4, 5, 6, -2, 8, 9, 10, -3, 12}, t.toIntArray());
    }
    float[] halves = {1f, 2f, 3f, 4f, 5f, 6f};
    try (Device cpu = Device.cpu(); Tensor t = cpu.fromFloats(DType.BF16, halves, 2, 3);
        Tensor col = t.narrow(1, 1, 1)) {
      assertArrayEquals(new float[] {2f, 5f}, col.toFloatArray());
    }
  }

  @Test
  void closingStorageWithLiveViewsIsAnErrorAndChangesNothing() {
    try (Device cpu = Device.cpu()) {
      Tensor t = cpu.fromFloats(new float[] {1, 2, 3, 4}, 2, 2);
      Tensor v = t.rows(1, 1);
      Tensor vv = v.reshape(2);
      assertEquals(2, t.liveViews());
      assertMessage(t::close, "tensor has 2 live views; close them first");
      assertFalse(t.isClosed());
      assertArrayEquals(new float[] {3, 4}, vv.toFloatArray());
      assertMessage(cpu::close, "live tensors");
      v.close();
      vv.close();
      t.close();
      assertMessage(t::toFloatArray, "is closed");
    }
  }

  @Test
  void bytesInUseCountsStorageOnceAndViewsAddNothing() {
    try (Device cpu = Device.cpu()) {
      long before = cpu.bytesInUse();
      try (Tensor t = cpu.zeros(DType.F32, 10, 3)) {
        assertEquals(before + 120, cpu.bytesInUse());
        try (Tensor a = t.reshape(30); Tensor b = t.narrow(1, 0, 2); Tensor c = a.rows(3, 4)) {
          assertEquals(before + 120, cpu.bytesInUse());
        }
      }
      assertEquals(before, cpu.bytesInUse());
    }
  }

  @Test
  void opsRejectNonContiguousViewsNamingTheArgument() {
    try (Device cpu = Device.cpu(); Tensor ab = cpu.fromFloats(uniform(7, 4 * 6, 1f), 4, 6);
        Tensor a = ab.narrow(1, 0, 3); Tensor b = ab.narrow(1, 3, 3); Tensor dense = cpu.zeros(DType.F32, 4, 3);
        Tensor out = cpu.zeros(DType.F32, 4, 3)) {
      assertMessage(() -> SwiGlu.forward(a, dense, out), "argument 'a' is a non-contiguous view");
      assertMessage(() -> SwiGlu.forward(dense, b, out), "argument 'b' is a non-contiguous view");
      try (Tensor rowsA = ab.rows(0, 2); Tensor rowsB = ab.rows(2, 2); Tensor o = cpu.zeros(DType.F32, 2, 6)) {
        SwiGlu.forward(rowsA, rowsB, o);  // contiguous views are fine
        try (Tensor ca = cpu.zeros(DType.F32, 2, 6); Tensor cb = cpu.zeros(DType.F32, 2, 6);
            Tensor o2 = cpu.zeros(DType.F32, 2, 6)) {
          ca.copyFrom(rowsA);
          cb.copyFrom(rowsB);
          SwiGlu.forward(ca, cb, o2);
          assertArrayEquals(o2.toFloatArray(), o.toFloatArray());
        }
      }
    }
  }
}

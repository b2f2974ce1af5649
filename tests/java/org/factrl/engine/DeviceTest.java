package org.factrl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

class DeviceTest {
  @Test
  void tensorRoundTripsValuesAndTracksMemory() {
    try (Device cpu = Device.cpu()) {
      assertEquals(0, cpu.bytesInUse());
      try (Tensor t = cpu.fromFloats(new float[] {1, -2.5f, 3e-8f, 7, 8, 9}, 2, 3)) {
        assertArrayEquals(new long[] {2, 3}, t.shape());
        assertArrayEquals(new float[] {1, -2.5f, 3e-8f, 7, 8, 9}, t.toFloatArray());
        assertEquals(24, cpu.bytesInUse());
        t.fillZero();
        assertArrayEquals(new float[6], t.toFloatArray());
      }
      assertEquals(0, cpu.bytesInUse());
    }
  }

  @Test
  void bf16StorageRoundsToNearestEven() {
    try (Device cpu = Device.cpu();
        Tensor t = cpu.fromFloats(DType.BF16, new float[] {1.0f, 1.00390625f, 1.01171875f, -3.0f}, 4)) {
      // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even mantissa wins (1.0); 1 + 3*2^-8 rounds up.
      assertArrayEquals(new float[] {1.0f, 1.0f, 1.015625f, -3.0f}, t.toFloatArray());
    }
  }

  @Test
  void intTensorsAndCopy() {
    try (Device cpu = Device.cpu();
        Tensor a = cpu.fromInts(new int[] {3, 1, 4}, 3);
        Tensor b = cpu.zeros(DType.I32, 3)) {
      b.copyFrom(a);
      assertArrayEquals(new int[] {3, 1, 4}, b.toIntArray());
    }
  }

  @Test
  void badArgumentsRaiseFactRlExceptionNamingTheArgument() {
    try (Device cpu = Device.cpu()) {
      FactRlException neg = assertThrows(FactRlException.class, () -> cpu.zeros(DType.F32, 2, -1));
      assertTrue(neg.getMessage().contains("shape"), neg.getMessage());
      try (Tensor t = cpu.zeros(DType.F32, 2, 2)) {
        FactRlException len = assertThrows(FactRlException.class, () -> t.write(new float[3]));
        assertTrue(len.getMessage().contains("data"), len.getMessage());
        FactRlException dtype = assertThrows(FactRlException.class, () -> t.toIntArray());
        assertEquals(FactRlException.Status.SHAPE, dtype.status());
        assertTrue(dtype.getMessage().contains("frl_tensor_read_i32"), dtype.getMessage());
        assertThrows(FactRlException.class, () -> t.write((float[]) null));
      }
      // a negative device index is a bad argument like any other (was an IllegalArgumentException)
      FactRlException index = assertThrows(FactRlException.class, () -> Device.cuda(-1));
      assertTrue(index.getMessage().contains("'index'"), index.getMessage());
    }
  }

  /** The pointer overloads check the pointer's extent: the native copy only sees an address. */
  @Test
  void pointerReadsAndWritesStayInsideThePointer() {
    try (Device cpu = Device.cpu();
        Tensor t = cpu.zeros(DType.F32, 8);
        FloatPointer four = new FloatPointer(1f, 2f, 3f, 4f)) {
      t.write(2, four, 4);
      assertArrayEquals(new float[] {0, 0, 1, 2, 3, 4, 0, 0}, t.toFloatArray());
      four.position(1);
      t.read(4, four, 3);  // elements 4..6 of t into 1..3 of the pointer
      float[] back = new float[4];
      four.position(0).get(back);
      assertArrayEquals(new float[] {1, 3, 4, 0}, back);
      four.position(1);
      FactRlException read = assertThrows(FactRlException.class, () -> t.read(0, four, 4));  // 3 left
      assertTrue(read.getMessage().contains("'dst'"), read.getMessage());
      four.position(0);
      FactRlException write = assertThrows(FactRlException.class, () -> t.write(0, four, 8));
      assertTrue(write.getMessage().contains("'src'"), write.getMessage());
      FloatPointer unknown = new FloatPointer((Pointer) four);  // same memory, extent forgotten
      unknown.limit(0);
      assertThrows(FactRlException.class, () -> t.write(0, unknown, 1));
      // the tensor's own range is checked in Java (naming the argument) and again natively
      FactRlException range = assertThrows(FactRlException.class, () -> t.write(6, four, 4));
      assertTrue(range.getMessage().contains("'count'"), range.getMessage());
    }
  }

  @Test
  void closingADeviceWithLiveTensorsIsRefused() {
    Device cpu = Device.cpu();
    Tensor t = cpu.zeros(DType.F32, 4);
    FactRlException e = assertThrows(FactRlException.class, cpu::close);
    assertTrue(e.getMessage().contains("live tensors"), e.getMessage());
    t.close();
    cpu.close();
    cpu.close();  // idempotent
    assertThrows(FactRlException.class, () -> t.toFloatArray());
  }

  @Test
  void cudaWithoutAGpuIsAClearExceptionNotACrash() {
    org.junit.jupiter.api.Assumptions.assumeTrue(Device.cudaDeviceCount() == 0, "a GPU is present");
    FactRlException e = assertThrows(FactRlException.class, () -> Device.cuda(0));
    assertEquals(FactRlException.Status.UNAVAILABLE, e.status());
    assertTrue(e.getMessage().contains("CUDA"), e.getMessage());
  }
}

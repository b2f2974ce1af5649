package org.factrl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

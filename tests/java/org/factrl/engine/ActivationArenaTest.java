package org.factrl.engine;

import static org.factrl.engine.TensorViewTest.assertMessage;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.factrl.layers.SwiGlu;
import org.junit.jupiter.api.Test;

/**
 * Activation arenas: planning with bytesFor, bump allocation, capacity errors, bytesInUse counting
 * the capacity, and the reset generation — a tensor from before a reset is rejected by ops and I/O
 * naming the argument, older ones are closed by the arena.
 */
class ActivationArenaTest {

  @Test
  void plansAllocatesAndCountsTheWholeCapacity() {
    long plan = ActivationArena.bytesFor(DType.F32, 4, 5) + ActivationArena.bytesFor(DType.BF16, 3)
        + ActivationArena.bytesFor(DType.I32, 0);
    assertEquals(128 + 64 + 0, plan);
    try (Device cpu = Device.cpu()) {
      long before = cpu.bytesInUse();
      try (ActivationArena arena = ActivationArena.create(cpu, plan)) {
        assertEquals(before + plan, cpu.bytesInUse());
        Tensor a = arena.allocate(DType.F32, 4, 5);
        Tensor b = arena.allocate(DType.BF16, 3);
        Tensor c = arena.allocate(DType.I32, 0);
        assertEquals(plan, arena.used());
        assertEquals(before + plan, cpu.bytesInUse());  // arena tensors are views
        assertEquals(0, a.storageOffset());
        assertEquals(64, b.storageOffset());  // 128 bytes / 2
        assertEquals(0, c.numel());
        float[] v = uniform(1, 20, 1f);
        a.write(v);
        b.write(new float[] {1, 2, 3});
        assertArrayEquals(v, a.toFloatArray());
        assertArrayEquals(new float[] {1, 2, 3}, b.toFloatArray());
        FactRlException full = assertThrows(FactRlException.class, () -> arena.allocate(DType.F32, 1));
        assertEquals(FactRlException.Status.MEMORY, full.status());
        assertTrue(full.getMessage().contains("192 of 192 bytes used, 64 more requested"), full.getMessage());
      }
      assertEquals(before, cpu.bytesInUse());
    }
  }

  @Test
  void aTensorFromBeforeAResetIsRejectedNamingTheArgument() {
    try (Device cpu = Device.cpu(); ActivationArena arena = ActivationArena.create(cpu, 3 * 64)) {
      Tensor a = arena.allocate(DType.F32, 2, 3);
      Tensor b = arena.allocate(DType.F32, 2, 3);
      Tensor out = arena.allocate(DType.F32, 2, 3);
      a.write(uniform(2, 6, 1f));
      b.write(uniform(3, 6, 1f));
      SwiGlu.forward(a, b, out);
      assertEquals(0, arena.generation());
      arena.reset();
      assertEquals(1, arena.generation());
      assertEquals(0, arena.used());
      Tensor a2 = arena.allocate(DType.F32, 2, 3);  // same memory as a
      Tensor b2 = arena.allocate(DType.F32, 2, 3);
      Tensor out2 = arena.allocate(DType.F32, 2, 3);
      assertMessage(() -> SwiGlu.forward(a, b2, out2), "argument 'a' is a view of an activation arena that was reset");
      assertMessage(() -> SwiGlu.forward(a2, b2, out), "argument 'out' is a view of an activation arena that was reset");
      assertMessage(a::toFloatArray, "activation arena that was reset");
      assertMessage(() -> a.reshape(6), "argument 'src' is a view of an activation arena that was reset");
      a2.write(uniform(2, 6, 1f));
      b2.write(uniform(3, 6, 1f));
      SwiGlu.forward(a2, b2, out2);
      arena.reset();  // tensors from two resets ago are closed by the arena
      assertTrue(a.isClosed());
      assertMessage(a::toFloatArray, "has been reset since");
      assertFalse(a2.isClosed());
      assertMessage(a2::toFloatArray, "activation arena that was reset");
    }
  }

  @Test
  void closingTheArenaWaitsForOtherViewsOfIt() {
    try (Device cpu = Device.cpu()) {
      ActivationArena arena = ActivationArena.create(cpu, 1024);
      Tensor t = arena.allocate(DType.F32, 4, 4);
      Tensor flat = t.reshape(16);
      assertMessage(arena::close, "activation arena has 1 live views; close them first");
      assertFalse(arena.isClosed());
      flat.close();
      arena.close();
      assertTrue(t.isClosed());
      assertMessage(() -> arena.allocate(DType.F32, 1), "is closed");
      assertMessage(() -> ActivationArena.create(cpu, -1), "capacityBytes");
    }
  }
}

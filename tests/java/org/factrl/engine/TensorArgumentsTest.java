package org.factrl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Misuse of a {@link Tensor}'s own methods: a {@link FactRlException} naming the argument, never a raw exception. */
class TensorArgumentsTest {
  static FactRlException fails(Executable call, String... fragments) {
    FactRlException e = assertThrows(FactRlException.class, call);
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
    }
    return e;
  }

  @Test
  void dimOutOfRangeNamesTheArgument() {
    try (Device cpu = Device.cpu(); Tensor t = cpu.zeros(DType.F32, 4, 6)) {
      assertEquals(6, t.dim(1));
      FactRlException e = fails(() -> t.dim(5), "argument 'i'", "5", "2-D", "[4, 6]");
      assertEquals(FactRlException.Status.ARGUMENT, e.status());
      fails(() -> t.dim(-1), "argument 'i'", "-1");
      fails(() -> t.dim(2), "argument 'i'");
    }
  }

  @Test
  void outOfRangeCopiesNameOffsetOrCount() {
    try (Device cpu = Device.cpu();
        Tensor t = cpu.zeros(DType.F32, 8);
        FloatPointer p = new FloatPointer(16)) {
      fails(() -> t.write(-1, p, 1), "argument 'offset'", "-1");
      fails(() -> t.write(9, p, 0), "argument 'offset'", "9");
      fails(() -> t.write(6, p, 4), "argument 'count'", "4", "offset 6", "8 elements");
      fails(() -> t.read(0, p, 9), "argument 'count'", "9");
      fails(() -> t.read(0, p, -2), "argument 'count'", "-2");
      t.write(8, p, 0);  // an empty range at the end is fine
      try (Tensor small = cpu.zeros(DType.F32, 3); Tensor ints = cpu.zeros(DType.I32, 8)) {
        fails(() -> t.copyFrom(small), "argument 'src'", "[3]", "[8]");
        fails(() -> t.copyFrom(ints), "argument 'src'", "I32");
      }
    }
  }

  @Test
  void aClosedArgumentIsNamed() {
    try (Device cpu = Device.cpu(); Tensor t = cpu.fromFloats(new float[] {1, 2}, 2)) {
      Tensor src = cpu.fromFloats(new float[] {3, 4}, 2);
      src.close();
      FactRlException e = fails(() -> t.copyFrom(src), "argument 'src' is closed", "[2]");
      assertEquals(FactRlException.Status.ARGUMENT, e.status());
      assertArrayEquals(new float[] {1, 2}, t.toFloatArray());
      fails(() -> Native.handle(src, "weights"), "argument 'weights' is closed");
      fails(() -> Native.handle(null, "weights"), "argument 'weights' is null");
      assertEquals(null, Native.handleOrNull(null, "weights"));
      // the receiver itself closed: there is no argument to name, the tensor is described
      fails(src::toFloatArray, "tensor [2] is closed");
    }
  }
}

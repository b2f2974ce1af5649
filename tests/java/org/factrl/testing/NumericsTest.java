package org.factrl.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The tolerance check every kernel test relies on fails when it should. */
class NumericsTest {
  @Test
  void assertCloseFailsOnMismatchedNaNAndInfinity() {
    float inf = Float.POSITIVE_INFINITY;
    Numerics.assertClose(new float[] {1, inf, Float.NaN}, new float[] {1.05f, inf, Float.NaN}, 0.1, 0, "ok");
    assertThrows(AssertionFailedError.class, () -> Numerics.assertClose(new float[] {1}, new float[] {1.2f}, 0.1, 0,
        "too far"));
    assertThrows(AssertionFailedError.class, () -> Numerics.assertClose(new float[] {1}, new float[] {Float.NaN}, 1,
        0, "NaN"));
    // inf - inf is NaN: these passed before infinities were compared exactly
    assertThrows(AssertionFailedError.class, () -> Numerics.assertClose(new float[] {inf}, new float[] {-inf}, 1, 0,
        "sign of infinity"));
    assertThrows(AssertionFailedError.class, () -> Numerics.assertClose(new float[] {inf}, new float[] {3e38f}, 1,
        1e-5, "finite for infinite"));
    assertThrows(AssertionFailedError.class, () -> Numerics.assertClose(new float[] {3e38f}, new float[] {inf}, 1,
        1e-5, "infinite for finite"));
  }
}

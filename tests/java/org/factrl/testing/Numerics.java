package org.factrl.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;

/** Random inputs and tolerance checks shared by the kernel tests. */
public final class Numerics {
  private Numerics() {}

  /** Uniform values in [-scale, scale), reproducible from seed. */
  public static float[] uniform(long seed, int n, float scale) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
    }
    return out;
  }

  /**
   * Asserts |actual - expected| <= atol + rtol * |expected| elementwise; the failure names the
   * worst index. NaN must meet NaN and an infinity the same infinity.
   */
  public static void assertClose(float[] expected, float[] actual, double atol, double rtol, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    int worst = -1;
    double worstExcess = 0;
    for (int i = 0; i < expected.length; i++) {
      double e = expected[i];
      double a = actual[i];
      if (Double.isNaN(a) != Double.isNaN(e)) {
        fail(what + ": NaN mismatch at " + i + " (expected " + e + ", got " + a + ")");
      }
      // An infinity must match exactly: inf - inf is NaN, which the excess test below would let pass.
      if ((Double.isInfinite(a) || Double.isInfinite(e)) && a != e) {
        fail(what + ": infinity mismatch at " + i + " (expected " + e + ", got " + a + ")");
      }
      double excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
    if (worst >= 0) {
      fail(String.format("%s: index %d expected %.8g got %.8g (atol %.1e, rtol %.1e)", what, worst,
          expected[worst], actual[worst], atol, rtol));
    }
  }

  /** a + b elementwise (fp32, as a prefilled gradient plus the oracle's gradient). */
  public static float[] plus(float[] a, float[] b) {
    assertEquals(a.length, b.length, "plus: length");
    float[] out = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i] + b[i];
    }
    return out;
  }

  /** Largest absolute difference. */
  public static double maxAbsDiff(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }
}

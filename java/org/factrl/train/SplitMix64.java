package org.factrl.train;

/**
 * SplitMix64 (Steele, Lea, Flood 2014), the generator behind {@code java.util.SplittableRandom},
 * written out so that its whole state is one {@code long} a checkpoint can save and restore, and
 * so that its sequence is fixed by this file, not by a JDK version:
 *
 * <pre>
 *   state += 0x9E3779B97F4A7C15
 *   z = state; z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >>> 27)) * 0x94D049BB133111EB
 *   next = z ^ (z >>> 31)
 * </pre>
 *
 * Not thread-safe.
 */
public final class SplitMix64 {
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;
  private long state;

  public SplitMix64(long state) {
    this.state = state;
  }

  /** The state to save; {@code new SplitMix64(state())} continues the same sequence. */
  public long state() {
    return state;
  }

  public long nextLong() {
    state += GOLDEN;
    return mix(state);
  }

  /** Uniform in [0, bound) (bound > 0), by rejection so that every value is equally likely. */
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be > 0, got " + bound);
    }
    long limit = Long.remainderUnsigned(-1L, bound); // values above 2^64 - 1 - limit would bias
    while (true) {
      long r = nextLong();
      if (Long.compareUnsigned(r, -1L - limit) <= 0) {
        return (int) Long.remainderUnsigned(r, bound);
      }
    }
  }

  /** The finaliser alone: a well-mixed function of {@code z} (derives independent seeds). */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}

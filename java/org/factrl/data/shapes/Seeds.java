package org.factrl.data.shapes;

import com.google.common.hash.Hashing;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Derives independent random streams from a seed and a key, so item i of seed S comes out the same
 * whatever else is generated, in whatever order.
 */
public final class Seeds {
  private Seeds() {}

  /** The stream for item {@code index} of {@code seed}. */
  public static SplittableRandom stream(long seed, long index) {
    return new SplittableRandom(mix(seed * 0x9E3779B97F4A7C15L + mix(index + 0x632BE59BD9B4E019L)));
  }

  /** The stream for a named item (a scene id) of {@code seed}; the name is hashed stably. */
  public static SplittableRandom stream(long seed, String key) {
    return stream(seed, Hashing.farmHashFingerprint64().hashString(key, StandardCharsets.UTF_8).asLong());
  }

  /** SplitMix64's finaliser: a bijection that spreads every input bit over the output. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}

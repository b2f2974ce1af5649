package org.factrl.data.shapes.tasks;

import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/** Fisher–Yates with a given stream ({@link Collections#shuffle} wants a {@link java.util.Random}). */
final class Shuffle {
  private Shuffle() {}

  static <T> void inPlace(List<T> list, SplittableRandom rng) {
    for (int i = list.size() - 1; i > 0; i--) {
      Collections.swap(list, i, rng.nextInt(i + 1));
    }
  }
}

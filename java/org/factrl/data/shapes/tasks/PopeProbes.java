package org.factrl.data.shapes.tasks;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.factrl.data.PopeSampling;
import org.factrl.data.shapes.ObjectKind;

/**
 * POPE probe sets, one per {@link PopeSampling}: up to {@code objects} present kinds ("yes") and as
 * many absent kinds ("no") chosen by the setting's rule, in a random order. The same positives are
 * used in every setting, as in POPE.
 */
final class PopeProbes {
  private PopeProbes() {}

  static ImmutableMap<PopeSampling, ImmutableList<PopeProbe>> generate(SceneFacts f, ObjectStatistics stats,
      int objects, SplittableRandom rng) {
    List<ObjectKind> present = new ArrayList<>(f.present);
    Shuffle.inPlace(present, rng);
    List<ObjectKind> positives = present.subList(0, Math.min(objects, present.size()));
    int n = positives.size();
    ImmutableMap.Builder<PopeSampling, ImmutableList<PopeProbe>> out = ImmutableMap.builder();
    for (PopeSampling sampling : PopeSampling.values()) {
      List<ObjectKind> negatives = negatives(sampling, f, stats, n, rng);
      List<PopeProbe> probes = new ArrayList<>(2 * n);
      for (ObjectKind k : positives) {
        probes.add(new PopeProbe(sampling, k, true));
      }
      for (ObjectKind k : negatives) {
        probes.add(new PopeProbe(sampling, k, false));
      }
      Shuffle.inPlace(probes, rng);
      out.put(sampling, ImmutableList.copyOf(probes));
    }
    return out.build();
  }

  /** The {@code n} absent kinds a setting asks about (see {@link PopeSampling} for the rules). */
  static List<ObjectKind> negatives(PopeSampling sampling, SceneFacts f, ObjectStatistics stats, int n,
      SplittableRandom rng) {
    List<ObjectKind> absent = new ArrayList<>(f.absent); // canonical order: the last tie-break
    switch (sampling) {
      case RANDOM -> Shuffle.inPlace(absent, rng);
      case POPULAR -> absent.sort(Comparator.comparingInt((ObjectKind k) -> -stats.frequency(k)));
      case ADVERSARIAL -> absent.sort(Comparator
          .comparingInt((ObjectKind k) -> sameShapePresent(f, k) ? 0 : 1)
          .thenComparingLong(k -> -cooccurrence(f, stats, k)));
      default -> throw new AssertionError(sampling);
    }
    return absent.subList(0, Math.min(n, absent.size()));
  }

  static boolean sameShapePresent(SceneFacts f, ObjectKind k) {
    return f.scene.count(k.shape(), null, null) > 0;
  }

  static long cooccurrence(SceneFacts f, ObjectStatistics stats, ObjectKind k) {
    long sum = 0;
    for (ObjectKind p : f.present) {
      sum += stats.cooccurrence(p, k);
    }
    return sum;
  }
}

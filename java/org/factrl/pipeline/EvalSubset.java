package org.factrl.pipeline;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.factrl.data.MmhalType;
import org.factrl.data.format.MmhalRecord;
import org.factrl.data.format.PopeRecord;
import org.factrl.eval.EvalData;
import org.factrl.train.DataOrder;
import org.factrl.train.SplitMix64;

/**
 * The pipeline's evaluation subset: the held-out split in a seeded order whose every prefix is
 * balanced, so {@link org.factrl.eval.EvalConfig#limit() limit} N (the first N records of each
 * file) is a fixed seeded subset, not the first scenes of the file:
 *
 * <ul>
 *   <li>MMHal: each question type's records in a seeded permutation, then round-robin over the 8
 *       types in {@link MmhalType} order — N questions hold ⌈N/8⌉ or ⌊N/8⌋ of each type, on
 *       (mostly) distinct images; CHAIR describes each distinct image of those N once;
 *   <li>POPE: per sampling, the "yes" and the "no" probes each in a seeded permutation, then
 *       alternated yes, no, yes, ... — N probes hold ⌈N/2⌉ "yes" (F1 needs both labels).
 * </ul>
 *
 * The order depends only on the records and the seed. The data's {@code sources} gain a
 * {@code subset} entry saying so (the evaluation records it in its settings).
 */
final class EvalSubset {
  private EvalSubset() {}

  static EvalData ordered(EvalData all, long seed) {
    Preconditions.checkNotNull(all, "all");
    Map<MmhalType, List<MmhalRecord>> byType = new EnumMap<>(MmhalType.class);
    for (MmhalRecord r : all.mmhal()) {
      byType.computeIfAbsent(r.questionType(), t -> new ArrayList<>()).add(r);
    }
    List<List<MmhalRecord>> lanes = new ArrayList<>();
    for (Map.Entry<MmhalType, List<MmhalRecord>> e : byType.entrySet()) {
      lanes.add(permuted(e.getValue(), seed, 0x3a7L + e.getKey().ordinal()));
    }
    ImmutableList<MmhalRecord> mmhal = roundRobin(lanes);

    ImmutableMap.Builder<String, ImmutableList<PopeRecord>> pope = ImmutableMap.builder();
    int sampling = 0;
    for (Map.Entry<String, ImmutableList<PopeRecord>> e : all.pope().entrySet()) {
      List<PopeRecord> yes = new ArrayList<>();
      List<PopeRecord> no = new ArrayList<>();
      for (PopeRecord p : e.getValue()) {
        (p.labelYes() ? yes : no).add(p);
      }
      sampling++;
      pope.put(e.getKey(), roundRobin(List.of(permuted(yes, seed, 0x90e0L + 2 * sampling),
          permuted(no, seed, 0x90e1L + 2 * sampling))));
    }
    Map<String, String> sources = new LinkedHashMap<>(all.sources());
    sources.put("subset", "seeded order (seed " + seed + "): MMHal round-robin over the question types, POPE"
        + " alternating yes/no; the first 'limit' records of each");
    return new EvalData(mmhal, all.scenes(), all.images(), pope.build(), ImmutableMap.copyOf(sources));
  }

  private static <T> List<T> permuted(List<T> items, long seed, long salt) {
    int[] p = DataOrder.permutation(items.size(), SplitMix64.mix(seed ^ SplitMix64.mix(salt)), 0);
    List<T> out = new ArrayList<>(items.size());
    for (int i : p) {
      out.add(items.get(i));
    }
    return out;
  }

  private static <T> ImmutableList<T> roundRobin(List<List<T>> lanes) {
    ImmutableList.Builder<T> out = ImmutableList.builder();
    int longest = lanes.stream().mapToInt(List::size).max().orElse(0);
    for (int i = 0; i < longest; i++) {
      for (List<T> lane : lanes) {
        if (i < lane.size()) {
          out.add(lane.get(i));
        }
      }
    }
    return out.build();
  }
}

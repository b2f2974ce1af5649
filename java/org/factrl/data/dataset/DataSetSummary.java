package org.factrl.data.dataset;

import com.google.common.collect.ImmutableMap;
import java.nio.file.Path;
import java.util.Map;

/**
 * What {@link ShapesDataSetWriter#write} produced: scenes per split, records per file (file name →
 * count), what the SFT and preference records hold ({@code contents}: label → count, e.g. SFT
 * turns per task kind, omission pairs), bootstrap pairs the judge rejected, and the wall time.
 */
public record DataSetSummary(Path root, int scenes, ImmutableMap<String, Integer> splitScenes,
    ImmutableMap<String, Integer> records, ImmutableMap<String, Integer> contents, int rejectedPairs,
    double seconds) {

  /** A few lines for a person: where, how many of what, how long. */
  public String describe() {
    StringBuilder s = new StringBuilder();
    s.append(String.format("data set: %s%n", root));
    s.append(String.format("  scenes: %d (", scenes));
    String sep = "";
    for (Map.Entry<String, Integer> e : splitScenes.entrySet()) {
      s.append(sep).append(e.getKey()).append(' ').append(e.getValue());
      sep = ", ";
    }
    s.append(")\n");
    for (Map.Entry<String, Integer> e : records.entrySet()) {
      s.append(String.format("  %-24s %8d records%n", e.getKey(), e.getValue()));
    }
    for (Map.Entry<String, Integer> e : contents.entrySet()) {
      s.append(String.format("    %-40s %8d%n", e.getKey(), e.getValue()));
    }
    if (rejectedPairs > 0) {
      s.append(String.format("  bootstrap pairs left out (judge disagreed): %d%n", rejectedPairs));
    }
    s.append(String.format("  written in %.1f s", seconds));
    return s.toString();
  }
}

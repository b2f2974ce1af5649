package org.factrl.data;

import com.google.common.base.Preconditions;
import java.util.Locale;

/**
 * How POPE picks the absent objects it asks about (the "no" probes). Objects are {@link
 * org.factrl.data.shapes.ObjectKind}s: "colour shape".
 *
 * <ul>
 *   <li>{@link #RANDOM}: absent kinds drawn uniformly.
 *   <li>{@link #POPULAR}: the absent kinds present in the most scenes of the data set (an {@link
 *       org.factrl.data.shapes.tasks.ObjectStatistics} table); ties by canonical kind order.
 *   <li>{@link #ADVERSARIAL}: the most confusable absent kinds. Ranked by, in order: (1) whether a
 *       present object has the same shape (the same shape in an absent colour, an attribute-binding
 *       trap: "red circle" present makes "blue circle" adversarial); (2) how many scenes of the data
 *       set hold the kind together with the present kinds (POPE's co-occurrence), summed over the
 *       present kinds; (3) canonical kind order.
 * </ul>
 */
public enum PopeSampling {
  RANDOM,
  POPULAR,
  ADVERSARIAL;

  /** The lower-case name used in file names and report keys ("random"). */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Reads a setting in any case ("Adversarial"). */
  public static PopeSampling parse(String s) {
    Preconditions.checkNotNull(s, "POPE sampling");
    String n = s.trim().toUpperCase(Locale.ROOT);
    for (PopeSampling p : values()) {
      if (p.name().equals(n)) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown POPE sampling: " + s + " (random, popular or adversarial)");
  }
}

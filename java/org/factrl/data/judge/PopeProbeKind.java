package org.factrl.data.judge;

import com.google.common.base.Preconditions;
import java.util.Locale;

/** How a POPE probe's absent object was chosen. */
public enum PopeProbeKind {
  RANDOM,
  POPULAR,
  ADVERSARIAL;

  /** The lower-case name used as a key in reports ("random"). */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static PopeProbeKind parse(String s) {
    Preconditions.checkNotNull(s, "probe kind");
    return valueOf(s.trim().toUpperCase(Locale.ROOT));
  }
}

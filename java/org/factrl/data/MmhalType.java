package org.factrl.data;

import com.google.common.base.Preconditions;
import java.util.Locale;
import java.util.Optional;

/**
 * The eight MMHal-Bench question types, shared by the task generator, the file codecs and the judge.
 * {@link #mmhalName()} is the {@code question_type} string of MMHal's {@code response_template.json}.
 */
public enum MmhalType {
  /** An attribute (colour, shape, size) of an object that is there. */
  ATTRIBUTE("attribute"),
  /** Asks about an object that is NOT in the image; the right answer says it is not there. */
  ADVERSARIAL_OBJECT("adversarial"),
  /** Compares two objects or two groups (size, count). */
  COMPARISON("comparison"),
  COUNTING("counting"),
  SPATIAL_RELATION("relation"),
  ENVIRONMENT("environment"),
  HOLISTIC_DESCRIPTION("holistic"),
  /** Anything else: which colour is most common, whether all objects share a colour. */
  OTHER("other");

  private final String mmhalName;

  MmhalType(String mmhalName) {
    this.mmhalName = mmhalName;
  }

  /** The {@code question_type} value MMHal files use ("adversarial", "relation", "holistic"). */
  public String mmhalName() {
    return mmhalName;
  }

  /** The type whose {@link #mmhalName()} is exactly {@code name}; empty for anything else. */
  public static Optional<MmhalType> fromMmhalName(String name) {
    for (MmhalType t : values()) {
      if (t.mmhalName.equals(name)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  /**
   * Reads MMHal's name, the enum name in any case, or its words ("adversarial object", "spatial
   * relation"), as a user would type them on a command line.
   *
   * @throws IllegalArgumentException naming the input when no type matches
   */
  public static MmhalType parse(String name) {
    Preconditions.checkNotNull(name, "name");
    String n = name.trim().toLowerCase(Locale.ROOT).replace(' ', '_').replace('-', '_');
    for (MmhalType t : values()) {
      if (t.mmhalName.equals(n) || t.name().toLowerCase(Locale.ROOT).equals(n)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown MMHal question type: " + name);
  }
}

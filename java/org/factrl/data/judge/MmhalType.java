package org.factrl.data.judge;

import com.google.common.base.Preconditions;
import java.util.Locale;

/** The 8 MMHal-Bench question types; {@link #mmhalName()} is the string MMHal files use. */
public enum MmhalType {
  ATTRIBUTE("attribute"),
  ADVERSARIAL_OBJECT("adversarial"),
  COMPARISON("comparison"),
  COUNTING("counting"),
  SPATIAL_RELATION("relation"),
  ENVIRONMENT("environment"),
  HOLISTIC_DESCRIPTION("holistic"),
  OTHER("other");

  private final String mmhalName;

  MmhalType(String mmhalName) {
    this.mmhalName = mmhalName;
  }

  public String mmhalName() {
    return mmhalName;
  }

  /**
   * Reads MMHal's name ("adversarial", "relation", "holistic"), the enum name in any case, or its
   * words ("adversarial object", "spatial relation").
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

  /** Which claim kinds answer a question of this type (all kinds for holistic and other). */
  public boolean answeredBy(Claim c) {
    return switch (this) {
      case ATTRIBUTE -> c.kind() == ClaimKind.ATTRIBUTE
          || (c.kind() == ClaimKind.OBJECT || c.kind() == ClaimKind.COUNT)
          && c.subject().hasAttribute();
      case ADVERSARIAL_OBJECT -> c.kind() == ClaimKind.OBJECT || c.kind() == ClaimKind.NEGATED
          || c.kind() == ClaimKind.COUNT;
      case COMPARISON -> c.kind() == ClaimKind.COMPARISON || c.kind() == ClaimKind.COUNT
          || c.kind() == ClaimKind.ATTRIBUTE && c.attribute().size() != null;
      case COUNTING -> c.kind() == ClaimKind.COUNT || c.kind() == ClaimKind.NEGATED;
      case SPATIAL_RELATION -> c.kind() == ClaimKind.RELATION;
      case ENVIRONMENT -> c.kind() == ClaimKind.ENVIRONMENT;
      case HOLISTIC_DESCRIPTION, OTHER -> true;
    };
  }
}

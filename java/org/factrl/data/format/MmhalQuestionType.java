package org.factrl.data.format;

import java.util.Optional;

/** The 8 MMHal-Bench question types; {@link #jsonName()} is the {@code question_type} value. */
public enum MmhalQuestionType {
  ATTRIBUTE("attribute"),
  ADVERSARIAL("adversarial"),
  COMPARISON("comparison"),
  COUNTING("counting"),
  RELATION("relation"),
  ENVIRONMENT("environment"),
  HOLISTIC("holistic"),
  OTHER("other");

  private final String jsonName;

  MmhalQuestionType(String jsonName) {
    this.jsonName = jsonName;
  }

  public String jsonName() {
    return jsonName;
  }

  public static Optional<MmhalQuestionType> fromJsonName(String name) {
    for (MmhalQuestionType t : values()) {
      if (t.jsonName.equals(name)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }
}

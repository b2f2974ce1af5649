package org.factrl.data.shapes.tasks;

/**
 * The eight MMHal question types. {@link #mmhalName()} is the {@code question_type} string of MMHal's
 * {@code response_template.json}.
 */
public enum QuestionType {
  /** An attribute (colour, shape) of an object that is there. */
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

  QuestionType(String mmhalName) {
    this.mmhalName = mmhalName;
  }

  public String mmhalName() {
    return mmhalName;
  }
}

package org.factrl.data.shapes;

/**
 * Spatial relations between two objects, decided from their centres with a margin so that
 * nearly-aligned objects are in neither relation (the judge then accepts neither claim as true
 * nor counts it as a hallucination).
 */
public enum Relation {
  LEFT_OF("to the left of"),
  RIGHT_OF("to the right of"),
  ABOVE("above"),
  BELOW("below");

  /** Minimum centre distance (fraction of the image side) for a relation to hold. */
  public static final double MARGIN = 0.08;
  /** Centre distance under which the opposite claim is not counted as a hallucination either. */
  public static final double AMBIGUOUS = MARGIN;

  private final String phrase;

  Relation(String phrase) {
    this.phrase = phrase;
  }

  public String phrase() {
    return phrase;
  }

  /** True when {@code a} stands in this relation to {@code b}. */
  public boolean holds(SceneObject a, SceneObject b) {
    return switch (this) {
      case LEFT_OF -> b.x() - a.x() > MARGIN;
      case RIGHT_OF -> a.x() - b.x() > MARGIN;
      case ABOVE -> b.y() - a.y() > MARGIN;
      case BELOW -> a.y() - b.y() > MARGIN;
    };
  }

  public Relation opposite() {
    return switch (this) {
      case LEFT_OF -> RIGHT_OF;
      case RIGHT_OF -> LEFT_OF;
      case ABOVE -> BELOW;
      case BELOW -> ABOVE;
    };
  }
}

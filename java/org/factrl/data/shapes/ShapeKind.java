package org.factrl.data.shapes;

/** The kinds of object in the shapes world, with the words a text uses for them. */
public enum ShapeKind {
  CIRCLE("circle", "circles"),
  SQUARE("square", "squares"),
  TRIANGLE("triangle", "triangles"),
  DIAMOND("diamond", "diamonds"),
  STAR("star", "stars"),
  CROSS("cross", "crosses");

  private final String singular;
  private final String plural;

  ShapeKind(String singular, String plural) {
    this.singular = singular;
    this.plural = plural;
  }

  public String singular() {
    return singular;
  }

  public String plural() {
    return plural;
  }

  /** The word for {@code count} objects of this kind ("circle" for 1, "circles" otherwise). */
  public String noun(int count) {
    return count == 1 ? singular : plural;
  }
}

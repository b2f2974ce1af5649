package org.factrl.data.shapes;

/** Object sizes; {@link #radius()} is the half-extent as a fraction of the image side. */
public enum Size {
  SMALL("small", 0.07),
  LARGE("large", 0.13);

  private final String word;
  private final double radius;

  Size(String word, double radius) {
    this.word = word;
    this.radius = radius;
  }

  public String word() {
    return word;
  }

  public double radius() {
    return radius;
  }
}

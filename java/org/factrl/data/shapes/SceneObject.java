package org.factrl.data.shapes;

import com.google.common.base.Preconditions;

/**
 * One object of a scene. {@code x} and {@code y} are the centre in image coordinates normalised to
 * [0, 1]: x grows to the right, y grows downwards (so "above" means smaller y).
 */
public record SceneObject(int id, ShapeKind shape, Colour colour, Size size, double x, double y) {
  public SceneObject {
    Preconditions.checkArgument(id >= 0, "object id must be >= 0, got %s", id);
    Preconditions.checkNotNull(shape, "shape");
    Preconditions.checkNotNull(colour, "colour");
    Preconditions.checkNotNull(size, "size");
    Preconditions.checkArgument(x >= 0 && x <= 1 && y >= 0 && y <= 1,
        "object %s: position (%s, %s) outside [0, 1]", id, x, y);
  }

  /** "small red circle". */
  public String phrase() {
    return size.word() + " " + colour.word() + " " + shape.singular();
  }
}

package org.factrl.data.shapes;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;

/**
 * A kind of object at the granularity POPE probes and statistics use: a colour and a shape ("red
 * circle"), size ignored. Kinds have a canonical order (colour, then shape, in enum order) and a
 * dense {@link #index()} so tables over kinds are plain arrays.
 */
public record ObjectKind(Colour colour, ShapeKind shape) implements Comparable<ObjectKind> {
  /** Number of distinct kinds. */
  public static final int COUNT = Colour.values().length * ShapeKind.values().length;

  private static final ImmutableList<ObjectKind> ALL;

  static {
    ImmutableList.Builder<ObjectKind> all = ImmutableList.builder();
    for (Colour c : Colour.values()) {
      for (ShapeKind s : ShapeKind.values()) {
        all.add(new ObjectKind(c, s));
      }
    }
    ALL = all.build();
  }

  public ObjectKind {
    Preconditions.checkNotNull(colour, "colour");
    Preconditions.checkNotNull(shape, "shape");
  }

  /** Every kind, in canonical order ({@code all().get(k.index()) == k}). */
  public static ImmutableList<ObjectKind> all() {
    return ALL;
  }

  public static ObjectKind of(SceneObject o) {
    return ALL.get(o.colour().ordinal() * ShapeKind.values().length + o.shape().ordinal());
  }

  public int index() {
    return colour.ordinal() * ShapeKind.values().length + shape.ordinal();
  }

  /** "red circle". */
  public String phrase() {
    return colour.word() + " " + shape.singular();
  }

  /** "red circles" for any count but one. */
  public String phrase(int count) {
    return colour.word() + " " + shape.noun(count);
  }

  /** True when the scene holds at least one object of this kind. */
  public boolean presentIn(Scene scene) {
    return scene.count(shape, colour, null) > 0;
  }

  @Override
  public int compareTo(ObjectKind other) {
    return Integer.compare(index(), other.index());
  }

  @Override
  public String toString() {
    return phrase();
  }
}

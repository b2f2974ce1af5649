package org.factrl.data.judge;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableSet;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Size;

/**
 * A word the judge cannot map to exactly one of the world's shapes, colours or sizes, with the
 * ones it could fairly describe ("teal": blue or green; "rectangle": a square; "medium": either
 * size; "chartreuse", unknown: any colour). An empty set leaves that part open. A claim resting on
 * such a word is "not checkable" ({@link Verdict#UNVERIFIABLE}) when some object it could fairly
 * describe fits, and a hallucination only when none does.
 */
public record Vague(String word, ImmutableSet<ShapeKind> shapes, ImmutableSet<Colour> colours,
    ImmutableSet<Size> sizes) {
  public Vague {
    Preconditions.checkNotNull(word, "word");
    Preconditions.checkNotNull(shapes, "shapes");
    Preconditions.checkNotNull(colours, "colours");
    Preconditions.checkNotNull(sizes, "sizes");
  }

  static Vague colour(String word, Colour... cs) {
    return new Vague(word, ImmutableSet.of(), ImmutableSet.copyOf(cs), ImmutableSet.of());
  }

  static Vague shape(String word, ShapeKind... ss) {
    return new Vague(word, ImmutableSet.copyOf(ss), ImmutableSet.of(), ImmutableSet.of());
  }

  static Vague size(String word, Size... zs) {
    return new Vague(word, ImmutableSet.of(), ImmutableSet.of(), ImmutableSet.copyOf(zs));
  }

  /** Whether the word could fairly describe {@code o}. */
  boolean fits(SceneObject o) {
    return (shapes.isEmpty() || shapes.contains(o.shape()))
        && (colours.isEmpty() || colours.contains(o.colour()))
        && (sizes.isEmpty() || sizes.contains(o.size()));
  }

  boolean aboutShape() {
    return !shapes.isEmpty();
  }
}

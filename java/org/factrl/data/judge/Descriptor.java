package org.factrl.data.judge;

import com.google.common.base.Preconditions;
import java.util.ArrayList;
import java.util.List;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Size;

/**
 * A description of a set of objects, as a noun phrase gives it: every non-null part must match.
 * The empty descriptor matches every object ("objects", "shapes"). {@code foreignNoun} and
 * {@code foreignColour} hold words outside the shapes world ("dog", "pink"); a descriptor with
 * either matches nothing, so asserting it present is a hallucination.
 */
public record Descriptor(ShapeKind shape, Colour colour, Size size, String foreignNoun,
    String foreignColour, Vague vague, Region region) {
  public static final Descriptor ANY = new Descriptor(null, null, null, null, null);

  /** A descriptor without a vague word. */
  public Descriptor(ShapeKind shape, Colour colour, Size size, String foreignNoun,
      String foreignColour) {
    this(shape, colour, size, foreignNoun, foreignColour, null, null);
  }

  /** A descriptor with a vague word and no place. */
  public Descriptor(ShapeKind shape, Colour colour, Size size, String foreignNoun,
      String foreignColour, Vague vague) {
    this(shape, colour, size, foreignNoun, foreignColour, vague, null);
  }

  /** The same description, of the objects in {@code r} ("the circle in the top-left corner"). */
  public Descriptor withRegion(Region r) {
    return new Descriptor(shape, colour, size, foreignNoun, foreignColour, vague, r);
  }

  /** The same description with a vague word ("teal", "rectangle") as well. */
  public Descriptor withVague(Vague v) {
    return new Descriptor(shape, colour, size, foreignNoun, foreignColour, v, region);
  }

  /** Without its vague word: the part the judge can check exactly. */
  public Descriptor exact() {
    return vague == null ? this
        : new Descriptor(shape, colour, size, foreignNoun, foreignColour, null, region);
  }

  public boolean isVague() {
    return vague != null;
  }

  public Descriptor {
    Preconditions.checkArgument(shape == null || foreignNoun == null,
        "a descriptor names a shape or a foreign noun, not both");
    Preconditions.checkArgument(colour == null || foreignColour == null,
        "a descriptor names a colour or a foreign colour, not both");
  }

  public static Descriptor of(ShapeKind shape, Colour colour, Size size) {
    return new Descriptor(shape, colour, size, null, null);
  }

  public static Descriptor of(SceneObject o) {
    return of(o.shape(), o.colour(), o.size());
  }

  public static Descriptor foreign(String noun) {
    return new Descriptor(null, null, null, Preconditions.checkNotNull(noun), null);
  }

  public boolean isEmpty() {
    return equals(ANY);
  }

  /** True when this names a noun (a shape or a foreign noun), not only attributes. */
  public boolean hasNoun() {
    return shape != null || foreignNoun != null || vague != null && vague.aboutShape();
  }

  public boolean hasAttribute() {
    return colour != null || foreignColour != null || size != null
        || vague != null && !vague.aboutShape();
  }

  /** True when it names something outside the shapes world, so no object can match. */
  public boolean isForeign() {
    return foreignNoun != null || foreignColour != null;
  }

  public boolean matches(SceneObject o) {
    return !isForeign() && (shape == null || o.shape() == shape)
        && (colour == null || o.colour() == colour) && (size == null || o.size() == size)
        && (vague == null || vague.fits(o)) && (region == null || region.mayContain(o));
  }

  /** Objects of the scene this describes, in scene order. */
  public List<SceneObject> select(Scene scene) {
    List<SceneObject> out = new ArrayList<>();
    for (SceneObject o : scene.objects()) {
      if (matches(o)) {
        out.add(o);
      }
    }
    return out;
  }

  public int count(Scene scene) {
    return select(scene).size();
  }

  /**
   * Both descriptions at once, or null when they conflict (two different shapes or colours).
   */
  public Descriptor merge(Descriptor other) {
    if (conflicts(shape, other.shape) || conflicts(colour, other.colour)
        || conflicts(size, other.size) || conflicts(foreignNoun, other.foreignNoun)
        || conflicts(foreignColour, other.foreignColour) || conflicts(vague, other.vague)
        || conflicts(region, other.region)) {
      return null;
    }
    ShapeKind s = shape != null ? shape : other.shape;
    Colour c = colour != null ? colour : other.colour;
    Size z = size != null ? size : other.size;
    String fn = foreignNoun != null ? foreignNoun : other.foreignNoun;
    String fc = foreignColour != null ? foreignColour : other.foreignColour;
    if ((s != null && fn != null) || (c != null && fc != null)) {
      return null;
    }
    return new Descriptor(s, c, z, fn, fc, vague != null ? vague : other.vague,
        region != null ? region : other.region);
  }

  private static boolean conflicts(Object a, Object b) {
    return a != null && b != null && !a.equals(b);
  }

  /** "small red circle" / "small red circles"; the empty descriptor is "object(s)". */
  public String phrase(boolean plural) {
    StringBuilder b = new StringBuilder();
    if (size != null) {
      b.append(size.word()).append(' ');
    }
    if (colour != null) {
      b.append(colour.word()).append(' ');
    } else if (foreignColour != null) {
      b.append(foreignColour).append(' ');
    }
    if (vague != null && !vague.aboutShape()) {
      b.append(vague.word()).append(' ');
    }
    if (shape != null) {
      b.append(plural ? shape.plural() : shape.singular());
    } else if (foreignNoun != null) {
      b.append(plural ? Vocabulary.pluralOf(foreignNoun) : foreignNoun);
    } else if (vague != null && vague.aboutShape()) {
      b.append(vague.word());
    } else {
      b.append(plural ? "objects" : "object");
    }
    if (region != null) {
      b.append(' ').append(region.phrase());
    }
    return b.toString();
  }

  public String phrase() {
    return phrase(false);
  }

  @Override
  public String toString() {
    return phrase();
  }
}

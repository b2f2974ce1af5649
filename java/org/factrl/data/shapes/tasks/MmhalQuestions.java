package org.factrl.data.shapes.tasks;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.factrl.data.MmhalType;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.ObjectKind;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Words;

/**
 * One question of each of the eight MMHal types per scene, with a ground-truth answer in the same
 * plain sentences the captions use. Where a type's preferred form does not fit a scene (no object
 * can be named without the asked attribute, no relation holds), a simpler form of the same type is
 * used, so every scene yields all eight types.
 *
 * <p>Two phrasings: the evaluation set's (a few wordings per form, unchanged since the first data
 * set so held-out files stay comparable) and, for SFT, {@code varied}: several wordings per form
 * (the evaluation's among them), so a model learns the question type rather than one template.
 * The answers are the same sentences either way. Every wording is one the exact judge reads as
 * its type (checked over whole data sets by the generator/judge agreement test).
 */
final class MmhalQuestions {
  private MmhalQuestions() {}

  /** The evaluation phrasing. */
  static ImmutableList<MmhalQuestion> generate(SceneFacts f, String description, SplittableRandom rng) {
    return generate(f, description, rng, false);
  }

  /**
   * One question per type. With {@code varied}, wordings are drawn from the longer lists (the
   * random stream is then consumed differently: use another stream than the evaluation's).
   */
  static ImmutableList<MmhalQuestion> generate(SceneFacts f, String description, SplittableRandom rng,
      boolean varied) {
    ImmutableList<String> content = f.imageContent();
    ImmutableList.Builder<MmhalQuestion> out = ImmutableList.builder();
    for (MmhalType type : MmhalType.values()) {
      String[] qa = switch (type) {
        case ATTRIBUTE -> attribute(f, rng, varied);
        case ADVERSARIAL_OBJECT -> adversarial(f, rng, varied);
        case COMPARISON -> comparison(f, rng, varied);
        case COUNTING -> counting(f, rng, varied);
        case SPATIAL_RELATION -> relation(f, rng, varied);
        case ENVIRONMENT -> environment(f, rng, varied);
        case HOLISTIC_DESCRIPTION -> new String[] {varied ? Phrasing.pick(rng, Phrasing.HOLISTIC)
            : rng.nextBoolean() ? "Describe this image in detail." : "What can you see in this image?", description};
        case OTHER -> other(f, rng, varied);
      };
      out.add(new MmhalQuestion(type, qa[0], qa[1], content));
    }
    return out.build();
  }

  private static SceneObject anyObject(SceneFacts f, SplittableRandom rng) {
    return f.scene.objects().get(rng.nextInt(f.scene.objects().size()));
  }

  private static String[] attribute(SceneFacts f, SplittableRandom rng, boolean varied) {
    List<SceneObject> objects = new ArrayList<>(f.scene.objects());
    Shuffle.inPlace(objects, rng);
    boolean colourFirst = rng.nextBoolean();
    for (int pass = 0; pass < 2; pass++) {
      boolean askColour = colourFirst == (pass == 0);
      for (SceneObject o : objects) {
        if (askColour) {
          Optional<String> name = f.name(o, true);
          if (name.isPresent()) {
            return new String[] {varied ? Phrasing.pick(rng, Phrasing.COLOUR_OF, name.get())
                : "What colour is the " + name.get() + "?",
                "The " + name.get() + " is " + o.colour().word() + "."};
          }
        } else {
          Optional<String> name = f.nameWithoutShape(o);
          if (name.isPresent()) {
            return new String[] {varied ? Phrasing.pick(rng, Phrasing.SHAPE_OF, name.get())
                : "What shape is the " + name.get() + "?",
                "The " + name.get() + " is " + Words.withArticle(o.shape().singular()) + "."};
          }
        }
      }
    }
    // Every object has an exact twin: ask about the colours of all of them.
    List<String> colours = new ArrayList<>();
    for (Colour c : Colour.values()) {
      if (f.scene.count(null, c, null) > 0) {
        colours.add(c.word());
      }
    }
    return new String[] {varied ? Phrasing.pick(rng, Phrasing.COLOURS_OF_ALL)
        : "What colours are the objects in the image?", "The objects are " + Words.join(colours) + "."};
  }

  private static String[] adversarial(SceneFacts f, SplittableRandom rng, boolean varied) {
    List<ShapeKind> absentShapes = new ArrayList<>();
    for (ShapeKind k : ShapeKind.values()) {
      if (f.scene.count(k, null, null) == 0) {
        absentShapes.add(k);
      }
    }
    if (!absentShapes.isEmpty() && rng.nextBoolean()) {
      ShapeKind k = absentShapes.get(rng.nextInt(absentShapes.size()));
      String q = varied ? Phrasing.pick(rng, Phrasing.ABOUT_ABSENT_SHAPE, k.singular())
          : rng.nextBoolean() ? "What colour is the " + k.singular() + "?"
          : "Where is the " + k.singular() + " in the image?";
      return new String[] {q, "There is no " + k.singular() + " in the image."};
    }
    ObjectKind k = f.absent.get(rng.nextInt(f.absent.size()));
    String q = varied ? Phrasing.pick(rng, Phrasing.ABOUT_ABSENT_KIND, k.phrase()) : switch (rng.nextInt(3)) {
      case 0 -> "Where is the " + k.phrase() + " in the image?";
      case 1 -> "What size is the " + k.phrase() + "?";
      default -> "What is next to the " + k.phrase() + "?";
    };
    return new String[] {q, "There is no " + k.phrase() + " in the image."};
  }

  private static String[] comparison(SceneFacts f, SplittableRandom rng, boolean varied) {
    Scene s = f.scene;
    if (rng.nextBoolean()) {
      // Sizes of two objects named without their size.
      List<SceneObject[]> pairs = new ArrayList<>();
      for (SceneObject a : s.objects()) {
        for (SceneObject b : s.objects()) {
          if (a.id() < b.id() && a.size() != b.size() && sizeFreeName(f, a).isPresent()
              && sizeFreeName(f, b).isPresent()) {
            pairs.add(new SceneObject[] {a, b});
          }
        }
      }
      if (!pairs.isEmpty()) {
        SceneObject[] p = pairs.get(rng.nextInt(pairs.size()));
        String a = sizeFreeName(f, p[0]).get();
        String b = sizeFreeName(f, p[1]).get();
        boolean aLarger = p[0].size().radius() > p[1].size().radius();
        return new String[] {varied ? Phrasing.pick(rng, Phrasing.LARGER, a, b)
            : "Which is larger, the " + a + " or the " + b + "?",
            "The " + (aLarger ? a : b) + " is larger than the " + (aLarger ? b : a) + ". The "
                + p[0].phrase() + " is " + p[0].size().word() + " and the " + p[1].phrase() + " is "
                + p[1].size().word() + "."};
      }
    }
    if (rng.nextBoolean()) {
      ShapeKind a = anyObject(f, rng).shape();
      ShapeKind b = otherOf(ShapeKind.values(), a, rng);
      int na = s.count(a, null, null);
      int nb = s.count(b, null, null);
      return new String[] {varied ? Phrasing.pick(rng, Phrasing.MORE, a.plural(), b.plural())
          : "Are there more " + a.plural() + " than " + b.plural() + "?",
          (na > nb ? "Yes. " : "No. ") + "There " + (na == 1 ? "is " : "are ") + Words.counted(na, "", a) + " and "
              + Words.counted(nb, "", b) + "."};
    }
    Colour a = anyObject(f, rng).colour();
    Colour b = otherOf(Colour.values(), a, rng);
    int na = s.count(null, a, null);
    int nb = s.count(null, b, null);
    return new String[] {varied ? Phrasing.pick(rng, Phrasing.MORE, a.word() + " objects", b.word() + " objects")
        : "Are there more " + a.word() + " objects than " + b.word() + " objects?",
        (na > nb ? "Yes. " : "No. ") + "There " + (na == 1 ? "is " : "are ") + objects(na, a) + " and "
            + objects(nb, b) + "."};
  }

  /** "a red object", "two red objects", "no blue objects". */
  private static String objects(int n, Colour c) {
    String noun = c.word() + (n == 1 ? " object" : " objects");
    return n == 0 ? "no " + noun : n == 1 ? Words.withArticle(noun) : Words.number(n) + " " + noun;
  }

  private static <T> T otherOf(T[] all, T not, SplittableRandom rng) {
    T t;
    do {
      t = all[rng.nextInt(all.length)];
    } while (t == not);
    return t;
  }

  /** A unique name without the size: the shape, or colour and shape. */
  private static Optional<String> sizeFreeName(SceneFacts f, SceneObject o) {
    if (f.scene.count(o.shape(), null, null) == 1) {
      return Optional.of(o.shape().singular());
    }
    if (f.scene.count(o.shape(), o.colour(), null) == 1) {
      return Optional.of(o.colour().word() + " " + o.shape().singular());
    }
    return Optional.empty();
  }

  private static String[] counting(SceneFacts f, SplittableRandom rng, boolean varied) {
    Scene s = f.scene;
    SceneObject o = anyObject(f, rng);
    return switch (rng.nextInt(3)) {
      case 0 -> new String[] {varied ? Phrasing.pick(rng, Phrasing.HOW_MANY, "objects")
          : "How many objects are there in the image?", f.objectTotal() + "."};
      case 1 -> new String[] {varied ? Phrasing.pick(rng, Phrasing.HOW_MANY, o.shape().plural())
          : "How many " + o.shape().plural() + " are there in the image?",
          YesNoQuestions.countSentence(s.count(o.shape(), null, null), "", o.shape())};
      default -> new String[] {varied ? Phrasing.pick(rng, Phrasing.HOW_MANY, ObjectKind.of(o).phrase(2))
          : "How many " + ObjectKind.of(o).phrase(2) + " are there in the image?",
          YesNoQuestions.countSentence(s.count(o.shape(), o.colour(), null), o.colour().word(), o.shape())};
    };
  }

  private static String[] relation(SceneFacts f, SplittableRandom rng, boolean varied) {
    if (!f.facts.isEmpty()) {
      SceneFacts.Fact fact = f.facts.get(rng.nextInt(f.facts.size()));
      String q = varied ? Phrasing.pick(rng, Phrasing.RELATIVE, fact.a().phrase(), fact.b().phrase())
          : rng.nextBoolean()
          ? "Where is the " + fact.a().phrase() + " relative to the " + fact.b().phrase() + "?"
          : "What is the position of the " + fact.a().phrase() + " relative to the " + fact.b().phrase() + "?";
      return new String[] {q, fact.sentence()};
    }
    // No relation to state: ask where an object (or a group of identical ones) is.
    SceneObject o = anyObject(f, rng);
    int n = f.scene.count(o.shape(), o.colour(), o.size());
    if (n == 1) {
      return new String[] {varied ? Phrasing.pick(rng, Phrasing.WHERE, o.phrase())
          : "Where is the " + o.phrase() + " in the image?",
          "The " + o.phrase() + " is " + SceneFacts.where(o) + "."};
    }
    String plural = o.size().word() + " " + o.colour().word() + " " + o.shape().plural();
    List<String> places = new ArrayList<>();
    for (SceneObject p : f.scene.objects()) {
      if (p.phrase().equals(o.phrase())) {
        places.add("one is " + SceneFacts.where(p));
      }
    }
    return new String[] {varied ? Phrasing.pick(rng, Phrasing.WHERE_ARE, plural)
        : "Where are the " + plural + " in the image?",
        "There are " + Words.number(n) + " " + plural + ": " + Words.join(places) + "."};
  }

  private static String[] environment(SceneFacts f, SplittableRandom rng, boolean varied) {
    String q = varied ? Phrasing.pick(rng, Phrasing.ENVIRONMENT) : switch (rng.nextInt(3)) {
      case 0 -> "Where is this scene set?";
      case 1 -> "What is the background of this image?";
      default -> "What kind of place is shown in this image?";
    };
    return new String[] {q, "The scene is set " + Words.setting(f.scene.environment()) + "."};
  }

  private static String[] other(SceneFacts f, SplittableRandom rng, boolean varied) {
    Scene s = f.scene;
    List<String> colours = new ArrayList<>();
    int best = 0;
    for (Colour c : Colour.values()) {
      best = Math.max(best, s.count(null, c, null));
    }
    List<String> present = new ArrayList<>();
    for (Colour c : Colour.values()) {
      int n = s.count(null, c, null);
      if (n == best) {
        colours.add(c.word());
      }
      if (n > 0) {
        present.add(c.word());
      }
    }
    if (s.objects().size() > 1 && rng.nextBoolean()) {
      String answer = present.size() == 1 ? "Yes. All the objects are " + present.get(0) + "."
          : "No. The objects are " + Words.join(present) + ".";
      return new String[] {varied ? Phrasing.pick(rng, Phrasing.SAME_COLOUR) : "Are all the objects the same colour?",
          answer};
    }
    String most = colours.size() == 1
        ? Words.capitalise(colours.get(0)) + " appears most often: there " + (best == 1 ? "is " : "are ")
            + objects(best, Words.colour(colours.get(0)).orElseThrow()) + "."
        : Words.capitalise(Words.join(colours)) + " appear equally often: there " + (best == 1 ? "is " : "are ")
            + Words.number(best) + " of each.";
    return new String[] {varied ? Phrasing.pick(rng, Phrasing.MOST_COMMON_COLOUR)
        : "Which colour appears most often in the image?", most};
  }
}

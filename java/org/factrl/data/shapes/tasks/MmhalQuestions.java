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
 */
final class MmhalQuestions {
  private MmhalQuestions() {}

  static ImmutableList<MmhalQuestion> generate(SceneFacts f, String description, SplittableRandom rng) {
    ImmutableList<String> content = f.imageContent();
    ImmutableList.Builder<MmhalQuestion> out = ImmutableList.builder();
    for (MmhalType type : MmhalType.values()) {
      String[] qa = switch (type) {
        case ATTRIBUTE -> attribute(f, rng);
        case ADVERSARIAL_OBJECT -> adversarial(f, rng);
        case COMPARISON -> comparison(f, rng);
        case COUNTING -> counting(f, rng);
        case SPATIAL_RELATION -> relation(f, rng);
        case ENVIRONMENT -> environment(f, rng);
        case HOLISTIC_DESCRIPTION -> new String[] {
            rng.nextBoolean() ? "Describe this image in detail." : "What can you see in this image?", description};
        case OTHER -> other(f, rng);
      };
      out.add(new MmhalQuestion(type, qa[0], qa[1], content));
    }
    return out.build();
  }

  private static SceneObject anyObject(SceneFacts f, SplittableRandom rng) {
    return f.scene.objects().get(rng.nextInt(f.scene.objects().size()));
  }

  private static String[] attribute(SceneFacts f, SplittableRandom rng) {
    List<SceneObject> objects = new ArrayList<>(f.scene.objects());
    Shuffle.inPlace(objects, rng);
    boolean colourFirst = rng.nextBoolean();
    for (int pass = 0; pass < 2; pass++) {
      boolean askColour = colourFirst == (pass == 0);
      for (SceneObject o : objects) {
        if (askColour) {
          Optional<String> name = f.name(o, true);
          if (name.isPresent()) {
            return new String[] {"What colour is the " + name.get() + "?",
                "The " + name.get() + " is " + o.colour().word() + "."};
          }
        } else {
          Optional<String> name = f.nameWithoutShape(o);
          if (name.isPresent()) {
            return new String[] {"What shape is the " + name.get() + "?",
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
    return new String[] {"What colours are the objects in the image?", "The objects are " + Words.join(colours) + "."};
  }

  private static String[] adversarial(SceneFacts f, SplittableRandom rng) {
    List<ShapeKind> absentShapes = new ArrayList<>();
    for (ShapeKind k : ShapeKind.values()) {
      if (f.scene.count(k, null, null) == 0) {
        absentShapes.add(k);
      }
    }
    if (!absentShapes.isEmpty() && rng.nextBoolean()) {
      ShapeKind k = absentShapes.get(rng.nextInt(absentShapes.size()));
      String q = rng.nextBoolean() ? "What colour is the " + k.singular() + "?"
          : "Where is the " + k.singular() + " in the image?";
      return new String[] {q, "There is no " + k.singular() + " in the image."};
    }
    ObjectKind k = f.absent.get(rng.nextInt(f.absent.size()));
    String q = switch (rng.nextInt(3)) {
      case 0 -> "Where is the " + k.phrase() + " in the image?";
      case 1 -> "What size is the " + k.phrase() + "?";
      default -> "What is next to the " + k.phrase() + "?";
    };
    return new String[] {q, "There is no " + k.phrase() + " in the image."};
  }

  private static String[] comparison(SceneFacts f, SplittableRandom rng) {
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
        return new String[] {"Which is larger, the " + a + " or the " + b + "?",
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
      return new String[] {"Are there more " + a.plural() + " than " + b.plural() + "?",
          (na > nb ? "Yes. " : "No. ") + "There " + (na == 1 ? "is " : "are ") + Words.counted(na, "", a) + " and "
              + Words.counted(nb, "", b) + "."};
    }
    Colour a = anyObject(f, rng).colour();
    Colour b = otherOf(Colour.values(), a, rng);
    int na = s.count(null, a, null);
    int nb = s.count(null, b, null);
    return new String[] {"Are there more " + a.word() + " objects than " + b.word() + " objects?",
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

  private static String[] counting(SceneFacts f, SplittableRandom rng) {
    Scene s = f.scene;
    SceneObject o = anyObject(f, rng);
    return switch (rng.nextInt(3)) {
      case 0 -> new String[] {"How many objects are there in the image?", f.objectTotal() + "."};
      case 1 -> new String[] {"How many " + o.shape().plural() + " are there in the image?",
          YesNoQuestions.countSentence(s.count(o.shape(), null, null), "", o.shape())};
      default -> new String[] {"How many " + ObjectKind.of(o).phrase(2) + " are there in the image?",
          YesNoQuestions.countSentence(s.count(o.shape(), o.colour(), null), o.colour().word(), o.shape())};
    };
  }

  private static String[] relation(SceneFacts f, SplittableRandom rng) {
    if (!f.facts.isEmpty()) {
      SceneFacts.Fact fact = f.facts.get(rng.nextInt(f.facts.size()));
      String q = rng.nextBoolean()
          ? "Where is the " + fact.a().phrase() + " relative to the " + fact.b().phrase() + "?"
          : "What is the position of the " + fact.a().phrase() + " relative to the " + fact.b().phrase() + "?";
      return new String[] {q, fact.sentence()};
    }
    // No relation to state: ask where an object (or a group of identical ones) is.
    SceneObject o = anyObject(f, rng);
    int n = f.scene.count(o.shape(), o.colour(), o.size());
    if (n == 1) {
      return new String[] {"Where is the " + o.phrase() + " in the image?",
          "The " + o.phrase() + " is " + SceneFacts.where(o) + "."};
    }
    String plural = o.size().word() + " " + o.colour().word() + " " + o.shape().plural();
    List<String> places = new ArrayList<>();
    for (SceneObject p : f.scene.objects()) {
      if (p.phrase().equals(o.phrase())) {
        places.add("one is " + SceneFacts.where(p));
      }
    }
    return new String[] {"Where are the " + plural + " in the image?",
        "There are " + Words.number(n) + " " + plural + ": " + Words.join(places) + "."};
  }

  private static String[] environment(SceneFacts f, SplittableRandom rng) {
    String q = switch (rng.nextInt(3)) {
      case 0 -> "Where is this scene set?";
      case 1 -> "What is the background of this image?";
      default -> "What kind of place is shown in this image?";
    };
    return new String[] {q, "The scene is set " + Words.setting(f.scene.environment()) + "."};
  }

  private static String[] other(SceneFacts f, SplittableRandom rng) {
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
      return new String[] {"Are all the objects the same colour?", answer};
    }
    String most = colours.size() == 1
        ? Words.capitalise(colours.get(0)) + " appears most often: there " + (best == 1 ? "is " : "are ")
            + objects(best, Words.colour(colours.get(0)).orElseThrow()) + "."
        : Words.capitalise(Words.join(colours)) + " appear equally often: there " + (best == 1 ? "is " : "are ")
            + Words.number(best) + " of each.";
    return new String[] {"Which colour appears most often in the image?", most};
  }
}

package org.factrl.data.shapes.tasks;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.factrl.data.shapes.ObjectKind;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.Size;
import org.factrl.data.shapes.Words;

/**
 * Captions and the detailed description. Five captions, one from each template family (total count
 * and setting; the objects by colour and shape; the setting; a relation, or the sizes when no
 * relation can be stated; counts per shape), each family with a few wordings picked at random.
 */
final class Captions {
  static final int CAPTIONS = 5;
  /** Relation sentences at most in a description. */
  static final int DESCRIPTION_RELATIONS = 3;

  private Captions() {}

  static ImmutableList<String> captions(SceneFacts f, SplittableRandom rng) {
    Scene s = f.scene;
    int n = s.objects().size();
    String setting = Words.setting(s.environment());
    String objects = Words.number(n) + " " + (n == 1 ? "object" : "objects");
    ImmutableList.Builder<String> out = ImmutableList.builder();

    out.add(switch (rng.nextInt(3)) {
      case 0 -> f.objectTotal() + " " + setting + ".";
      case 1 -> Words.capitalise(objects) + " " + setting + ".";
      default -> "A picture of " + objects + " " + setting + ".";
    });

    out.add(switch (rng.nextInt(2)) {
      case 0 -> "The image shows " + f.kindList() + ".";
      default -> Words.capitalise(f.kindList()) + (n == 1 ? " is" : " are") + " in the image.";
    });

    out.add(switch (rng.nextInt(3)) {
      case 0 -> "The scene is set " + setting + ".";
      case 1 -> Words.capitalise(s.environment().phrase()) + " with " + objects + ".";
      default -> "The background is " + s.environment().phrase() + ".";
    });

    if (!f.facts.isEmpty()) {
      SceneFacts.Fact fact = f.facts.get(rng.nextInt(f.facts.size()));
      out.add(rng.nextBoolean() ? fact.sentence()
          : "There is " + Words.withArticle(fact.a().phrase()) + " " + fact.relation().phrase() + " the "
              + fact.b().phrase() + ".");
    } else if (n == 1) {
      out.add("The only object is " + Words.withArticle(s.objects().get(0).phrase()) + ".");
    } else {
      out.add(sizes(s));
    }

    out.add(switch (n == 1 ? 0 : rng.nextInt(3)) {
      case 0 -> (firstShapeCount(s) == 1 ? "There is " : "There are ") + f.shapeCounts() + ".";
      case 1 -> "The image contains " + f.shapeCounts() + ".";
      default -> f.objectTotal() + ": " + f.shapeCounts() + ".";
    });
    return out.build();
  }

  /** Every object, counts per shape and per kind, the setting, and up to three relations. */
  static String description(SceneFacts f, SplittableRandom rng) {
    Scene s = f.scene;
    List<String> sentences = new ArrayList<>();
    sentences.add("The scene is set " + Words.setting(s.environment()) + ".");
    sentences.add(f.objectTotal() + ": " + f.shapeCounts() + ".");
    sentences.add("The image shows " + f.objectList() + ".");
    for (ObjectKind k : f.present) {
      int c = f.count(k);
      if (c > 1) {
        sentences.add(Words.thereAre(c, k.colour().word(), k.shape()));
      }
    }
    List<SceneFacts.Fact> facts = new ArrayList<>(f.facts);
    for (int i = 0; i < DESCRIPTION_RELATIONS && !facts.isEmpty(); i++) {
      sentences.add(facts.remove(rng.nextInt(facts.size())).sentence());
    }
    return String.join(" ", sentences);
  }

  /** "There are two small objects and one large object." */
  private static String sizes(Scene s) {
    List<String> parts = new ArrayList<>();
    for (Size size : Size.values()) {
      int c = s.count(null, null, size);
      if (c > 0) {
        parts.add(Words.number(c) + " " + size.word() + " " + (c == 1 ? "object" : "objects"));
      }
    }
    int first = s.count(null, null, Size.values()[0]) > 0 ? s.count(null, null, Size.values()[0])
        : s.objects().size();
    return (first == 1 ? "There is " : "There are ") + Words.join(parts) + ".";
  }

  private static int firstShapeCount(Scene s) {
    SceneObject first = s.objects().get(0);
    return s.count(first.shape(), null, null);
  }
}

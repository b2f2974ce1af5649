package org.factrl.data.shapes.tasks;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.ObjectKind;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Words;
import org.factrl.data.shapes.tasks.YesNoQuestion.Kind;

/**
 * Yes/no questions, exactly balanced: of {@code n} (even) questions per scene, half are answered yes.
 * The kind of each is drawn at random among those the scene supports for that answer; existence
 * always works both ways, so the balance never fails. A "no" relation question asks the opposite of
 * a relation that holds, so its answer is no beyond the ambiguity margin.
 */
final class YesNoQuestions {
  private static final int TRIES = 20;

  private YesNoQuestions() {}

  static ImmutableList<YesNoQuestion> generate(SceneFacts f, int n, SplittableRandom rng) {
    List<Boolean> answers = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      answers.add(i % 2 == 0);
    }
    Shuffle.inPlace(answers, rng);
    List<YesNoQuestion> out = new ArrayList<>(n);
    Set<String> asked = new HashSet<>();
    for (boolean answer : answers) {
      YesNoQuestion q = null;
      for (int t = 0; t < TRIES && (q == null || asked.contains(q.question())); t++) {
        Kind kind = Kind.values()[rng.nextInt(Kind.values().length)];
        q = make(kind, answer, f, rng).orElse(null);
      }
      if (q == null || asked.contains(q.question())) {
        q = existence(answer, f, rng); // always possible; a rare repeat is harmless
      }
      asked.add(q.question());
      out.add(q);
    }
    return ImmutableList.copyOf(out);
  }

  private static Optional<YesNoQuestion> make(Kind kind, boolean answer, SceneFacts f, SplittableRandom rng) {
    return switch (kind) {
      case EXISTENCE -> Optional.of(existence(answer, f, rng));
      case COLOUR -> colour(answer, f, rng);
      case COUNT -> Optional.of(count(answer, f, rng));
      case RELATION -> relation(answer, f, rng);
    };
  }

  private static YesNoQuestion existence(boolean answer, SceneFacts f, SplittableRandom rng) {
    ObjectKind k = answer ? f.present.get(rng.nextInt(f.present.size())) : f.absent.get(rng.nextInt(f.absent.size()));
    String object = Words.withArticle(k.phrase());
    String question = rng.nextBoolean() ? "Is there " + object + " in the image?" : "Can you see " + object + "?";
    return new YesNoQuestion(Kind.EXISTENCE, question, answer, Words.thereAre(f.count(k), k.colour().word(), k.shape()));
  }

  private static Optional<YesNoQuestion> colour(boolean answer, SceneFacts f, SplittableRandom rng) {
    SceneObject o = f.scene.objects().get(rng.nextInt(f.scene.objects().size()));
    Optional<String> name = f.name(o, true);
    if (name.isEmpty()) {
      return Optional.empty();
    }
    Colour asked = o.colour();
    if (!answer) {
      asked = Colour.values()[(o.colour().ordinal() + 1 + rng.nextInt(Colour.values().length - 1))
          % Colour.values().length];
    }
    return Optional.of(new YesNoQuestion(Kind.COLOUR, "Is the " + name.get() + " " + asked.word() + "?", answer,
        "The " + name.get() + " is " + o.colour().word() + "."));
  }

  private static YesNoQuestion count(boolean answer, SceneFacts f, SplittableRandom rng) {
    Scene s = f.scene;
    SceneObject o = s.objects().get(rng.nextInt(s.objects().size()));
    boolean withColour = rng.nextBoolean();
    Colour colour = withColour ? o.colour() : null;
    String adjective = withColour ? o.colour().word() : "";
    ShapeKind shape = o.shape();
    int actual = s.count(shape, colour, null);
    int asked = actual;
    if (!answer) {
      asked = actual == 1 || (actual < Scene.MAX_OBJECTS && rng.nextBoolean()) ? actual + 1 : actual - 1;
    }
    String noun = (adjective.isEmpty() ? "" : adjective + " ") + shape.noun(asked);
    String question = asked == 1 ? "Is there exactly one " + noun + "?"
        : "Are there exactly " + Words.number(asked) + " " + noun + "?";
    return new YesNoQuestion(Kind.COUNT, question, answer, countSentence(actual, adjective, shape));
  }

  /** "There is one red circle." / "There are two circles." */
  static String countSentence(int n, String adjective, ShapeKind shape) {
    String noun = (adjective.isEmpty() ? "" : adjective + " ") + shape.noun(n);
    return (n == 1 ? "There is one " : "There are " + Words.number(n) + " ") + noun + ".";
  }

  private static Optional<YesNoQuestion> relation(boolean answer, SceneFacts f, SplittableRandom rng) {
    if (f.facts.isEmpty()) {
      return Optional.empty();
    }
    SceneFacts.Fact fact = f.facts.get(rng.nextInt(f.facts.size()));
    String a = fact.a().phrase();
    String b = fact.b().phrase();
    String asked = answer ? fact.relation().phrase() : fact.relation().opposite().phrase();
    return Optional.of(new YesNoQuestion(Kind.RELATION, "Is the " + a + " " + asked + " the " + b + "?", answer,
        fact.sentence()));
  }
}

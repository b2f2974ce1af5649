package org.factrl.data.shapes.tasks;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Environment;
import org.factrl.data.shapes.ObjectKind;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Words;

/**
 * A-OKVQA-style multiple choice. Forms: how many of a kind, what colour is an object, what shape is
 * an object, where the scene is set, which of four objects is in the image. Each scene gets distinct
 * forms drawn at random among those it supports; the right choice sits at a random position.
 */
final class MultipleChoiceQuestions {
  private enum Form { COUNT, COLOUR, SHAPE, ENVIRONMENT, PRESENCE }

  private MultipleChoiceQuestions() {}

  static ImmutableList<MultipleChoiceQuestion> generate(SceneFacts f, int n, SplittableRandom rng) {
    List<Form> forms = new ArrayList<>(List.of(Form.values()));
    Shuffle.inPlace(forms, rng);
    List<MultipleChoiceQuestion> out = new ArrayList<>(n);
    for (Form form : forms) {
      if (out.size() == n) {
        break;
      }
      make(form, f, rng).ifPresent(out::add);
    }
    return ImmutableList.copyOf(out);
  }

  private static Optional<MultipleChoiceQuestion> make(Form form, SceneFacts f, SplittableRandom rng) {
    Scene s = f.scene;
    SceneObject o = s.objects().get(rng.nextInt(s.objects().size()));
    switch (form) {
      case COUNT -> {
        ObjectKind k = ObjectKind.of(o);
        int c = f.count(k);
        List<String> wrong = new ArrayList<>();
        List<Integer> others = new ArrayList<>();
        for (int i = 1; i <= Scene.MAX_OBJECTS; i++) {
          if (i != c) {
            others.add(i);
          }
        }
        Shuffle.inPlace(others, rng);
        others.sort(Comparator.comparingInt(i -> Math.abs(i - c))); // stable: near counts, random ties
        for (int i = 0; i < 3; i++) {
          wrong.add(Words.number(others.get(i)));
        }
        String rationale = YesNoQuestions.countSentence(c, k.colour().word(), k.shape()).replace(".", " in the image.");
        return Optional.of(choices("How many " + k.phrase(2) + " are there?", Words.number(c), wrong, rationale, rng));
      }
      case COLOUR -> {
        Optional<String> name = f.name(o, true);
        if (name.isEmpty()) {
          return Optional.empty();
        }
        List<String> wrong = new ArrayList<>();
        for (Colour c : Colour.values()) {
          if (c != o.colour()) {
            wrong.add(c.word());
          }
        }
        return Optional.of(choices("What colour is the " + name.get() + "?", o.colour().word(), pick(wrong, 3, rng),
            "The " + name.get() + " in the image is " + o.colour().word() + ".", rng));
      }
      case SHAPE -> {
        Optional<String> name = f.nameWithoutShape(o);
        if (name.isEmpty()) {
          return Optional.empty();
        }
        List<String> wrong = new ArrayList<>();
        for (ShapeKind k : ShapeKind.values()) {
          if (k != o.shape()) {
            wrong.add(Words.withArticle(k.singular()));
          }
        }
        String right = Words.withArticle(o.shape().singular());
        return Optional.of(choices("What shape is the " + name.get() + "?", right, pick(wrong, 3, rng),
            "The " + name.get() + " in the image is " + right + ".", rng));
      }
      case ENVIRONMENT -> {
        List<String> wrong = new ArrayList<>();
        for (Environment e : Environment.values()) {
          if (e != s.environment()) {
            wrong.add(e.phrase());
          }
        }
        return Optional.of(choices("Where is this scene set?", s.environment().phrase(), pick(wrong, 3, rng),
            clue(s.environment()) + ", so the scene is set " + Words.setting(s.environment()) + ".", rng));
      }
      case PRESENCE -> {
        ObjectKind k = ObjectKind.of(o);
        List<String> wrong = new ArrayList<>();
        for (ObjectKind a : pick(f.absent, 3, rng)) {
          wrong.add(Words.withArticle(a.phrase()));
        }
        String right = Words.withArticle(k.phrase());
        return Optional.of(choices("Which of these objects is in the image?", right, wrong,
            "The image shows " + right + "; the other choices are not in the image.", rng));
      }
      default -> throw new AssertionError(form);
    }
  }

  /** What the backdrop shows, for environment rationales. */
  static String clue(Environment e) {
    return switch (e) {
      case FIELD -> "The ground is covered in green grass";
      case BEACH -> "The ground is covered in sand";
      case SNOW -> "The ground is covered in snow";
      case NIGHT -> "The background is a dark night sky";
      case ROOM -> "The floor is made of wooden planks";
    };
  }

  private static <T> List<T> pick(List<T> from, int n, SplittableRandom rng) {
    List<T> copy = new ArrayList<>(from);
    Shuffle.inPlace(copy, rng);
    return copy.subList(0, n);
  }

  private static MultipleChoiceQuestion choices(String question, String right, List<String> wrong, String rationale,
      SplittableRandom rng) {
    int at = rng.nextInt(MultipleChoiceQuestion.CHOICES);
    List<String> all = new ArrayList<>(wrong.subList(0, MultipleChoiceQuestion.CHOICES - 1));
    all.add(at, right);
    return new MultipleChoiceQuestion(question, all, at, rationale);
  }
}

package org.factrl.data.shapes.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.factrl.data.MmhalType;
import org.factrl.data.PopeSampling;
import org.factrl.data.shapes.Environment;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneGenerator;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.Words;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TaskGeneratorTest {
  private static ImmutableList<Scene> scenes;
  private static ObjectStatistics stats;
  private static List<SceneTasks> tasks;

  @BeforeAll
  static void generate() {
    scenes = SceneGenerator.withSeed(21).scenes(0, 600);
    stats = ObjectStatistics.of(scenes);
    TaskGenerator g = TaskGenerator.withSeed(21);
    tasks = scenes.stream().map(s -> g.generate(s, stats)).toList();
  }

  @Test
  void sameSeedGivesIdenticalTasksDifferentSeedDifferent() {
    TaskGenerator again = TaskGenerator.withSeed(21);
    TaskGenerator other = TaskGenerator.withSeed(22);
    int differ = 0;
    for (int i = 0; i < 50; i++) {
      assertEquals(tasks.get(i), again.generate(scenes.get(i), ObjectStatistics.of(scenes)));
      SceneTasks t = other.generate(scenes.get(i), stats);
      if (!t.captions().equals(tasks.get(i).captions()) || !t.yesNo().equals(tasks.get(i).yesNo())) {
        differ++;
      }
    }
    assertTrue(differ > 40, "tasks differing under another seed: " + differ);
    // Options of one family leave the others' text unchanged (each family has its own stream).
    SceneTasks fewer = TaskGenerator.builder().seed(21).yesNoQuestions(2).build().generate(scenes.get(3), stats);
    assertEquals(tasks.get(3).captions(), fewer.captions());
    assertEquals(tasks.get(3).mmhal(), fewer.mmhal());
    assertEquals(2, fewer.yesNo().size());
  }

  @Test
  void captionsAndDescriptionsAgreeWithTheScene() {
    int checked = 0;
    int unknown = 0;
    for (SceneTasks t : tasks) {
      assertEquals(5, t.captions().size());
      assertEquals(5, new HashSet<>(t.captions()).size(), "captions repeat: " + t.captions());
      SceneTruth truth = new SceneTruth(t.scene());
      for (String c : t.captions()) {
        assertTrue(c.endsWith(".") && Character.isUpperCase(c.charAt(0)), c);
        truth.check(c);
      }
      truth.check(t.description());
      assertTrue(t.description().contains(Words.setting(t.scene().environment())), t.description());
      for (SceneObject o : t.scene().objects()) {
        assertTrue(t.description().contains(o.size().word() + " " + o.colour().word() + " " + o.shape().singular())
            || t.description().contains(o.size().word() + " " + o.colour().word() + " " + o.shape().plural()),
            "description misses object " + o + ": " + t.description());
      }
      checked += truth.checked;
      unknown += truth.unrecognised;
    }
    assertTrue(checked > 20 * unknown, "checked " + checked + " sentences, did not understand " + unknown);
  }

  @Test
  void descriptionsStateRelationsThatHold() {
    int relations = 0;
    for (SceneTasks t : tasks) {
      Matcher m = Pattern.compile("is (to the left of|to the right of|above|below) the").matcher(t.description());
      while (m.find()) {
        relations++;
      }
    }
    // SceneTruth verified each of them through Relation.holds; here: they are common.
    assertTrue(relations > tasks.size(), "relation sentences: " + relations);
  }

  @Test
  void yesNoQuestionsAreBalancedCoverEveryKindAndAreRight() {
    int yes = 0;
    int total = 0;
    Map<YesNoQuestion.Kind, Set<Boolean>> answers = new EnumMap<>(YesNoQuestion.Kind.class);
    for (SceneTasks t : tasks) {
      assertEquals(4, t.yesNo().size());
      assertEquals(2, t.yesNo().stream().filter(YesNoQuestion::answer).count(), "balanced per scene");
      SceneTruth truth = new SceneTruth(t.scene());
      for (YesNoQuestion q : t.yesNo()) {
        yes += q.answer() ? 1 : 0;
        total++;
        answers.computeIfAbsent(q.kind(), k -> new HashSet<>()).add(q.answer());
        assertEquals(q.answer(), recompute(q.question(), truth), t.scene() + ": " + q);
        truth.check(q.explanation());
        assertTrue(q.response().startsWith(q.answer() ? "Yes. " : "No. "));
      }
      assertEquals(truth.checked, t.yesNo().size(), "every explanation is a checkable fact: " + truth.unknown);
    }
    assertEquals(0.5, yes / (double) total, 0.02);
    for (YesNoQuestion.Kind k : YesNoQuestion.Kind.values()) {
      assertEquals(Set.of(true, false), answers.get(k), k + " questions with both answers");
    }
  }

  /** The answer to a generated yes/no question, recomputed from the scene alone. */
  private static boolean recompute(String q, SceneTruth truth) {
    Matcher m;
    if ((m = Pattern.compile("(?:Is there|Can you see) an? (.+?)(?: in the image)?\\?").matcher(q)).matches()) {
      return truth.count(m.group(1)) > 0;
    }
    if ((m = Pattern.compile("(?:Is there|Are there) exactly (\\w+) (.+)\\?").matcher(q)).matches()) {
      return truth.count(m.group(2)) == SceneTruth.number(m.group(1));
    }
    if ((m = Pattern.compile("Is the (.+) (to the left of|to the right of|above|below) the (.+)\\?").matcher(q)).matches()) {
      return SceneTruth.relation(m.group(2)).holds(truth.unique(m.group(1)), truth.unique(m.group(3)));
    }
    if ((m = Pattern.compile("Is the (.+) (\\w+)\\?").matcher(q)).matches()) {
      return truth.unique(m.group(1)).colour() == Words.colour(m.group(2)).orElseThrow();
    }
    throw new AssertionError("unknown question form: " + q);
  }

  @Test
  void multipleChoiceHasFourChoicesAndTheRightAnswer() {
    Set<String> forms = new HashSet<>();
    for (SceneTasks t : tasks) {
      assertEquals(2, t.multipleChoice().size());
      SceneTruth truth = new SceneTruth(t.scene());
      for (MultipleChoiceQuestion q : t.multipleChoice()) {
        String answer = q.answer();
        Matcher m;
        if ((m = Pattern.compile("How many (.+) are there\\?").matcher(q.question())).matches()) {
          assertEquals(Words.number(truth.count(m.group(1))), answer, q.toString());
          forms.add("count");
        } else if ((m = Pattern.compile("What colour is the (.+)\\?").matcher(q.question())).matches()) {
          assertEquals(truth.unique(m.group(1)).colour().word(), answer, q.toString());
          forms.add("colour");
        } else if (q.question().equals("Where is this scene set?")) {
          assertEquals(t.scene().environment().phrase(), answer);
          forms.add("environment");
        } else if (q.question().equals("Which of these objects is in the image?")) {
          for (int i = 0; i < 4; i++) {
            assertEquals(i == q.answerIndex(), truth.count(q.choices().get(i).replaceFirst("^an? ", "")) > 0, q.toString());
          }
          forms.add("presence");
        } else if (q.question().startsWith("What shape is the ")) {
          forms.add("shape");
        } else {
          throw new AssertionError("unknown form: " + q);
        }
        truth.check(q.rationale());
        assertTrue(q.prompt().contains("\n" + q.answerLetter() + ". " + answer), q.prompt());
      }
    }
    assertEquals(Set.of("count", "colour", "environment", "presence", "shape"), forms);
  }

  @Test
  void everySceneHasAllEightMmhalTypesWithTrueAnswers() {
    int adversarialChecked = 0;
    for (SceneTasks t : tasks) {
      assertEquals(List.of(MmhalType.values()), t.mmhal().stream().map(MmhalQuestion::type).toList());
      SceneTruth truth = new SceneTruth(t.scene());
      for (MmhalQuestion q : t.mmhal()) {
        truth.check(q.gtAnswer());
        assertEquals(t.scene().objects().size() + 1, q.imageContent().size());
        assertEquals(t.scene().environment().phrase(), q.imageContent().get(q.imageContent().size() - 1));
      }
      MmhalQuestion adversarial = t.mmhal(MmhalType.ADVERSARIAL_OBJECT);
      Matcher m = Pattern.compile("There is no (.+) in the image\\.").matcher(adversarial.gtAnswer());
      assertTrue(m.matches(), adversarial.gtAnswer());
      assertTrue(adversarial.question().contains(" the " + m.group(1)), adversarial.toString());
      assertEquals(0, truth.count(m.group(1)), adversarial.toString());
      adversarialChecked++;
      assertEquals(t.description(), t.mmhal(MmhalType.HOLISTIC_DESCRIPTION).gtAnswer());
      assertEquals("The scene is set " + Words.setting(t.scene().environment()) + ".",
          t.mmhal(MmhalType.ENVIRONMENT).gtAnswer());
    }
    assertEquals(tasks.size(), adversarialChecked);
    assertEquals("adversarial", MmhalType.ADVERSARIAL_OBJECT.mmhalName());
  }

  @Test
  void popeProbesHaveTheirSettingsAndRightAnswers() {
    int differsFromRandom = 0;
    for (SceneTasks t : tasks) {
      Set<Object> positives = null;
      for (PopeSampling sampling : PopeSampling.values()) {
        ImmutableList<PopeProbe> probes = t.pope(sampling);
        Set<Object> pos = new HashSet<>();
        int negatives = 0;
        for (PopeProbe p : probes) {
          assertEquals(sampling, p.sampling());
          assertEquals(p.present(), p.object().presentIn(t.scene()), p.toString());
          assertEquals("Is there " + Words.withArticle(p.object().phrase()) + " in the image?", p.question());
          if (p.present()) {
            pos.add(p.object());
          } else {
            negatives++;
          }
        }
        assertEquals(pos.size(), negatives, "as many no as yes");
        assertEquals(Math.min(3, (int) t.scene().objects().stream().map(o -> o.colour() + "" + o.shape()).distinct().count()),
            pos.size());
        if (positives != null) {
          assertEquals(positives, pos, "same positives in every setting");
        }
        positives = pos;
      }
      if (!t.pope(PopeSampling.RANDOM).equals(t.pope(PopeSampling.ADVERSARIAL))) {
        differsFromRandom++;
      }
      // Adversarial negatives share a shape with a present object whenever enough such kinds exist.
      SceneFacts f = new SceneFacts(t.scene());
      long sameShapeAbsent = f.absent.stream().filter(k -> PopeProbes.sameShapePresent(f, k)).count();
      for (PopeProbe p : t.pope(PopeSampling.ADVERSARIAL)) {
        if (!p.present() && sameShapeAbsent >= 3) {
          assertTrue(PopeProbes.sameShapePresent(f, p.object()), t.scene() + ": " + p);
        }
      }
    }
    assertTrue(differsFromRandom > tasks.size() / 2);
  }

  @Test
  void popularNegativesAreTheMostFrequentAbsentKinds() {
    Scene probe = scene(Environment.FIELD, obj(0, "red", "circle"));
    // A data set where blue stars are most common, then green crosses, then yellow squares.
    ImmutableList.Builder<Scene> data = ImmutableList.builder();
    for (int i = 0; i < 5; i++) {
      data.add(scene(Environment.BEACH, obj(0, "blue", "star"), obj(1, "red", "circle")));
    }
    for (int i = 0; i < 3; i++) {
      data.add(scene(Environment.BEACH, obj(0, "green", "cross")));
    }
    data.add(scene(Environment.BEACH, obj(0, "yellow", "square"), obj(1, "red", "diamond")));
    ObjectStatistics s = ObjectStatistics.of(data.build());
    assertEquals(9, s.scenes());
    assertEquals(5, s.frequency(kind("blue", "star")));
    assertEquals(5, s.cooccurrence(kind("blue", "star"), kind("red", "circle")));
    SceneFacts f = new SceneFacts(probe);
    assertEquals(List.of(kind("blue", "star")), PopeProbes.negatives(PopeSampling.POPULAR, f, s, 1, null));
    // Ties (red diamond and yellow square, one scene each) go by canonical kind order.
    assertEquals(List.of(kind("blue", "star"), kind("green", "cross"), kind("red", "diamond")),
        PopeProbes.negatives(PopeSampling.POPULAR, f, s, 3, null));
    // Adversarial: circles of other colours first (same shape), the most co-occurring first... all
    // other circles co-occur zero times here, so canonical colour order decides among them.
    List<org.factrl.data.shapes.ObjectKind> adv = PopeProbes.negatives(PopeSampling.ADVERSARIAL, f, s, 5, null);
    assertEquals(List.of(kind("green", "circle"), kind("blue", "circle"), kind("yellow", "circle"),
        kind("purple", "circle"), kind("orange", "circle")), adv);
    SceneTasks t = TaskGenerator.withSeed(1).generate(probe, s);
    assertEquals(Set.of(kind("red", "circle"), kind("blue", "star")),
        t.pope(PopeSampling.POPULAR).stream().map(PopeProbe::object).collect(java.util.stream.Collectors.toSet()));
  }

  @Test
  void adversarialPrefersCooccurringKindsAmongSameShape() {
    Scene probe = scene(Environment.FIELD, obj(0, "red", "circle"));
    ImmutableList.Builder<Scene> data = ImmutableList.builder();
    for (int i = 0; i < 4; i++) {
      data.add(scene(Environment.SNOW, obj(0, "red", "circle"), obj(1, "orange", "circle")));
    }
    data.add(scene(Environment.SNOW, obj(0, "red", "circle"), obj(1, "purple", "star")));
    SceneFacts f = new SceneFacts(probe);
    ObjectStatistics s = ObjectStatistics.of(data.build());
    assertEquals(List.of(kind("orange", "circle"), kind("green", "circle")),
        PopeProbes.negatives(PopeSampling.ADVERSARIAL, f, s, 2, null));
  }

  @Test
  void singleObjectScenesStillGetEveryTask() {
    SceneGenerator one = SceneGenerator.builder().seed(4).objects(1, 1).build();
    TaskGenerator g = TaskGenerator.withSeed(4);
    for (Scene s : one.scenes(0, 100)) {
      SceneTasks t = g.generate(s, ObjectStatistics.empty());
      assertEquals(5, t.captions().size());
      assertEquals(8, t.mmhal().size());
      assertEquals(2, t.yesNo().stream().filter(YesNoQuestion::answer).count());
      assertEquals(2, t.pope(PopeSampling.RANDOM).size());
      assertTrue(t.mmhal(MmhalType.SPATIAL_RELATION).gtAnswer().contains("of the image"),
          t.mmhal(MmhalType.SPATIAL_RELATION).toString());
    }
  }

  @Test
  void builderRejectsBadOptions() {
    assertThrows(IllegalArgumentException.class, () -> TaskGenerator.builder().yesNoQuestions(3));
    assertThrows(IllegalArgumentException.class, () -> TaskGenerator.builder().multipleChoiceQuestions(4));
    assertThrows(IllegalArgumentException.class, () -> TaskGenerator.builder().popeObjects(0));
    assertThrows(NullPointerException.class, () -> TaskGenerator.withSeed(0).generate(scenes.get(0), null));
  }

  @Test
  void textUsesNumberWordsAndAgreement() {
    for (SceneTasks t : tasks) {
      String all = String.join(" ", t.captions()) + " " + t.description();
      assertFalse(all.matches(".*\\d.*"), "digits in text: " + all);
      assertFalse(all.contains("There is two") || all.contains("There are one ") || all.contains("a orange")
          || all.contains("one circles") || all.contains("two circle "), all);
    }
    assertNotEquals(tasks.get(0).captions(), tasks.get(1).captions());
  }

  private static org.factrl.data.shapes.ObjectKind kind(String colour, String shape) {
    return new org.factrl.data.shapes.ObjectKind(Words.colour(colour).orElseThrow(), Words.shape(shape).orElseThrow());
  }

  private static SceneObject obj(int id, String colour, String shape) {
    return new SceneObject(id, Words.shape(shape).orElseThrow(), Words.colour(colour).orElseThrow(),
        org.factrl.data.shapes.Size.SMALL, 0.2 + 0.3 * id, 0.5);
  }

  private static int counter;

  private static Scene scene(Environment e, SceneObject... objects) {
    String id = "t" + counter++;
    return new Scene(id, id + ".png", e, List.of(objects));
  }
}

package org.factrl.data.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.factrl.data.MmhalType;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Environment;
import org.factrl.data.shapes.Relation;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Size;
import org.junit.jupiter.api.Test;

class ExactJudgeTest {
  private final ExactJudge judge = new ExactJudge();
  private final Scene beach = TestScenes.beach();

  private Judgement judge(String answer) {
    return judge.judge(beach, answer);
  }

  private static List<String> reasons(Judgement j) {
    return j.hallucinations().stream().map(ClaimVerdict::reason).toList();
  }

  @Test
  void reasonsNameWhatIsWrong() {
    assertEquals(List.of("no purple star in the scene"), reasons(judge("There is a purple star.")));
    assertEquals(List.of("3 red circles claimed, 2 present"),
        reasons(judge("There are three red circles.")));
    assertEquals(List.of("the small red circle is not to the left of the large red circle"),
        reasons(judge("The small red circle is to the left of the large red circle.")));
    assertEquals(List.of("1 blue square in the scene"), reasons(judge("There is no blue square.")));
    assertEquals(List.of("the star is not blue"), reasons(judge("The star is blue.")));
    assertEquals(List.of("the environment is a sandy beach, not a snowy landscape"),
        reasons(judge("The shapes are in the snow.")));
    assertEquals(List.of("no dog in the scene"), reasons(judge("A dog sits on the sand.")));
  }

  @Test
  void correctClaimsAreNotHallucinations() {
    Judgement j = judge("There are two red circles, a small blue square and a big yellow star on"
        + " a beach. The large circle is to the left of the small circle. Both circles are above"
        + " the square. There is no triangle. The star is larger than the square.");
    assertFalse(j.hallucinated(), j.toString());
    assertEquals(8, j.correctCount(), j.toString());
    assertEquals(6, j.score());
  }

  @Test
  void nearlyAlignedObjectsAreUnverifiableEitherWay() {
    Scene s = new Scene("a", "a.png", Environment.ROOM, List.of(
        TestScenes.obj(0, ShapeKind.CIRCLE, Colour.RED, Size.SMALL, 0.50, 0.20),
        TestScenes.obj(1, ShapeKind.SQUARE, Colour.BLUE, Size.SMALL, 0.53, 0.80)));
    for (String rel : List.of("to the left of", "to the right of")) {
      Judgement j = judge.judge(s, "The circle is " + rel + " the square.");
      assertEquals(1, j.unverifiable().size(), rel);
      assertFalse(j.hallucinated(), rel);
      assertEquals(3, j.score(), "an unverifiable claim is not informative");
    }
    assertTrue(judge.judge(s, "The circle is below the square.").hallucinated());
    assertFalse(judge.judge(s, "The circle is above the square.").hallucinated());
    // Just past the margin the relation is decided.
    Scene t = new Scene("b", "b.png", Environment.ROOM, List.of(
        TestScenes.obj(0, ShapeKind.CIRCLE, Colour.RED, Size.SMALL, 0.40, 0.20),
        TestScenes.obj(1, ShapeKind.SQUARE, Colour.BLUE, Size.SMALL, 0.40 + Relation.MARGIN
            + 0.01, 0.20)));
    assertFalse(judge.judge(t, "The circle is left of the square.").hallucinated());
    assertTrue(judge.judge(t, "The circle is right of the square.").hallucinated());
  }

  @Test
  void anInventedObjectIsOneHallucinationHoweverOftenMentioned() {
    Judgement j = judge("There is a dog. The dog is left of the star. The dog is brown.");
    assertEquals(1, j.hallucinationCount(), j.toString());
    assertEquals(2, j.unverifiable().size());
  }

  @Test
  void scoreFollowsTheRubric() {
    assertEquals(3, judge("I am not sure what the image shows.").score());
    assertEquals(Informativeness.NOT, judge("").informativeness());
    assertEquals(4, judge("There is a star.").score());
    assertEquals(5, judge("There is a star, a square and two red circles.").score());
    assertEquals(0, judge("There is a dog.").score());
    assertEquals(1, judge("There is a dog and a star.").score());
    assertEquals(2, judge("There is a dog, a star, a square and a beach.").score());
    for (Informativeness i : Informativeness.values()) {
      assertEquals(3 + i.ordinal(), ExactJudge.score(i, false));
      assertTrue(ExactJudge.score(i, true) < 3);
    }
  }

  @Test
  void listingWhatIsAbsentEarnsNoInformativeness() {
    // True of every shapes-world image: a policy must not be paid for saying it.
    String absent = "There is no dog. There is no cat. It is not snowy. The star is not pink."
        + " There is no car.";
    Judgement j = judge.judge(beach, MmhalType.HOLISTIC_DESCRIPTION, "Describe the image.", absent);
    assertFalse(j.hallucinated(), j.toString());
    assertEquals(5, j.correctCount());
    assertEquals(0, j.informativeCount());
    assertEquals(3, j.score());
    assertEquals(3, judge("There are no green triangles, no purple crosses and no blue stars.").score());
    assertEquals(3, judge("It is not snowy. It is not night. It is not a room.").score());
    // Appended to a right answer they add nothing either.
    assertScore(MmhalType.COUNTING, "How many red circles are there?", "Two. There is no dog."
        + " There is no cat. It is not snowy.", 4, 4);
    assertScore(MmhalType.ADVERSARIAL_OBJECT, "Is there a dog in the image?", "No. There is no"
        + " cat. There is no car. It is not snowy.", 4, 4);
    assertScore(MmhalType.ATTRIBUTE, "What colour is the star?", "It is not blue.", 3, 3);
    // A false negation is still a hallucination.
    assertEquals(0, judge("There is no star.").score());
    // Negations that answer the question count.
    assertScore(MmhalType.COUNTING, "How many triangles are there?", "There are no triangles.", 4, 4);
    assertScore(MmhalType.ATTRIBUTE, "Is the star blue?", "No, the star is not blue.", 4, 4);
  }

  @Test
  void hedgingBetweenOptionsClaimsEveryOption() {
    // Each of these read as a confident right answer (the first option) and scored 4.
    assertScore(MmhalType.COUNTING, "How many red circles are there?", "Two or three.", 1, 1);
    assertScore(MmhalType.COUNTING, "How many red circles are there?", "1, 2, 3 or 4.", 1, 1);
    assertScore(MmhalType.ATTRIBUTE, "What colour is the star?", "Yellow or blue.", 1, 1);
    assertScore(MmhalType.ATTRIBUTE, "What colour is the star?", "Yellow, red, green, blue.", 1, 1);
    assertScore(MmhalType.ATTRIBUTE, "What shape is the blue object?", "A square or a circle.", 1, 1);
    // "Not three." denies a count (true here) but does not answer; it was read as "three".
    assertScore(MmhalType.COUNTING, "How many red circles are there?", "Not three.", 3, 3);
    // Several colours of a plural topic are fine when all are there.
    assertScore(MmhalType.ATTRIBUTE, "What colour are the circles?", "Red.", 4, 4);
    assertScore(MmhalType.COUNTING, "How many circles are there?", "Two, one large and one small.",
        4, 4);
  }

  @Test
  void restatingOneObjectMorePreciselyIsOneFact() {
    Judgement j = judge("There is a star. There is a yellow star. There is a large star. There is"
        + " a large yellow star.");
    assertEquals(4, j.correctCount());
    assertEquals(1, j.informativeCount(), j.toString());
    assertEquals(4, j.score());
    // Different objects, or an object beside a fact about it, still count separately.
    assertEquals(3, judge("There is a star, a square and a circle.").informativeCount());
    assertEquals(2, judge("There is a star. The star is yellow.").informativeCount());
  }

  @Test
  void hallucinationRateIsTheShareBelowThree() {
    List<Judgement> js = List.of(judge("There is a star."), judge("There is a dog."),
        judge("There are five objects."), judge("The star is yellow."));
    assertEquals(0.5, ExactJudge.hallucinationRate(js));
    assertEquals((4 + 0 + 0 + 4) / 4.0, ExactJudge.meanScore(js));
    assertEquals(0.0, ExactJudge.hallucinationRate(List.of()));
  }

  private void assertScore(MmhalType type, String q, String a, int min, int max) {
    Judgement j = judge.judge(beach, type, q, a);
    assertTrue(j.score() >= min && j.score() <= max,
        type + " '" + a + "' scored " + j.score() + ": " + j.verdicts());
    assertEquals(type, j.type());
    // The type inferred from the question text agrees.
    assertEquals(type, judge.judge(beach, q, a).type(), q);
  }

  @Test
  void attributeQuestions() {
    String q = "What colour is the star?";
    assertScore(MmhalType.ATTRIBUTE, q, "Yellow.", 4, 4);
    assertScore(MmhalType.ATTRIBUTE, q, "The star is yellow and it is to the right of the"
        + " square.", 5, 6);
    assertScore(MmhalType.ATTRIBUTE, q, "It is blue.", 0, 0);
    assertScore(MmhalType.ATTRIBUTE, q, "The star is green, and it is large.", 1, 2);
    assertScore(MmhalType.ATTRIBUTE, "What shape is the blue object?", "A square.", 4, 4);
    assertScore(MmhalType.ATTRIBUTE, "What shape is the blue object?", "It is a circle.", 0, 0);
    assertScore(MmhalType.ATTRIBUTE, "Is the star yellow?", "Yes.", 4, 4);
    assertScore(MmhalType.ATTRIBUTE, "Is the star yellow?", "No, it is orange.", 0, 0);
  }

  @Test
  void adversarialObjectQuestions() {
    String q = "Is there a dog in the image?";
    assertScore(MmhalType.ADVERSARIAL_OBJECT, q, "No, there is no dog.", 4, 4);
    assertScore(MmhalType.ADVERSARIAL_OBJECT, q, "No. I only see two red circles, a blue square"
        + " and a yellow star.", 5, 6);
    assertScore(MmhalType.ADVERSARIAL_OBJECT, q, "Yes.", 0, 0);
    assertScore(MmhalType.ADVERSARIAL_OBJECT, q, "Yes, a brown dog is lying next to the star.",
        1, 2);
    assertScore(MmhalType.ADVERSARIAL_OBJECT, "Is there a green triangle?", "There isn't.", 3, 4);
  }

  @Test
  void comparisonQuestions() {
    String q = "Which is bigger, the star or the square?";
    assertScore(MmhalType.COMPARISON, q, "The star.", 4, 4);
    assertScore(MmhalType.COMPARISON, q, "The star is bigger than the square, which is small and"
        + " blue.", 5, 6);
    assertScore(MmhalType.COMPARISON, q, "The square is bigger.", 0, 0);
    assertScore(MmhalType.COMPARISON, "Are there more circles than squares?", "Yes.", 4, 4);
    assertScore(MmhalType.COMPARISON, "Are there more circles than squares?",
        "No, there are fewer circles than squares.", 0, 0);
  }

  @Test
  void countingQuestions() {
    String q = "How many red circles are there?";
    assertScore(MmhalType.COUNTING, q, "Two.", 4, 4);
    assertScore(MmhalType.COUNTING, q, "There are 2 red circles, one large and one small, above a"
        + " blue square.", 5, 6);
    assertScore(MmhalType.COUNTING, q, "There are three.", 0, 0);
    // A wrong count does not answer the question, whatever else is right.
    assertScore(MmhalType.COUNTING, q, "I see three red circles and a yellow star.", 0, 0);
    assertScore(MmhalType.COUNTING, "How many objects are there?", "Four.", 4, 4);
    assertScore(MmhalType.COUNTING, "How many triangles are there?", "None.", 4, 4);
    assertScore(MmhalType.COUNTING, "How many triangles are there?", "There is one.", 0, 0);
  }

  @Test
  void spatialRelationQuestions() {
    String q = "Where is the square relative to the star?";
    assertScore(MmhalType.SPATIAL_RELATION, q, "To the left.", 4, 4);
    assertScore(MmhalType.SPATIAL_RELATION, q, "The square is to the left of the star and below"
        + " it.", 5, 5);
    assertScore(MmhalType.SPATIAL_RELATION, q, "It is on the right.", 0, 0);
    assertScore(MmhalType.SPATIAL_RELATION, "Is the square above the star?", "No.", 4, 4);
    assertScore(MmhalType.SPATIAL_RELATION, "Is the square above the star?", "Yes, it is.", 0, 0);
  }

  @Test
  void environmentQuestions() {
    String q = "What is the environment in the image?";
    assertScore(MmhalType.ENVIRONMENT, q, "A sandy beach.", 4, 4);
    assertScore(MmhalType.ENVIRONMENT, q, "The shapes lie on a sandy beach; there are four of"
        + " them, including a yellow star.", 5, 6);
    assertScore(MmhalType.ENVIRONMENT, q, "A snowy landscape at night.", 0, 0);
    assertScore(MmhalType.ENVIRONMENT, "Is the scene set on a beach?", "Yes.", 4, 4);
    assertScore(MmhalType.ENVIRONMENT, "Is the scene set on a beach?", "No, it is a grassy"
        + " field.", 0, 0);
  }

  @Test
  void holisticDescriptions() {
    String q = "Describe the image in detail.";
    assertScore(MmhalType.HOLISTIC_DESCRIPTION, q, "The image shows four objects on a sandy beach:"
        + " two red circles, a small blue square and a large yellow star. The large red circle is"
        + " to the left of the small one, and both circles are above the star.", 6, 6);
    assertScore(MmhalType.HOLISTIC_DESCRIPTION, q, "A beach.", 4, 4);
    assertScore(MmhalType.HOLISTIC_DESCRIPTION, q, "The image shows a red circle, a green"
        + " triangle, a blue square and a yellow star on a beach.", 2, 2);
    assertScore(MmhalType.HOLISTIC_DESCRIPTION, q, "A cat.", 0, 0);
  }

  @Test
  void otherQuestions() {
    String q = "What would happen if the circles rolled away?";
    assertScore(MmhalType.OTHER, q, "The square and the star would remain on the beach.", 4, 5);
    assertScore(MmhalType.OTHER, q, "The dog would chase them.", 0, 0);
    assertScore(MmhalType.OTHER, q, "Nobody knows.", 3, 3);
  }

  @Test
  void mmhalTypeNames() {
    assertEquals(MmhalType.ADVERSARIAL_OBJECT, MmhalType.parse("adversarial"));
    assertEquals(MmhalType.SPATIAL_RELATION, MmhalType.parse("relation"));
    assertEquals(MmhalType.SPATIAL_RELATION, MmhalType.parse("spatial relation"));
    assertEquals(MmhalType.HOLISTIC_DESCRIPTION, MmhalType.parse("HOLISTIC_DESCRIPTION"));
    assertThrows(IllegalArgumentException.class, () -> MmhalType.parse("colour"));
  }

  @Test
  void judgingIsDeterministicAndRejectsNulls() {
    String a = "Two red circles are above a blue square on the beach; there is no dog.";
    assertEquals(judge(a), judge(a));
    assertThrows(NullPointerException.class, () -> judge.judge(beach, null));
    assertThrows(NullPointerException.class, () -> judge.judge(null, "x"));
  }
}

package org.factrl.data.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Environment;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Size;
import org.junit.jupiter.api.Test;

/**
 * The six failure classes of issue 11, each with the issue's own examples and more phrasings, on
 * the beach scene of {@link TestScenes#beach} (large red circle at (0.2, 0.3), small red circle
 * (0.7, 0.3), small blue square (0.5, 0.8), large yellow star (0.8, 0.7)). Each row: question (or
 * empty), answer, and whether it hallucinates. The independent answer set ({@link
 * IndependentSetTest}) measures the same classes on answers written without reading the judge.
 */
class JudgeClassesTest {
  private final ExactJudge judge = new ExactJudge();
  private final Scene beach = TestScenes.beach();

  private void check(String[][] rows) {
    List<String> wrong = new ArrayList<>();
    for (String[] r : rows) {
      Judgement j = r[0].isEmpty() ? judge.judge(beach, r[1]) : judge.judge(beach, r[0], r[1]);
      boolean expected = r[2].equals("H");
      if (j.hallucinated() != expected) {
        wrong.add("'" + r[0] + "' -> '" + r[1] + "': expected " + r[2] + ", got " + j.verdicts());
      }
    }
    assertTrue(wrong.isEmpty(), String.join("\n", wrong));
  }

  @Test
  void class1NegationScope() {
    Scene snow = new Scene("snow", "snow.png", Environment.SNOW, beach.objects());
    // the question's setting is not denied by "No"
    assertFalse(judge.judge(snow, "Is there a kite on the snow?", "No, there isn't any kite.")
        .hallucinated());
    check(new String[][] {
        {"Are the square and the star the same size?", "No, the star is bigger.", "T"},
        {"Are the square and the star the same size?", "No, the square is bigger.", "H"},
        {"", "I see no orange star.", "T"},
        {"", "I'm not certain, but there are two circles and a square on a beach.", "T"},
        {"", "I'm not certain, but there are three circles on a beach.", "H"},
        {"", "I could not say for sure, but the star is yellow.", "T"},
        {"", "Unless I am wrong, the star is blue.", "H"},
        {"", "If I'm not mistaken, the square is blue.", "T"},
        {"Is there a dog?", "Definitely not.", "T"},
        {"Is there a star?", "Definitely not.", "H"},
        {"Is there a dog?", "That one is absent.", "T"},
        {"Is the triangle blue?", "No.", "T"},
        {"", "The dog is not there.", "T"},
        {"", "The star is missing.", "H"},
    });
  }

  @Test
  void class2Quantifiers() {
    check(new String[][] {
        {"", "Every shape is red.", "H"},
        {"", "Both circles are red.", "T"},
        {"", "All the circles are red.", "T"},
        {"", "Each circle is red.", "T"},
        {"", "Most shapes are blue.", "H"},
        {"", "There are only circles.", "H"},
        {"", "Only the star is yellow.", "T"},
        {"", "Only the square is red.", "H"},
        {"", "None of the shapes are green.", "T"},
        {"", "None of the shapes are red.", "H"},
        {"", "Neither circle is blue.", "T"},
        {"", "Neither circle is red.", "H"},
        {"", "The shapes are all the same colour.", "H"},
        {"What is the most common colour?", "Red.", "T"},
        {"What is the most common colour?", "Blue.", "H"},
        {"What is the most common colour?", "There is a red dog in the corner.", "H"},
        {"", "The most common colour is red.", "T"},
        {"Are they all the same colour?", "No.", "T"},
        {"Are they all the same colour?", "Yes.", "H"},
        {"Are all the shapes the same size?", "No, they come in different sizes.", "T"},
    });
  }

  @Test
  void class3PositionsInThePicture() {
    check(new String[][] {
        {"", "The large circle is in the top-left corner.", "T"},
        {"", "The star is in the top-left corner of the image.", "H"},
        {"", "The square is at the bottom.", "T"},
        {"", "In the middle of the image there is a blue square.", "H"},
        {"", "The star is on the right side of the image.", "T"},
        {"Where is the star?", "In the bottom right corner.", "T"},
        {"Where is the star?", "Top left.", "H"},
        {"", "The circles are at the top of the picture and the square is at the bottom.", "T"},
        {"Where is the square?",
            "near the bottom of the picture, roughly in the middle horizontally", "T"},
        {"Where is the star?", "near the bottom, roughly in the middle horizontally", "H"},
    });
    // the tolerance band: 0.05 either side of a boundary satisfies both sides
    Scene edge = new Scene("edge", "edge.png", Environment.ROOM, List.of(
        new SceneObject(0, ShapeKind.STAR, Colour.RED, Size.SMALL, 0.36, 0.5)));
    assertFalse(judge.judge(edge, "The star is in the left third of the image.").hallucinated());
    assertFalse(judge.judge(edge, "The star is in the middle.").hallucinated());
    assertTrue(judge.judge(edge, "The star is in the right third of the image.").hallucinated());
    assertEquals(Region.TOLERANCE, 0.05);
  }

  @Test
  void class4ObjectsOutsideTheVocabulary() {
    check(new String[][] {
        {"", "There is a lamp next to the circle.", "H"},
        {"", "A sled rests on the left.", "H"},
        {"", "A teapot sits in the corner.", "H"},
        {"", "There is no lamp.", "T"},
        {"Is there a sled at night?", "No.", "T"},
        {"", "The picture shows two red circles, a blue square and a yellow star.", "T"},
    });
  }

  @Test
  void class5SynonymsAndNearSynonyms() {
    check(new String[][] {
        {"", "The circle is crimson.", "T"},
        {"", "The star is lemon yellow.", "T"},
        {"", "The square is navy.", "T"},
        {"", "The square is teal.", "T"},
        {"", "The star is teal.", "H"},
        {"", "There is a sizeable star.", "T"},
        {"", "There is a petite square.", "T"},
        {"", "There is a plus sign.", "H"},
        {"", "I see a box and a dot.", "T"},
        {"", "There is an emerald pentagram.", "H"},
    });
    // an unmappable word carrying the only claim is "not checkable", not ignored
    Judgement j = judge.judge(beach, "What colour is the star?", "Chartreuse.");
    assertEquals(1, j.unverifiable().size(), j.toString());
    assertFalse(j.hallucinated());
  }

  @Test
  void class6QuestionReading() {
    check(new String[][] {
        {"Which is smaller: the star or the square?", "The square.", "T"},
        {"Which is smaller: the star or the square?", "The star.", "H"},
        {"Which shape is further left, the star or the square?", "The square.", "T"},
        {"Which shape is further left, the star or the square?", "The star.", "H"},
        {"Which is higher up, the star or the square?", "the star", "T"},
        {"Count the circles.", "2", "T"},
        {"Count the circles.", "three", "H"},
        {"Is the star big or small?", "Big.", "T"},
        {"Is the star big or small?", "small", "H"},
        {"How many circles are there?", "You asked how many circles. There are two.", "T"},
        {"How many circles are there?", "You asked how many circles. There are three.", "H"},
        {"", "- a large red circle\n- a blue square", "T"},
        {"", "1. two red circles\n2. a green star", "H"},
        {"Is there a red circle?", "yes there is a red circle", "T"},
    });
  }
}

package org.factrl.data.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.factrl.data.shapes.Scene;
import org.junit.jupiter.api.Test;

class PreferenceLabelerTest {
  private final PreferenceLabeler labeler = new PreferenceLabeler();
  private final Scene beach = TestScenes.beach();

  @Test
  void fewerHallucinationsWins() {
    Preference p = labeler.compare(beach, "There is a dog and a star.", "There is a star.");
    assertEquals(1, p.preferred());
    assertEquals(Preference.Rule.FEWER_HALLUCINATIONS, p.rule());
    assertEquals(1, p.a().hallucinationCount());
    // Even a long, mostly right answer loses to a short clean one.
    p = labeler.compare(beach, "There is a star.", "There are two red circles, a blue square,"
        + " a yellow star and a cat on a beach.");
    assertEquals(0, p.preferred());
    assertTrue(p.decisive());
  }

  @Test
  void tiesOnHallucinationsGoToTheMoreHelpful() {
    Preference p = labeler.compare(beach, "There is a star.",
        "There is a star and a blue square on a beach.");
    assertEquals(1, p.preferred());
    assertEquals(Preference.Rule.MORE_CORRECT, p.rule());
    p = labeler.compare(beach, "There is a dog, a star and a square.", "There is a cat.");
    assertEquals(0, p.preferred(), "one hallucination each; A says more that is true");
    assertEquals(Preference.Rule.MORE_CORRECT, p.rule());
  }

  @Test
  void vacuousNegationsDoNotMakeAnAnswerMoreHelpful() {
    Preference p = labeler.compare(beach, "There is a star. There is no dog. There is no cat.",
        "There is a star.");
    assertEquals(1, p.preferred());
    assertEquals(Preference.Rule.SHORTER, p.rule());
  }

  @Test
  void fullTiesGoToTheShorterThenToA() {
    Preference p = labeler.compare(beach, "I can see that there is a star in the picture.",
        "There is a star.");
    assertEquals(1, p.preferred());
    assertEquals(Preference.Rule.SHORTER, p.rule());
    assertFalse(p.decisive());
    p = labeler.compare(beach, "There is a star.", "I see a star here.");
    assertEquals(0, p.preferred());
    assertEquals(Preference.Rule.SHORTER, p.rule());
    p = labeler.compare(beach, "A star.", "A star!");
    assertEquals(0, p.preferred());
    assertEquals(Preference.Rule.TIE_FIRST, p.rule());
  }

  @Test
  void questionAwareComparison() {
    Preference p = labeler.compare(beach, "How many red circles are there?", "Three.", "Two.");
    assertEquals(1, p.preferred());
    assertEquals(Preference.Rule.FEWER_HALLUCINATIONS, p.rule());
    p = labeler.compare(beach, "Is there a dog?", "No.", "Yes.");
    assertEquals(0, p.preferred());
  }
}

package org.factrl.data.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.factrl.data.MmhalType;
import org.factrl.data.shapes.Scene;
import org.junit.jupiter.api.Test;

/**
 * An answer to a colour or size question whose first sentence names only the environment (a claim
 * with no subject): found by the eval stage on a random model's answers, where the fragment
 * completion read the subject of every claim and threw a NullPointerException.
 */
class FragmentWithoutSubjectTest {
  @Test
  void anEnvironmentSentenceAnsweringAColourOrSizeQuestionIsJudgedNotThrown() {
    ExactJudge judge = new ExactJudge();
    Scene s = TestScenes.beach();
    for (String q : new String[] {"What colour is the circle?", "What size is the circle?"}) {
      Judgement j = judge.judge(s, MmhalType.ATTRIBUTE, q, "The scene is set on a beach.");
      assertFalse(j.hallucinated(), q);
      Judgement wrong = judge.judge(s, MmhalType.ATTRIBUTE, q, "It is night.");
      assertEquals(true, wrong.hallucinated(), q);
    }
  }
}

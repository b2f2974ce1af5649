package org.factrl.data.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.factrl.data.MmhalType;
import org.factrl.data.PopeSampling;
import org.factrl.data.format.GroundTruthAnswer;
import org.factrl.data.format.LlavaConversation;
import org.factrl.data.format.MmhalRecord;
import org.factrl.data.format.PopeRecord;
import org.factrl.data.format.PreferencePair;
import org.factrl.data.format.RlPrompt;
import org.factrl.data.format.Speaker;
import org.factrl.data.format.Turn;
import org.factrl.data.judge.CorruptionBootstrap;
import org.factrl.data.judge.ExactJudge;
import org.factrl.data.judge.Judgement;
import org.factrl.data.judge.PopeMetrics;
import org.factrl.data.judge.PopeSample;
import org.factrl.data.judge.PopeScorer;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.tasks.SceneTasks;
import org.factrl.data.shapes.tasks.ShapesDataSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The generator and the judge were written apart; here they must agree on every record of a data
 * set: every ground-truth text the generator writes is judged free of hallucinations, every
 * ground-truth MMHal answer scores at least 3 (the rubric's "no hallucination" band), ground-truth
 * POPE answers score accuracy 1, and every bootstrap pair is ranked the bootstrap's way.
 */
class GeneratorJudgeAgreementTest {
  private static final int SCENES = 400;
  private static final ExactJudge JUDGE = new ExactJudge();
  private static ShapesDataSet data;
  private static List<SceneTasks> tasks;

  @BeforeAll
  static void generate() {
    data = ShapesDataSet.builder().seed(11).scenes(SCENES).build();
    tasks = new ArrayList<>();
    for (int i = 0; i < SCENES; i++) {
      tasks.add(data.tasks(i));
    }
  }

  private static void assertTruthful(Scene s, String question, String answer) {
    Judgement j = question == null ? JUDGE.judge(s, answer) : JUDGE.judge(s, question, answer);
    assertFalse(j.hallucinated(), () -> s.id() + ": '" + answer + "' (to '" + question + "') judged hallucinated: "
        + j.hallucinations());
  }

  @Test
  void captionsAndDescriptionsHaveNoHallucination() {
    for (SceneTasks t : tasks) {
      for (String c : t.captions()) {
        assertTruthful(t.scene(), null, c);
      }
      assertTruthful(t.scene(), null, t.description());
    }
  }

  @Test
  void everySftAnswerIsTruthfulToItsQuestion() {
    int answers = 0;
    for (int i = 0; i < SCENES; i++) {
      for (LlavaConversation c : ShapesRecords.sft(tasks.get(i), i)) {
        List<Turn> turns = c.conversations();
        for (int k = 1; k < turns.size(); k += 2) {
          assertEquals(Speaker.GPT, turns.get(k).from());
          String question = turns.get(k - 1).value().replace("<image>\n", "");
          assertTruthful(tasks.get(i).scene(), question, turns.get(k).value());
          answers++;
        }
      }
    }
    assertEquals(8 * SCENES, answers, "description + caption + 4 yes/no + 2 multiple choice per scene");
  }

  @Test
  void rlRationalesAreTruthfulAndYesNoAnswersAgreeWithTheJudge() {
    int yesNo = 0;
    for (SceneTasks t : tasks) {
      for (RlPrompt p : ShapesRecords.rlPrompts(t)) {
        String question = p.firstQuestion().replace("<image>\n", "");
        p.rationale().ifPresent(r -> assertTruthful(t.scene(), null, r));
        if (p.answer().isPresent() && p.answer().get().type() == GroundTruthAnswer.Type.YES_NO) {
          String right = p.answer().get().value();
          String wrong = right.equals("yes") ? "no" : "yes";
          assertTruthful(t.scene(), question, right + ".");
          Judgement j = JUDGE.judge(t.scene(), question, wrong + ".");
          assertTrue(j.hallucinated(), () -> t.scene().id() + ": the wrong answer '" + wrong + "' to '" + question
              + "' was not caught");
          yesNo++;
        }
      }
    }
    assertTrue(yesNo >= 4 * SCENES, "yes/no prompts checked: " + yesNo);
  }

  @Test
  void groundTruthMmhalAnswersScoreAtLeastThreeForEveryType() {
    Map<MmhalType, Integer> seen = new java.util.EnumMap<>(MmhalType.class);
    for (SceneTasks t : tasks) {
      for (MmhalRecord r : ShapesRecords.mmhal(t)) {
        Judgement j = JUDGE.judge(t.scene(), r.questionType(), r.question(), r.gtAnswer());
        assertTrue(j.score() >= 3, () -> t.scene().id() + " " + r.questionType() + ": '" + r.question() + "' -> '"
            + r.gtAnswer() + "' scored " + j.score() + ", hallucinations " + j.hallucinations());
        seen.merge(r.questionType(), 1, Integer::sum);
      }
    }
    assertEquals(MmhalType.values().length, seen.size(), "every MMHal type generated: " + seen);
  }

  @Test
  void groundTruthPopeAnswersScorePerfectlyInEverySetting() {
    for (PopeSampling sampling : PopeSampling.values()) {
      List<PopeSample> samples = new ArrayList<>();
      for (SceneTasks t : tasks) {
        for (PopeRecord r : ShapesRecords.pope(t, sampling, 1)) {
          samples.add(new PopeSample(r.labelYes(), r.labelYes() ? "Yes, there is." : "No, there is not.", sampling));
          // the judge reads the same probe as a question about the scene
          assertTruthful(t.scene(), r.text(), r.label() + ".");
        }
      }
      PopeMetrics m = PopeScorer.score(samples);
      assertEquals(1.0, m.accuracy(), sampling + ": " + m);
      assertEquals(0.5, m.yesRatio(), 0.05, sampling + " should be balanced: " + m);
    }
  }

  @Test
  void everyBootstrapPairIsRankedTheBootstrapsWay() {
    CorruptionBootstrap bootstrap = CorruptionBootstrap.builder().seed(11).build();
    int pairs = 0;
    for (Scene s : data.scenes()) {
      ShapesRecords.JudgedPairs judged = ShapesRecords.preferences(s, bootstrap, JUDGE);
      assertEquals(0, judged.rejected(), s.id() + ": the judge disagreed with a bootstrap pair");
      for (PreferencePair p : judged.pairs()) {
        int preferred = p.preference() == 1 ? p.hallucinations1().getAsInt() : p.hallucinations2().getAsInt();
        int other = p.preference() == 1 ? p.hallucinations2().getAsInt() : p.hallucinations1().getAsInt();
        assertEquals(0, preferred, p.id());
        assertTrue(other >= 1, p.id());
        pairs++;
      }
    }
    assertTrue(pairs >= 4 * SCENES, "pairs: " + pairs);
  }
}

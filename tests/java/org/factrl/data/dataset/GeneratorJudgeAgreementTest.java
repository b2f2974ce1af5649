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

  /**
   * Every SFT answer, judged on its own scene against its own question, is correct (no
   * hallucination) and informative (score at least 4: it answers the question). Single-turn open
   * questions are judged as the MMHal type their id names; the rest with the type the judge infers.
   */
  @Test
  void everySftAnswerIsTruthfulAndInformativeForItsQuestion() {
    int answers = 0;
    Map<MmhalType, Integer> types = new java.util.EnumMap<>(MmhalType.class);
    for (SceneTasks t : tasks) {
      for (LlavaConversation c : ShapesRecords.sft(t)) {
        String suffix = c.id().substring(t.scene().id().length() + 1);
        MmhalType type = MmhalType.fromMmhalName(suffix).orElse(null);
        List<Turn> turns = c.conversations();
        for (int k = 1; k < turns.size(); k += 2) {
          assertEquals(Speaker.GPT, turns.get(k).from());
          String question = turns.get(k - 1).value().replace("<image>\n", "");
          String answer = turns.get(k).value();
          Judgement j = type == null ? JUDGE.judge(t.scene(), question, answer)
              : JUDGE.judge(t.scene(), type, question, answer);
          assertFalse(j.hallucinated(), () -> c.id() + ": '" + answer + "' (to '" + question + "') judged hallucinated: "
              + j.hallucinations());
          assertTrue(j.score() >= 4, () -> c.id() + ": '" + answer + "' (to '" + question + "') scored " + j.score()
              + " (" + j.informativeness() + ")");
          if (type != null) {
            types.merge(type, 1, Integer::sum);
          }
          answers++;
        }
      }
    }
    assertEquals(MmhalType.values().length, types.size(), "an open question of every MMHal type: " + types);
    types.values().forEach(n -> assertEquals(SCENES, n, "one per type per scene: " + types));
    assertTrue(answers >= 17 * SCENES, "caption + 8 open + 4 yes/no + 2 multiple choice + at least 2 POPE probes"
        + " per scene: " + answers);
  }

  /** The SFT open questions come in several wordings per type, the evaluation's among them. */
  @Test
  void sftQuestionsUseSeveralWordingsPerType() {
    Map<MmhalType, java.util.Set<String>> wordings = new java.util.EnumMap<>(MmhalType.class);
    java.util.Set<String> probes = new java.util.HashSet<>();
    java.util.Set<String> brief = new java.util.HashSet<>();
    for (SceneTasks t : tasks) {
      for (var q : t.sft().open()) {
        // the wording without the objects it names: words that are not colours, shapes or sizes
        wordings.computeIfAbsent(q.type(), k -> new java.util.HashSet<>()).add(template(q.question()));
      }
      t.sft().probes().forEach(p -> probes.add(template(p.question())));
      brief.add(t.sft().briefPrompt());
    }
    for (MmhalType type : MmhalType.values()) {
      assertTrue(wordings.get(type).size() >= 3, type + ": " + wordings.get(type));
    }
    assertTrue(probes.size() >= 4, "POPE-style wordings: " + probes);
    assertTrue(brief.contains("Describe the image briefly.") && brief.size() >= 4, "caption prompts: " + brief);
  }

  private static String template(String question) {
    return question.replaceAll("\\b(red|green|blue|yellow|purple|orange|small|large|circles?|squares?|triangles?"
        + "|diamonds?|stars?|cross(es)?|objects?|an?)\\b", "_").replaceAll("_( _)+", "_");
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
    CorruptionBootstrap bootstrap = CorruptionBootstrap.builder().seed(11).statistics(data.statistics()).build();
    int pairs = 0;
    for (SceneTasks t : tasks) {
      ShapesRecords.JudgedPairs judged = ShapesRecords.preferences(t, bootstrap, JUDGE);
      assertEquals(0, judged.rejected(), t.scene().id() + ": the judge disagreed with a bootstrap pair");
      for (PreferencePair p : judged.pairs()) {
        int preferred = p.preference() == 1 ? p.hallucinations1().getAsInt() : p.hallucinations2().getAsInt();
        int other = p.preference() == 1 ? p.hallucinations2().getAsInt() : p.hallucinations1().getAsInt();
        assertEquals(0, preferred, p.id());
        // omission pairs: both truthful, the preferred one more informative (checked when judged)
        assertTrue(other >= 1 || p.id().endsWith("-omission"), p.id());
        assertEquals(t.captions(), p.captions(), p.id() + " carries the scene's captions as facts");
        pairs++;
      }
    }
    assertTrue(pairs >= 6 * SCENES, "pairs: " + pairs);
  }
}

package org.factrl.ppo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.factrl.data.MmhalType;
import org.factrl.data.dataset.AnnotatedJudge;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.dataset.ShapesRecords;
import org.factrl.data.format.RlPrompt;
import org.factrl.data.format.RlPromptCodec;
import org.factrl.data.judge.ExactJudge;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.engine.FactRlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PPO's hallucination monitor on a real shapes data set: the judge PpoStage builds reads each
 * (RL prompt, response) against the prompt image's annotation, and a step's hallucination rate is
 * the share of judged responses with a hallucinated claim. Responses are written from the scenes:
 * one naming the scene's own object is correct, one naming a shape the scene lacks hallucinates,
 * "Yes." to a yes/no question whose true answer is no hallucinates (the question gives it meaning).
 */
class HallucinationMonitorTest {
  @TempDir Path dir;

  private static PpoPrompt prompt(RlPrompt r) {
    return new PpoPrompt(r.id(), new int[] {1}, null, r.answer(), r);
  }

  private static boolean isDescribe(RlPrompt r) {
    return r.firstQuestion().endsWith(ShapesRecords.DESCRIBE);
  }

  @Test
  void theRateIsTheShareOfJudgedResponsesWithAHallucinatedClaim() throws IOException {
    Path data = dir.resolve("ds");
    ShapesDataSetWriter.builder().scenes(16).imageSize(16).seed(5).build().write(data);
    DataSetFiles files = DataSetFiles.in(data);
    List<RlPrompt> records = RlPromptCodec.read(files.rlPrompts());
    Map<String, Scene> scenes = AnnotatedJudge.scenesByImage(files.annotations());
    ResponseJudge judge = PpoStage.judgeOf(AnnotatedJudge.read(files.annotations()));

    List<RlPrompt> describe = records.stream().filter(HallucinationMonitorTest::isDescribe).toList();
    assertTrue(describe.size() >= 3, "the RL split has description prompts: " + describe.size());
    RlPrompt no = records.stream().filter(r -> r.answer().isPresent() && r.answer().get().value().equals("no"))
        .findFirst().orElseThrow();
    RlPrompt yes = records.stream().filter(r -> r.answer().isPresent() && r.answer().get().value().equals("yes"))
        .findFirst().orElseThrow();

    List<PpoPrompt> prompts = new ArrayList<>();
    List<String> responses = new ArrayList<>();
    List<Boolean> hallucinates = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      RlPrompt r = describe.get(i);
      Scene s = scenes.get(r.image().orElseThrow());
      SceneObject o = s.objects().get(0);
      prompts.add(prompt(r));
      responses.add("There is a " + o.phrase() + ".");
      hallucinates.add(false);
      if (i < 2) { // two of the three scenes also get a response naming a shape they lack
        ShapeKind absent = Arrays.stream(ShapeKind.values())
            .filter(k -> s.objects().stream().noneMatch(x -> x.shape() == k)).findFirst().orElseThrow();
        prompts.add(prompt(r));
        responses.add("There is a " + o.phrase() + " and a " + absent.singular() + ".");
        hallucinates.add(true);
      }
    }
    prompts.add(prompt(no));
    responses.add("Yes.");
    hallucinates.add(true);
    prompts.add(prompt(yes));
    responses.add("Yes.");
    hallucinates.add(false);

    // Not judged: an image nothing annotates, and a prompt without a source record.
    RlPrompt d = describe.get(0);
    RlPrompt unannotated = new RlPrompt(d.id() + "-x", Optional.of("not-annotated.png"), d.conversations(),
        d.captions(), d.rationale(), d.answer());
    prompts.add(prompt(unannotated));
    responses.add("There is a purple cross.");
    prompts.add(new PpoPrompt("bare", new int[] {1}, null, Optional.empty(), null));
    responses.add("There is a purple cross.");

    for (int i = 0; i < hallucinates.size(); i++) {
      ResponseJudge.Verdict v = judge.judge(prompts.get(i), responses.get(i)).orElseThrow();
      assertEquals(hallucinates.get(i), v.hallucinated(), prompts.get(i).id() + ": '" + responses.get(i) + "' " + v);
    }
    assertFalse(judge.judge(prompts.get(prompts.size() - 2), "There is a purple cross.").isPresent());
    assertFalse(judge.judge(prompts.get(prompts.size() - 1), "There is a purple cross.").isPresent());

    ResponseJudge.Summary sum = ResponseJudge.Summary.over(judge, prompts, responses);
    int judged = hallucinates.size();
    long bad = hallucinates.stream().filter(h -> h).count();
    assertEquals(7, judged);
    assertEquals(judged, sum.judged());
    assertEquals((double) bad / judged, sum.hallucinationRate(), 0.0); // 4 of 7
    // Informative counts as the judge gives them for description answers (the MMHal holistic type).
    ExactJudge exact = new ExactJudge();
    double info = 0;
    for (int i = 0; i < judged; i++) {
      RlPrompt r = (RlPrompt) prompts.get(i).source();
      Scene s = scenes.get(r.image().orElseThrow());
      info += isDescribe(r)
          ? exact.judge(s, MmhalType.HOLISTIC_DESCRIPTION, ShapesRecords.DESCRIBE, responses.get(i)).informativeCount()
          : exact.judge(s, r.firstQuestion().replace("<image>", "").strip(), responses.get(i)).informativeCount();
    }
    assertEquals(info / judged, sum.informative(), 1e-12);
    assertTrue(sum.informative() > 0, "correct descriptions are informative");

    // Nothing judged: no rate (the metrics line then omits it).
    ResponseJudge.Summary none = ResponseJudge.Summary.over(judge, prompts.subList(judged, prompts.size()),
        responses.subList(judged, responses.size()));
    assertEquals(0, none.judged());
    assertTrue(Double.isNaN(none.hallucinationRate()));
    assertThrows(FactRlException.class, () -> ResponseJudge.Summary.over(judge, prompts, responses.subList(0, 2)));
  }

  @Test
  void stepMetricsWriteTheRateOnlyWhenSomethingWasJudged() {
    PpoStepMetrics judged = metrics(5, 0.4, 1.5);
    assertEquals(0.4, judged.toJson().get("hallucination_rate").getAsDouble(), 0.0);
    assertEquals(5, judged.toJson().get("judged").getAsInt());
    assertEquals(1.5, judged.toJson().get("informative").getAsDouble(), 0.0);
    PpoStepMetrics none = metrics(0, Double.NaN, Double.NaN);
    assertFalse(none.toJson().has("hallucination_rate"));
    assertFalse(none.toJson().has("judged"));
    assertFalse(none.toJson().has("informative"));
  }

  private static PpoStepMetrics metrics(int judged, double rate, double informative) {
    return new PpoStepMetrics(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, false, Double.NaN, 0.1, 0.5, judged, rate,
        informative);
  }
}

package org.factrl.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.factrl.data.MmhalType;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.format.MmhalRecord;
import org.factrl.data.format.PopeRecord;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.engine.FactRlException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evaluation's metrics on hand-made answers (no model): oracle answers give hallucination 0,
 * POPE F1 1 and CHAIR 0; always "yes" gives yes-ratio 1, recall 1 and precision = the share of
 * "yes" labels; one invented object per description gives CHAIRs 1 and CHAIRi = descriptions /
 * mentioned objects, counted from the scenes; lengths are the stub's word counts.
 */
class EvaluatorTest {
  @TempDir static Path shared;
  static EvalData data;

  @BeforeAll
  static void dataSet() {
    Path ds = shared.resolve("ds");
    ShapesDataSetWriter.builder().scenes(40).imageSize(16).seed(3).build().write(ds);
    data = EvalData.of(DataSetFiles.in(ds));
    assertTrue(data.mmhal().size() >= 8, "enough MMHal questions: " + data.mmhal().size());
    assertEquals(Set.of("random", "popular", "adversarial"), data.pope().keySet());
  }

  private static EvalReport evaluate(EvalConfig config, StubAnswers source) {
    return new Evaluator(config, null, false).evaluate(data, source);
  }

  private static String key(Question q) {
    return q.imageId() + "\n" + q.text();
  }

  /** Truthful answers: MMHal's gt_answer, POPE's label, a description listing every object. */
  private static StubAnswers oracle(String extraObject) {
    Map<String, String> truth = new HashMap<>();
    for (MmhalRecord r : data.mmhal()) {
      truth.put(r.imageId() + "\n" + r.question(), r.gtAnswer());
    }
    for (List<PopeRecord> l : data.pope().values()) {
      for (PopeRecord r : l) {
        truth.put(r.image() + "\n" + r.text(), r.labelYes() ? "Yes." : "No.");
      }
    }
    return new StubAnswers(q -> {
      if (q.id().startsWith("chair-")) {
        return description(data.scenes().get(q.imageId()), extraObject);
      }
      String a = truth.get(key(q));
      if (a == null) {
        throw new AssertionError("no truth for " + q);
      }
      return a;
    });
  }

  private static String description(Scene s, String extraObject) {
    StringBuilder b = new StringBuilder();
    for (SceneObject o : s.objects()) {
      b.append(sentence(o.size().word() + " " + o.colour().word() + " " + o.shape().singular()));
    }
    if (extraObject != null) {
      b.append(sentence(absentKind(s)));
    }
    return b.toString().trim();
  }

  private static String sentence(String phrase) {
    String article = "aeiou".indexOf(phrase.charAt(0)) >= 0 ? "an" : "a";
    return "There is " + article + " " + phrase + ". ";
  }

  /** A colour and shape no object of the scene has. */
  static String absentKind(Scene s) {
    for (ShapeKind k : ShapeKind.values()) {
      for (Colour c : Colour.values()) {
        if (s.objects().stream().noneMatch(o -> o.shape() == k && o.colour() == c)) {
          return c.word() + " " + k.singular();
        }
      }
    }
    throw new AssertionError("every kind present in " + s.id());
  }

  /** Distinct (colour, shape) kinds of the scene: the objects CHAIR counts. */
  private static int kinds(Scene s) {
    Set<String> k = new HashSet<>();
    for (SceneObject o : s.objects()) {
      k.add(o.colour() + " " + o.shape());
    }
    return k.size();
  }

  @Test
  void oracleAnswersScoreNoHallucinationPopeF1OneAndNoChair() {
    StubAnswers oracle = oracle(null);
    EvalReport r = evaluate(EvalConfig.builder().chair(true).build(), oracle);
    JsonObject m = r.metrics();
    assertEquals(Evaluator.FORMAT, m.get("format").getAsString());
    assertEquals(0.0, r.hallucinationRate());
    assertTrue(r.mmhalScore() >= 3.0, "no answer below 3: " + r.mmhalScore());
    assertEquals(1.0, r.popeF1().getAsDouble());
    assertEquals(1.0, r.popeAccuracy().getAsDouble());
    JsonObject pope = m.getAsJsonObject("pope");
    for (String s : data.pope().keySet()) {
      JsonObject p = pope.getAsJsonObject(s);
      assertEquals(data.pope().get(s).size(), p.get("questions").getAsInt(), s);
      for (String k : List.of("accuracy", "precision", "recall", "f1")) {
        assertEquals(1.0, p.get(k).getAsDouble(), s + " " + k);
      }
      long yes = data.pope().get(s).stream().filter(PopeRecord::labelYes).count();
      assertEquals((double) yes / data.pope().get(s).size(), p.get("yes_ratio").getAsDouble(), 1e-12, s);
      assertEquals(0, p.get("unparseable").getAsInt());
    }
    assertEquals(0.0, r.chairS().getAsDouble());
    assertEquals(0.0, r.chairI().getAsDouble());
    JsonObject chair = m.getAsJsonObject("chair");
    List<MmhalRecord> images = data.distinctImages();
    assertEquals(images.size(), chair.get("descriptions").getAsInt());
    int objects = images.stream().mapToInt(i -> kinds(data.scenes().get(i.imageId()))).sum();
    assertEquals(objects, chair.get("mentioned_objects").getAsInt(), "one mention per colour+shape kind");
    // every question was asked once: MMHal, POPE, one description per distinct MMHal image
    int probes = data.pope().values().stream().mapToInt(List::size).sum();
    assertEquals(data.mmhal().size() + probes + images.size(), oracle.asked.size());
    assertEquals(oracle.asked.size(), r.answers().size());
    // per type: all 8 listed, counts add up, rates 0 where there are questions
    JsonObject types = m.getAsJsonObject("mmhal").getAsJsonObject("per_type");
    assertEquals(8, types.size());
    int sum = 0;
    for (MmhalType t : MmhalType.values()) {
      JsonObject o = types.getAsJsonObject(t.mmhalName());
      int n = o.get("answers").getAsInt();
      assertEquals(data.mmhal().stream().filter(x -> x.questionType() == t).count(), n, t.mmhalName());
      sum += n;
      if (n > 0) {
        assertEquals(0.0, o.get("hallucination_rate").getAsDouble(), t.mmhalName());
      } else {
        assertTrue(o.get("hallucination_rate").isJsonNull(), t.mmhalName());
      }
    }
    assertEquals(data.mmhal().size(), sum);
    // lengths: the stub's word counts
    double words = data.mmhal().stream().mapToInt(x -> StubAnswers.words(x.gtAnswer())).average().orElseThrow();
    assertEquals(words, r.meanResponseTokens(), 1e-9);
    assertEquals(0.0, m.getAsJsonObject("lengths").getAsJsonObject("mmhal").get("cut_off_share").getAsDouble());
    // the template carries the answers, in the file's order
    assertEquals(data.mmhal().size(), r.template().size());
    for (int i = 0; i < data.mmhal().size(); i++) {
      assertEquals(data.mmhal().get(i).withModelAnswer(data.mmhal().get(i).gtAnswer()), r.template().get(i));
    }
  }

  @Test
  void alwaysYesHasYesRatioOneRecallOneAndPrecisionTheShareOfYesLabels() {
    EvalReport r = evaluate(EvalConfig.defaults(), new StubAnswers(q -> "Yes, there is."));
    JsonObject pope = r.metrics().getAsJsonObject("pope");
    double meanF1 = 0;
    for (String s : data.pope().keySet()) {
      JsonObject p = pope.getAsJsonObject(s);
      List<PopeRecord> l = data.pope().get(s);
      double share = (double) l.stream().filter(PopeRecord::labelYes).count() / l.size();
      assertTrue(share > 0 && share < 1, s + " has both labels");
      assertEquals(1.0, p.get("yes_ratio").getAsDouble(), s);
      assertEquals(1.0, p.get("recall").getAsDouble(), s);
      assertEquals(share, p.get("precision").getAsDouble(), 1e-12, s);
      assertEquals(share, p.get("accuracy").getAsDouble(), 1e-12, s);
      double f1 = 2 * share / (share + 1);
      assertEquals(f1, p.get("f1").getAsDouble(), 1e-12, s);
      meanF1 += f1 / data.pope().size();
    }
    assertEquals(meanF1, r.popeF1().getAsDouble(), 1e-12);
    assertFalse(r.chairS().isPresent(), "CHAIR is off by default");
    assertTrue(r.metrics().get("chair_s").isJsonNull());
  }

  @Test
  void oneInventedObjectPerDescriptionGivesChairSOneAndChairIFromTheCounts() {
    EvalReport r = evaluate(EvalConfig.builder().chair(true).build(), oracle("invent"));
    List<MmhalRecord> images = data.distinctImages();
    int objects = images.stream().mapToInt(i -> kinds(data.scenes().get(i.imageId())) + 1).sum();
    assertEquals(1.0, r.chairS().getAsDouble());
    assertEquals((double) images.size() / objects, r.chairI().getAsDouble(), 1e-12);
    JsonObject chair = r.metrics().getAsJsonObject("chair");
    assertEquals(objects, chair.get("mentioned_objects").getAsInt());
    assertEquals(images.size(), chair.get("hallucinated_objects").getAsInt());
    // the record names the invented object
    JsonObject first = r.answers().stream().filter(o -> o.get("phase").getAsString().equals("chair")).findFirst()
        .orElseThrow();
    Scene s = data.scenes().get(first.get("image_id").getAsString());
    assertEquals(absentKind(s), first.getAsJsonArray("hallucinated_objects").get(0).getAsString());
  }

  @Test
  void aFalseObjectInEveryAnswerIsAHallucinationRateOfOne() {
    EvalReport r = evaluate(EvalConfig.defaults(), new StubAnswers(q -> "There is a purple dog next to a green cat."));
    assertEquals(1.0, r.hallucinationRate());
    assertTrue(r.mmhalScore() <= 2.0, "scores below 3: " + r.mmhalScore());
    for (JsonObject o : r.answers()) {
      if (o.get("phase").getAsString().equals("mmhal")) {
        assertTrue(o.get("hallucinated").getAsBoolean(), o.toString());
        assertTrue(o.get("score").getAsInt() < 3, o.toString());
      }
    }
  }

  @Test
  void emptyAnswersAreJudgedAsUninformativeNotAsErrors() {
    EvalReport r = evaluate(EvalConfig.builder().chair(true).build(), new StubAnswers(q -> ""));
    assertEquals(0.0, r.hallucinationRate());
    assertEquals(3.0, r.mmhalScore(), "not informative, no hallucination");
    assertEquals(0.0, r.meanResponseTokens());
    assertEquals(0.0, r.chairI().getAsDouble(), "no object mentioned");
    JsonObject all = r.metrics().getAsJsonObject("pope").getAsJsonObject("all");
    assertEquals(all.get("questions").getAsInt(), all.get("unparseable").getAsInt());
    assertEquals(0.0, all.get("yes_ratio").getAsDouble());
  }

  @Test
  void limitKeepsTheFirstRecordsOfEachFile() {
    StubAnswers s = new StubAnswers(q -> "No.");
    EvalReport r = evaluate(EvalConfig.builder().limit(3).build(), s);
    assertEquals(3, r.metrics().getAsJsonObject("mmhal").get("answers").getAsInt());
    assertEquals(3 + 3 * 3, s.asked.size());
    assertEquals(data.mmhal().get(0).question(), s.asked.get(0).text());
  }

  @Test
  void aSourceThatLosesAnswersIsAnError() {
    AnswerSource lossy = (questions, answered) -> List.of();
    FactRlException e = assertThrows(FactRlException.class,
        () -> new Evaluator(EvalConfig.defaults(), null, false).evaluate(data, lossy));
    assertTrue(e.getMessage().contains("returned 0 answers for " + data.mmhal().size() + " questions"), e.getMessage());
  }
}

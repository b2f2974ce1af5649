package org.factrl.data.judge;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.factrl.data.MmhalType;
import org.factrl.data.format.MmhalRecord;
import org.factrl.data.shapes.Scene;

/**
 * Judges a filled MMHal response template (each record's {@code model_answer}) against the scenes'
 * ground truth: one {@link Judgement} per record and the metrics MMHal reports (mean score and
 * hallucination rate = share of scores below 3, overall and per question type). What {@code
 * bin/factrl judge} writes.
 */
public final class MmhalJudging {
  /** Marks a metrics file as this class's output (the judge command replaces only its own). */
  public static final String FORMAT = "factrl-judge-output";
  public static final int VERSION = 1;

  private MmhalJudging() {}

  /** One judged record. */
  public record Judged(int index, MmhalRecord record, Judgement judgement) {}

  /**
   * Judges every record. A record whose image is not among {@code scenes}, or whose answer is
   * empty, is an {@link IllegalArgumentException} naming the record: nothing is guessed.
   */
  public static ImmutableList<Judged> judge(ExactJudge judge, Map<String, Scene> scenes,
      List<MmhalRecord> records) {
    Preconditions.checkNotNull(judge, "judge");
    ImmutableList.Builder<Judged> out = ImmutableList.builder();
    for (int i = 0; i < records.size(); i++) {
      MmhalRecord r = records.get(i);
      Scene s = scenes.get(r.imageId());
      if (s == null) {
        throw new IllegalArgumentException("record " + i + ": image_id '" + r.imageId()
            + "' is not in the annotations");
      }
      if (r.modelAnswer().isBlank()) {
        throw new IllegalArgumentException("record " + i + " (image_id " + r.imageId()
            + "): model_answer is empty; fill in the model's answer before judging");
      }
      out.add(new Judged(i, r, judge.judge(s, r.questionType(), r.question(), r.modelAnswer())));
    }
    return out.build();
  }

  /** One line of the verdicts file. */
  public static JsonObject verdictJson(Judged j) {
    JsonObject o = new JsonObject();
    o.addProperty("index", j.index());
    o.addProperty("image_id", j.record().imageId());
    o.addProperty("question_type", j.record().questionType().mmhalName());
    o.addProperty("question", j.record().question());
    o.addProperty("model_answer", j.record().modelAnswer());
    o.addProperty("score", j.judgement().score());
    o.addProperty("hallucinated", j.judgement().hallucinated());
    o.addProperty("informativeness", j.judgement().informativeness().name().toLowerCase(
        java.util.Locale.ROOT));
    JsonArray claims = new JsonArray();
    for (ClaimVerdict v : j.judgement().verdicts()) {
      JsonObject c = new JsonObject();
      c.addProperty("claim", v.claim().sentence());
      c.addProperty("kind", v.claim().kind().name().toLowerCase(java.util.Locale.ROOT));
      c.addProperty("verdict", v.verdict().name().toLowerCase(java.util.Locale.ROOT));
      if (!v.reason().isEmpty()) {
        c.addProperty("reason", v.reason());
      }
      claims.add(c);
    }
    o.add("claims", claims);
    return o;
  }

  /** The metrics file: counts, mean score and hallucination rate, overall and per type. */
  public static JsonObject metricsJson(List<Judged> judged) {
    JsonObject o = new JsonObject();
    o.addProperty("format", FORMAT);
    o.addProperty("version", VERSION);
    List<Judgement> all = judged.stream().map(Judged::judgement).toList();
    o.addProperty("answers", all.size());
    o.addProperty("mean_score", ExactJudge.meanScore(all));
    o.addProperty("hallucination_rate", ExactJudge.hallucinationRate(all));
    Map<MmhalType, List<Judgement>> byType = new EnumMap<>(MmhalType.class);
    for (Judged j : judged) {
      byType.computeIfAbsent(j.record().questionType(), k -> new ArrayList<>()).add(j.judgement());
    }
    JsonObject types = new JsonObject();
    for (Map.Entry<MmhalType, List<Judgement>> e : byType.entrySet()) {
      JsonObject t = new JsonObject();
      t.addProperty("answers", e.getValue().size());
      t.addProperty("mean_score", ExactJudge.meanScore(e.getValue()));
      t.addProperty("hallucination_rate", ExactJudge.hallucinationRate(e.getValue()));
      types.add(e.getKey().mmhalName(), t);
    }
    o.add("per_type", types);
    return o;
  }

  /** Scenes by id; a repeated id is an error naming it. */
  public static ImmutableMap<String, Scene> byId(List<Scene> scenes) {
    Map<String, Scene> m = new java.util.LinkedHashMap<>();
    for (Scene s : scenes) {
      if (m.put(s.id(), s) != null) {
        throw new IllegalArgumentException("scene id '" + s.id() + "' appears twice in the"
            + " annotations");
      }
    }
    return ImmutableMap.copyOf(m);
  }
}

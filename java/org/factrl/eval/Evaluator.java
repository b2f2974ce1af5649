package org.factrl.eval;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import org.factrl.data.MmhalType;
import org.factrl.data.format.MmhalRecord;
import org.factrl.data.format.PopeRecord;
import org.factrl.data.image.ImagePaths;
import org.factrl.data.judge.ExactJudge;
import org.factrl.data.judge.Judgement;
import org.factrl.data.judge.MmhalJudging;
import org.factrl.data.judge.PopeAnswer;
import org.factrl.data.judge.PopeMetrics;
import org.factrl.data.judge.PopeSample;
import org.factrl.data.judge.PopeScorer;
import org.factrl.data.shapes.Scene;
import org.factrl.engine.FactRlException;

/**
 * The evaluation's three phases over any {@link AnswerSource}, and every metric (DESIGN.md §4.4):
 *
 * <ul>
 *   <li><b>mmhal</b>: each MMHal question answered, judged by the {@link ExactJudge} as the question's
 *       type; mean 0–6 score and hallucination rate (share of scores below 3), overall and for each
 *       of the 8 types (a type without questions has null rates); the response template with our
 *       answers for an external judge;
 *   <li><b>pope</b>: every probe of every POPE file, read by {@link PopeScorer}; accuracy, precision,
 *       recall, F1 and yes-ratio per sampling, and their means over the samplings;
 *   <li><b>chair</b> (when {@link EvalConfig#chair()}): one detailed description per distinct MMHal
 *       image, CHAIRs and CHAIRi ({@link ChairScorer}).
 * </ul>
 *
 * Answer length is the tokens the model emitted before EOS, averaged per phase; the headline
 * {@code mean_response_tokens} is the MMHal answers' (the open questions the paper's length
 * comparison is about). Wall seconds are measured per phase, answering and judging together.
 */
public final class Evaluator {
  /** Marks a metrics file as an evaluation's ({@code bin/factrl eval} replaces only its own output). */
  public static final String FORMAT = "factrl.eval.v1";

  private final EvalConfig config;
  private final ExactJudge judge = new ExactJudge();
  private final PrintStream progress;
  private final boolean inPlace;

  /** @param progress where phase progress lines go (stderr), or null for none */
  public Evaluator(EvalConfig config, PrintStream progress, boolean inPlace) {
    this.config = Preconditions.checkNotNull(config, "config");
    this.progress = progress;
    this.inPlace = inPlace;
  }

  /** Runs every phase on {@code data} with answers from {@code source}. */
  public EvalReport evaluate(EvalData data, AnswerSource source) {
    Preconditions.checkNotNull(data, "data");
    Preconditions.checkNotNull(source, "source");
    data = data.limit(config.limit());
    JsonObject metrics = new JsonObject();
    metrics.addProperty("format", FORMAT);
    List<JsonObject> lines = new ArrayList<>();
    JsonObject seconds = new JsonObject();
    JsonObject lengths = new JsonObject();

    long t0 = System.nanoTime();
    List<MmhalRecord> template = new ArrayList<>();
    JsonObject mmhal = mmhal(data, source, lines, template, lengths);
    seconds.addProperty("mmhal", (System.nanoTime() - t0) / 1e9);

    t0 = System.nanoTime();
    JsonObject pope = data.pope().isEmpty() ? null : pope(data, source, lines, lengths);
    seconds.addProperty("pope", (System.nanoTime() - t0) / 1e9);

    t0 = System.nanoTime();
    JsonObject chair = config.chair() ? chair(data, source, lines, lengths) : null;
    seconds.addProperty("chair", (System.nanoTime() - t0) / 1e9);

    metrics.add("hallucination_rate", mmhal.get("hallucination_rate"));
    metrics.add("mmhal_score", mmhal.get("mean_score"));
    metrics.add("pope_f1", pope == null ? JsonNull.INSTANCE : pope.getAsJsonObject("mean").get("f1"));
    metrics.add("pope_accuracy", pope == null ? JsonNull.INSTANCE : pope.getAsJsonObject("mean").get("accuracy"));
    metrics.add("chair_s", chair == null ? JsonNull.INSTANCE : chair.get("chair_s"));
    metrics.add("chair_i", chair == null ? JsonNull.INSTANCE : chair.get("chair_i"));
    metrics.add("mean_response_tokens", mmhal.get("mean_response_tokens"));
    metrics.add("mmhal", mmhal);
    metrics.add("pope", pope == null ? JsonNull.INSTANCE : pope);
    metrics.add("chair", chair == null ? JsonNull.INSTANCE : chair);
    metrics.add("lengths", lengths);
    metrics.add("seconds", seconds);
    return new EvalReport(metrics, ImmutableList.copyOf(lines), ImmutableList.copyOf(template));
  }

  private List<Answer> ask(String phase, List<Question> questions, AnswerSource source) {
    PhaseProgress p = new PhaseProgress(progress, "eval " + phase, questions.size(), inPlace);
    List<Answer> answers = source.answer(questions, p::update);
    if (answers == null || answers.size() != questions.size()) {
      throw new FactRlException("eval " + phase + ": the answer source returned "
          + (answers == null ? "null" : answers.size() + " answers") + " for " + questions.size() + " questions");
    }
    return answers;
  }

  private JsonObject mmhal(EvalData data, AnswerSource source, List<JsonObject> lines, List<MmhalRecord> template,
      JsonObject lengths) {
    List<Question> qs = new ArrayList<>();
    for (int i = 0; i < data.mmhal().size(); i++) {
      MmhalRecord r = data.mmhal().get(i);
      Path image = ImagePaths.resolve(data.images(), r.imageSrc(), "MMHal record " + i + ": field 'image_src'");
      qs.add(new Question(String.format(Locale.ROOT, "mmhal-%04d", i), r.imageId(), image, r.question()));
    }
    List<Answer> answers = ask("mmhal", qs, source);
    List<Judgement> all = new ArrayList<>();
    Map<MmhalType, List<Judgement>> byType = new EnumMap<>(MmhalType.class);
    Map<MmhalType, long[]> tokensByType = new EnumMap<>(MmhalType.class);
    List<Answer> phaseAnswers = new ArrayList<>();
    for (int i = 0; i < qs.size(); i++) {
      MmhalRecord r = data.mmhal().get(i).withModelAnswer(answers.get(i).text());
      Scene scene = data.scenes().get(r.imageId());
      Answer a = answers.get(i);
      Judgement j = judged(qs.get(i), () -> judge.judge(scene, r.questionType(), r.question(), a.text()), a);
      all.add(j);
      byType.computeIfAbsent(r.questionType(), k -> new ArrayList<>()).add(j);
      tokensByType.computeIfAbsent(r.questionType(), k -> new long[2]);
      tokensByType.get(r.questionType())[0] += a.tokens();
      tokensByType.get(r.questionType())[1]++;
      template.add(r);
      phaseAnswers.add(a);
      JsonObject line = new JsonObject();
      line.addProperty("phase", "mmhal");
      line.addProperty("id", qs.get(i).id());
      JsonObject v = MmhalJudging.verdictJson(new MmhalJudging.Judged(i, r, j));
      for (String k : v.keySet()) {
        if (k.equals("claims")) {
          line.addProperty("gt_answer", r.gtAnswer());
          addAnswer(line, a);
        }
        line.add(k, v.get(k));
      }
      lines.add(line);
    }
    JsonObject o = new JsonObject();
    o.addProperty("answers", all.size());
    o.addProperty("mean_score", ExactJudge.meanScore(all));
    o.addProperty("hallucination_rate", ExactJudge.hallucinationRate(all));
    o.addProperty("mean_response_tokens", meanTokens(phaseAnswers));
    JsonObject types = new JsonObject();
    for (MmhalType t : MmhalType.values()) {
      List<Judgement> js = byType.getOrDefault(t, List.of());
      JsonObject to = new JsonObject();
      to.addProperty("answers", js.size());
      if (js.isEmpty()) {
        to.add("mean_score", JsonNull.INSTANCE);
        to.add("hallucination_rate", JsonNull.INSTANCE);
        to.add("mean_response_tokens", JsonNull.INSTANCE);
      } else {
        long[] tk = tokensByType.get(t);
        to.addProperty("mean_score", ExactJudge.meanScore(js));
        to.addProperty("hallucination_rate", ExactJudge.hallucinationRate(js));
        to.addProperty("mean_response_tokens", (double) tk[0] / tk[1]);
      }
      types.add(t.mmhalName(), to);
    }
    o.add("per_type", types);
    lengths.add("mmhal", lengthJson(phaseAnswers));
    return o;
  }

  private JsonObject pope(EvalData data, AnswerSource source, List<JsonObject> lines, JsonObject lengths) {
    List<Question> qs = new ArrayList<>();
    List<PopeRecord> records = new ArrayList<>();
    List<String> kinds = new ArrayList<>();
    for (Map.Entry<String, ImmutableList<PopeRecord>> e : data.pope().entrySet()) {
      for (int i = 0; i < e.getValue().size(); i++) {
        PopeRecord r = e.getValue().get(i);
        String id = String.format(Locale.ROOT, "pope-%s-%04d", e.getKey(), i);
        Path image = ImagePaths.resolve(data.images(), r.image(), "POPE " + e.getKey() + " line " + (i + 1)
            + ": field 'image'");
        qs.add(new Question(id, r.image(), image, r.text()));
        records.add(r);
        kinds.add(e.getKey());
      }
    }
    List<Answer> answers = ask("pope", qs, source);
    List<PopeSample> samples = new ArrayList<>();
    for (int i = 0; i < qs.size(); i++) {
      PopeRecord r = records.get(i);
      Answer a = answers.get(i);
      samples.add(new PopeSample(r.labelYes(), a.text(), kinds.get(i)));
      JsonObject line = new JsonObject();
      line.addProperty("phase", "pope");
      line.addProperty("id", qs.get(i).id());
      line.addProperty("sampling", kinds.get(i));
      line.addProperty("question_id", r.questionId());
      line.addProperty("image", r.image());
      line.addProperty("question", r.text());
      line.addProperty("label", r.label());
      addAnswer(line, a);
      PopeAnswer parsed = PopeScorer.parse(a.text());
      line.addProperty("parsed", parsed.name().toLowerCase(Locale.ROOT));
      // as the metrics count it: an unparseable answer is a "no"
      line.addProperty("correct", (parsed == PopeAnswer.YES) == r.labelYes());
      lines.add(line);
    }
    SortedMap<String, PopeMetrics> byKind = PopeScorer.scoreByKind(samples);
    JsonObject o = new JsonObject();
    double[] mean = new double[5];
    for (String kind : data.pope().keySet()) {
      PopeMetrics m = byKind.get(kind);
      if (m == null) { // an empty file: no samples of that kind
        m = new PopeMetrics(0, 0, 0, 0, 0);
      }
      o.add(kind, popeJson(m));
      mean[0] += m.accuracy();
      mean[1] += m.precision();
      mean[2] += m.recall();
      mean[3] += m.f1();
      mean[4] += m.yesRatio();
    }
    int n = data.pope().size();
    JsonObject avg = new JsonObject();
    avg.addProperty("samplings", n);
    avg.addProperty("accuracy", mean[0] / n);
    avg.addProperty("precision", mean[1] / n);
    avg.addProperty("recall", mean[2] / n);
    avg.addProperty("f1", mean[3] / n);
    avg.addProperty("yes_ratio", mean[4] / n);
    o.add("mean", avg);
    o.add("all", popeJson(byKind.get("all")));
    lengths.add("pope", lengthJson(answers));
    return o;
  }

  private static JsonObject popeJson(PopeMetrics m) {
    JsonObject o = new JsonObject();
    o.addProperty("questions", m.total());
    o.addProperty("accuracy", m.accuracy());
    o.addProperty("precision", m.precision());
    o.addProperty("recall", m.recall());
    o.addProperty("f1", m.f1());
    o.addProperty("yes_ratio", m.yesRatio());
    o.addProperty("tp", m.tp());
    o.addProperty("fp", m.fp());
    o.addProperty("tn", m.tn());
    o.addProperty("fn", m.fn());
    o.addProperty("unparseable", m.unparseable());
    return o;
  }

  private JsonObject chair(EvalData data, AnswerSource source, List<JsonObject> lines, JsonObject lengths) {
    List<MmhalRecord> images = data.distinctImages();
    List<Question> qs = new ArrayList<>();
    for (MmhalRecord r : images) {
      Path image = ImagePaths.resolve(data.images(), r.imageSrc(), "image " + r.imageId() + ": field 'image_src'");
      qs.add(new Question("chair-" + r.imageId(), r.imageId(), image, config.chairPrompt()));
    }
    List<Answer> answers = ask("chair", qs, source);
    List<ChairScorer.Mentions> all = new ArrayList<>();
    for (int i = 0; i < qs.size(); i++) {
      Scene scene = data.scenes().get(images.get(i).imageId());
      Answer a = answers.get(i);
      Judgement j = judged(qs.get(i), () -> judge.judge(scene, MmhalType.HOLISTIC_DESCRIPTION, config.chairPrompt(),
          a.text()), a);
      ChairScorer.Mentions m = ChairScorer.mentions(scene, j);
      all.add(m);
      JsonObject line = new JsonObject();
      line.addProperty("phase", "chair");
      line.addProperty("id", qs.get(i).id());
      line.addProperty("image_id", scene.id());
      line.addProperty("question", config.chairPrompt());
      addAnswer(line, a);
      line.add("objects", strings(m.objects()));
      line.add("hallucinated_objects", strings(m.hallucinated()));
      line.addProperty("score", j.score());
      line.addProperty("hallucinated", j.hallucinated());
      lines.add(line);
    }
    ChairScorer.ChairMetrics c = ChairScorer.score(all);
    JsonObject o = new JsonObject();
    o.addProperty("descriptions", c.descriptions());
    o.addProperty("chair_s", c.chairS());
    o.addProperty("chair_i", c.chairI());
    o.addProperty("hallucinating_descriptions", c.hallucinatingDescriptions());
    o.addProperty("mentioned_objects", c.objects());
    o.addProperty("hallucinated_objects", c.hallucinatedObjects());
    o.addProperty("prompt", config.chairPrompt());
    lengths.add("chair", lengthJson(answers));
    return o;
  }

  /** The judge's verdict; a judge failure names the question and the answer it could not read. */
  private static Judgement judged(Question q, java.util.function.Supplier<Judgement> judging, Answer a) {
    try {
      return judging.get();
    } catch (RuntimeException e) {
      throw new FactRlException("eval: the judge failed on question " + q.id() + " (\"" + q.text() + "\"), answer \""
          + a.text() + "\": " + e, e);
    }
  }

  private static void addAnswer(JsonObject line, Answer a) {
    line.addProperty("model_answer", a.text());
    line.addProperty("tokens", a.tokens());
    line.addProperty("stopped", a.stopped());
  }

  private static JsonArray strings(List<String> s) {
    JsonArray a = new JsonArray();
    s.forEach(a::add);
    return a;
  }

  static double meanTokens(List<Answer> answers) {
    return answers.stream().mapToInt(Answer::tokens).average().orElse(0);
  }

  private static JsonObject lengthJson(List<Answer> answers) {
    JsonObject o = new JsonObject();
    o.addProperty("answers", answers.size());
    o.addProperty("mean_tokens", meanTokens(answers));
    o.addProperty("max_tokens", answers.stream().mapToInt(Answer::tokens).max().orElse(0));
    long cut = answers.stream().filter(a -> !a.stopped()).count();
    o.addProperty("cut_off_share", answers.isEmpty() ? 0 : (double) cut / answers.size());
    return o;
  }
}

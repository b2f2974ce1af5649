package org.factrl.eval;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.OptionalDouble;
import org.factrl.data.format.MmhalRecord;

/**
 * What an evaluation found: the metrics ({@code metrics.json}'s content), one record per question
 * with its answer and verdict ({@code answers.jsonl}), and the MMHal response template with our
 * answers ({@code response_template.json}). The accessors read the headline numbers.
 */
public record EvalReport(JsonObject metrics, ImmutableList<JsonObject> answers, ImmutableList<MmhalRecord> template) {
  public EvalReport {
    Preconditions.checkNotNull(metrics, "metrics");
    Preconditions.checkNotNull(answers, "answers");
    Preconditions.checkNotNull(template, "template");
  }

  /** Share of MMHal answers scored below 3. */
  public double hallucinationRate() {
    return metrics.get("hallucination_rate").getAsDouble();
  }

  /** Mean MMHal score, 0–6. */
  public double mmhalScore() {
    return metrics.get("mmhal_score").getAsDouble();
  }

  /** POPE F1 averaged over the samplings; empty without POPE files. */
  public OptionalDouble popeF1() {
    return optional("pope_f1");
  }

  /** POPE accuracy averaged over the samplings; empty without POPE files. */
  public OptionalDouble popeAccuracy() {
    return optional("pope_accuracy");
  }

  /** CHAIRs; empty when CHAIR was not run. */
  public OptionalDouble chairS() {
    return optional("chair_s");
  }

  /** CHAIRi; empty when CHAIR was not run. */
  public OptionalDouble chairI() {
    return optional("chair_i");
  }

  /** Mean tokens of the MMHal answers (EOS not counted). */
  public double meanResponseTokens() {
    return metrics.get("mean_response_tokens").getAsDouble();
  }

  private OptionalDouble optional(String key) {
    JsonElement e = metrics.get(key);
    return e == null || e.isJsonNull() ? OptionalDouble.empty() : OptionalDouble.of(e.getAsDouble());
  }
}

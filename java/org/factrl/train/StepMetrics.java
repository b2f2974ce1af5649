package org.factrl.train;

import com.google.gson.JsonObject;

/**
 * One optimizer step's record, a line of {@code metrics.jsonl}.
 *
 * @param step the 1-based step index
 * @param loss the step's loss (mean over its target tokens)
 * @param lr the learning rate the step used
 * @param gradNorm the global gradient norm before clipping
 * @param tokens the batch's real tokens (text and image tokens, padding excluded)
 * @param targetTokens the tokens the loss averaged over (assistant tokens)
 * @param tokensPerSecond {@code tokens} per wall second of the step
 * @param seconds the step's wall time
 */
public record StepMetrics(long step, double loss, double lr, double gradNorm, long tokens, long targetTokens, double tokensPerSecond,
    double seconds) {
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("step", step);
    o.addProperty("loss", loss);
    o.addProperty("lr", lr);
    o.addProperty("grad_norm", gradNorm);
    o.addProperty("tokens", tokens);
    o.addProperty("target_tokens", targetTokens);
    o.addProperty("tokens_per_s", tokensPerSecond);
    o.addProperty("seconds", seconds);
    return o;
  }
}

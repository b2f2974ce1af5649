package org.factrl.ppo;

import com.google.gson.JsonObject;

/**
 * One PPO step's numbers (issue 12 items 1 and 5): means over the step's rollouts unless said.
 *
 * @param reward sequence score plus the summed per-token KL penalty
 * @param score the sequence score (scaled RM score + symbolic rewards, clipped)
 * @param rmScore the raw RM score
 * @param kl summed KL estimate per response (the penalty's estimator, before β)
 * @param length response tokens
 * @param entropy policy entropy per response token
 * @param clipFraction share of (token, epoch) updates whose policy ratio was clipped
 * @param valueLoss, policyLoss means over the minibatch updates
 * @param noEosShare share of responses cut off without EOS
 * @param rewardLengthCorrelation Pearson correlation of the reward with the response length
 * @param klBlowUp KL above the config's kl_warning, or grown kl_growth_factor times over kl_growth_window steps ({@link KlMonitor})
 * @param klGrowth KL over its value kl_growth_window steps before (floored); NaN in the first window (not written)
 * @param beta the KL coefficient used this step
 * @param judged rollouts the {@link ResponseJudge} judged (those whose image is annotated); 0 when no judge
 * @param hallucinationRate share of the judged responses with at least one hallucinated claim; NaN when none
 *     was judged (then neither it nor {@code informative} is written)
 * @param informative mean count of informative correct claims over the judged responses (NaN when none)
 */
public record PpoStepMetrics(long step, double reward, double score, double rmScore, double kl, double length,
    double entropy, double clipFraction, double valueLoss, double policyLoss, double noEosShare,
    double rewardLengthCorrelation, boolean klBlowUp, double klGrowth, double beta, double seconds, int judged,
    double hallucinationRate, double informative) {

  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("step", step);
    o.addProperty("reward", reward);
    o.addProperty("score", score);
    o.addProperty("rm_score", rmScore);
    o.addProperty("kl", kl);
    o.addProperty("length", length);
    o.addProperty("entropy", entropy);
    o.addProperty("clip_fraction", clipFraction);
    o.addProperty("value_loss", valueLoss);
    o.addProperty("policy_loss", policyLoss);
    o.addProperty("no_eos_share", noEosShare);
    o.addProperty("reward_length_correlation", rewardLengthCorrelation);
    o.addProperty("kl_blow_up", klBlowUp);
    if (Double.isFinite(klGrowth)) {
      o.addProperty("kl_growth", klGrowth);
    }
    o.addProperty("beta", beta);
    o.addProperty("seconds", seconds);
    if (judged > 0) { // the key MetricsPlots draws hallucination.png from
      o.addProperty("judged", judged);
      o.addProperty("hallucination_rate", hallucinationRate);
      o.addProperty("informative", informative);
    }
    return o;
  }
}

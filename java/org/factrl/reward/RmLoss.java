package org.factrl.reward;

import com.google.common.base.Preconditions;

/**
 * The reward model's pairwise loss (DESIGN.md §4, LLaVA-RLHF): for N pairs with scores p_i (the
 * preferred response) and o_i (the other),
 *
 * <pre>
 *   d_i = p_i − o_i
 *   m   = (1/N) Σ_i (p_i + o_i)
 *   L   = (1/N) Σ_i −log σ(d_i)  +  c·|m|          (c = 0.001: keeps the scores centred on 0)
 *
 *   ∂L/∂p_i = (−σ(−d_i) + c·sign(m)) / N
 *   ∂L/∂o_i = ( σ(−d_i) + c·sign(m)) / N           (sign(0) = 0: |m| has no slope there)
 * </pre>
 *
 * −log σ(d) is computed as softplus(−d) = max(−d, 0) + log1p(exp(−|d|)), finite for any finite d.
 * Sums are doubles in index order (bit-reproducible).
 */
public final class RmLoss {
  private RmLoss() {}

  /**
   * One batch's loss and its gradients.
   *
   * @param loss L
   * @param ranking the mean −log σ(d_i)
   * @param centring c·|m|
   * @param meanScore m / 2: the mean score of all 2N responses
   * @param correct pairs with p_i &gt; o_i
   * @param dPreferred ∂L/∂p_i
   * @param dOther ∂L/∂o_i
   */
  public record Result(double loss, double ranking, double centring, double meanScore, int correct, float[] dPreferred,
      float[] dOther) {}

  public static Result of(float[] preferred, float[] other, double centringCoefficient) {
    Preconditions.checkNotNull(preferred, "preferred");
    Preconditions.checkNotNull(other, "other");
    Preconditions.checkArgument(preferred.length == other.length && preferred.length > 0,
        "preferred and other must hold the same number (> 0) of scores, got %s and %s", preferred.length, other.length);
    Preconditions.checkArgument(Double.isFinite(centringCoefficient) && centringCoefficient >= 0,
        "centringCoefficient must be finite and >= 0, got %s", centringCoefficient);
    int n = preferred.length;
    double ranking = 0;
    double sum = 0;
    int correct = 0;
    for (int i = 0; i < n; i++) {
      double d = (double) preferred[i] - other[i];
      ranking += softplus(-d);
      sum += (double) preferred[i] + other[i];
      correct += preferred[i] > other[i] ? 1 : 0;
    }
    ranking /= n;
    double m = sum / n;
    double centring = centringCoefficient * Math.abs(m);
    double slope = centringCoefficient * Math.signum(m);
    float[] dp = new float[n];
    float[] dOther = new float[n];
    for (int i = 0; i < n; i++) {
      double d = (double) preferred[i] - other[i];
      double s = sigmoid(-d);
      dp[i] = (float) ((-s + slope) / n);
      dOther[i] = (float) ((s + slope) / n);
    }
    return new Result(ranking + centring, ranking, centring, m / 2, correct, dp, dOther);
  }

  /** log(1 + e^x), stable. */
  static double softplus(double x) {
    return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
  }

  static double sigmoid(double x) {
    if (x >= 0) {
      return 1 / (1 + Math.exp(-x));
    }
    double e = Math.exp(x);
    return e / (1 + e);
  }
}

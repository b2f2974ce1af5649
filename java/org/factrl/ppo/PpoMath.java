package org.factrl.ppo;

import java.util.Locale;
import java.util.Optional;
import org.factrl.data.format.GroundTruthAnswer;
import org.factrl.engine.FactRlException;

/**
 * The arithmetic of one PPO update (DESIGN.md §4 item 3), on host arrays, in one place so that each
 * formula is tested against a hand computation ({@code PpoMathTest}). Rows are sequences, columns
 * response tokens; {@code mask[b][t] != 0} marks a real response token (a prefix of each row).
 * Every mean is over valid tokens only and summed in double, in row-major order (bitwise repeatable).
 *
 * <pre>
 *   KL estimators, d = logp_pol − logp_ref:  k1 = d (max(d, 0) when clamped, the recipe's penalty),
 *                                            k2 = d²/2,  k3 = exp(−d) − 1 + d
 *   per-token reward   r_t = −β·kl_t,  plus the sequence score on the last valid token (EOS, or the
 *                      last token when the response was cut off)
 *   sequence score     s = clip(scale·rm + symbolic, ±c)   (c = 0: no clipping)
 *   symbolic           yes/no: +1 right, −1 wrong; multiple choice: +2 right letter;
 *                      −penalty·tokens/max_tokens; −8 without EOS
 *   policy loss        ρ = exp(logp − logp_old);  L = mean(max(−A·ρ, −A·clip(ρ, 1−ε, 1+ε)))
 *                      dL/dlogp = −A·ρ/N where the unclipped term is the max, else 0
 *   value loss         v_c = v_old + clip(v − v_old, ±ε_v);  L = ½·mean(max((v−R)², (v_c−R)²))
 *                      dL/dv = (v−R)/N or (v_c−R)·1[|v−v_old| < ε_v]/N, whichever term is the max
 *   adaptive KL        β ← β·(1 + clip(KL/target − 1, ±0.2)·n/horizon)   (Ziegler et al. 2019)
 * </pre>
 */
public final class PpoMath {
  private PpoMath() {}

  /** The per-token KL estimator used in the reward. */
  public enum KlEstimator {
    K1("k1"), K2("k2"), K3("k3");

    private final String jsonName;

    KlEstimator(String jsonName) {
      this.jsonName = jsonName;
    }

    public String jsonName() {
      return jsonName;
    }

    /** The estimator with JSON name {@code s}, or null. */
    public static KlEstimator of(String s) {
      for (KlEstimator e : values()) {
        if (e.jsonName.equals(s)) {
          return e;
        }
      }
      return null;
    }
  }

  /** The KL estimate of one token; {@code clampK1} applies the recipe's max(·, 0) to k1 (k2, k3 are >= 0 already). */
  public static double kl(KlEstimator estimator, double logpPolicy, double logpRef, boolean clampK1) {
    double d = logpPolicy - logpRef;
    return switch (estimator) {
      case K1 -> clampK1 ? Math.max(d, 0.0) : d;
      case K2 -> 0.5 * d * d;
      case K3 -> Math.exp(-d) - 1.0 + d;
    };
  }

  /**
   * The sequence score on the last token: {@code scale·rmScore + symbolic}, clipped to
   * [−clip, clip] when {@code clip > 0}.
   */
  public static double sequenceScore(double rmScore, double scale, double symbolic, double clip) {
    double s = scale * rmScore + symbolic;
    return clip > 0 ? Math.max(-clip, Math.min(clip, s)) : s;
  }

  /** Weights of the symbolic rewards (the recipe's: +1/−1 yes-no, +2 letter, 10 length, −8 no EOS). */
  public record SymbolicWeights(double yesNo, double multipleChoice, double lengthPenalty, double noEosPenalty) {
    public static SymbolicWeights recipe() {
      return new SymbolicWeights(1.0, 2.0, 10.0, 8.0);
    }
  }

  /**
   * The symbolic rewards of one response: correctness against {@code answer} (yes/no: the first
   * word; multiple choice: a leading letter such as {@code B}, {@code B.} or {@code (B)}; an answer
   * in neither form is neither rewarded nor penalised), minus the length penalty, minus the no-EOS
   * penalty when the response was cut off.
   */
  public static double symbolicReward(Optional<GroundTruthAnswer> answer, String responseText, int responseTokens,
      int maxResponseTokens, boolean endedWithEos, SymbolicWeights w) {
    if (maxResponseTokens <= 0) {
      throw new FactRlException("argument 'maxResponseTokens': must be > 0, got " + maxResponseTokens);
    }
    double r = 0;
    if (answer.isPresent()) {
      GroundTruthAnswer a = answer.get();
      switch (a.type()) {
        case YES_NO -> {
          String said = yesNo(responseText);
          if (said != null) {
            r += said.equals(a.value()) ? w.yesNo() : -w.yesNo();
          }
        }
        case MULTIPLE_CHOICE -> {
          String letter = leadingLetter(responseText);
          if (letter != null && letter.equals(a.value())) {
            r += w.multipleChoice();
          }
        }
        case OPEN -> { }
      }
    }
    r -= w.lengthPenalty() * responseTokens / maxResponseTokens;
    if (!endedWithEos) {
      r -= w.noEosPenalty();
    }
    return r;
  }

  /** "yes" or "no" when the response's first word is one of them (case and punctuation ignored), else null. */
  static String yesNo(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    int end = 0;
    while (end < t.length() && Character.isLetter(t.charAt(end))) {
      end++;
    }
    String first = t.substring(0, end);
    return first.equals("yes") || first.equals("no") ? first : null;
  }

  /** The capital letter a response opens with ("B", "B.", "B)", "(B)", "B,"), else null. */
  static String leadingLetter(String text) {
    String t = text.strip();
    if (t.startsWith("(")) {
      t = t.substring(1);
    }
    if (t.isEmpty() || t.charAt(0) < 'A' || t.charAt(0) > 'Z') {
      return null;
    }
    if (t.length() > 1 && Character.isLetterOrDigit(t.charAt(1))) {
      return null; // a word such as "Blue", not a letter
    }
    return t.substring(0, 1);
  }

  /** Valid tokens of row b (the prefix length of its mask). */
  static int validLength(int[] maskRow) {
    int n = 0;
    while (n < maskRow.length && maskRow[n] != 0) {
      n++;
    }
    return n;
  }

  /**
   * Per-token rewards {@code r[b][t] = −β·kl[b][t]} on valid tokens (0 elsewhere), plus
   * {@code score[b]} on row b's last valid token (a row with no valid token gets nothing).
   */
  public static float[][] tokenRewards(float[][] kl, int[][] mask, double beta, double[] score) {
    float[][] r = new float[kl.length][];
    for (int b = 0; b < kl.length; b++) {
      r[b] = new float[kl[b].length];
      int n = validLength(mask[b]);
      for (int t = 0; t < n; t++) {
        r[b][t] = (float) (-beta * kl[b][t]);
      }
      if (n > 0) {
        r[b][n - 1] = (float) (r[b][n - 1] + score[b]);
      }
    }
    return r;
  }

  /** A loss, its gradient with respect to the trained quantity and the share of valid tokens clipped. */
  public record LossAndGrad(double loss, float[][] grad, double clipFraction) {}

  /** The clipped surrogate (see the class comment) over the valid tokens; grad is d loss / d logp. */
  public static LossAndGrad policyLoss(float[][] logp, float[][] oldLogp, float[][] advantages, int[][] mask,
      double clip) {
    long n = count(mask);
    float[][] g = new float[logp.length][];
    double sum = 0;
    long clipped = 0;
    for (int b = 0; b < logp.length; b++) {
      g[b] = new float[logp[b].length];
      for (int t = 0; t < logp[b].length; t++) {
        if (mask[b][t] == 0) {
          continue;
        }
        double a = advantages[b][t];
        double ratio = Math.exp((double) logp[b][t] - oldLogp[b][t]);
        double l1 = -a * ratio;
        double l2 = -a * Math.max(1 - clip, Math.min(1 + clip, ratio));
        if (l2 > l1) {
          sum += l2;
          clipped++;
        } else {
          sum += l1;
          g[b][t] = (float) (-a * ratio / n);
        }
      }
    }
    return n == 0 ? new LossAndGrad(0, g, 0) : new LossAndGrad(sum / n, g, (double) clipped / n);
  }

  /** The clipped value loss (see the class comment) over the valid tokens; grad is d loss / d v. */
  public static LossAndGrad valueLoss(float[][] values, float[][] oldValues, float[][] returns, int[][] mask,
      double clip) {
    long n = count(mask);
    float[][] g = new float[values.length][];
    double sum = 0;
    long clipped = 0;
    for (int b = 0; b < values.length; b++) {
      g[b] = new float[values[b].length];
      for (int t = 0; t < values[b].length; t++) {
        if (mask[b][t] == 0) {
          continue;
        }
        double v = values[b][t];
        double old = oldValues[b][t];
        double ret = returns[b][t];
        double delta = v - old;
        double vc = old + Math.max(-clip, Math.min(clip, delta));
        double l1 = (v - ret) * (v - ret);
        double l2 = (vc - ret) * (vc - ret);
        if (l2 > l1) {
          sum += l2;
          clipped++;
          boolean inside = Math.abs(delta) < clip;
          g[b][t] = inside ? (float) ((vc - ret) / n) : 0f;
        } else {
          sum += l1;
          g[b][t] = (float) ((v - ret) / n);
        }
      }
    }
    return n == 0 ? new LossAndGrad(0, g, 0) : new LossAndGrad(0.5 * sum / n, g, (double) clipped / n);
  }

  /** Mean of {@code x} over valid tokens (0 when none). */
  public static double maskedMean(float[][] x, int[][] mask) {
    long n = 0;
    double s = 0;
    for (int b = 0; b < x.length; b++) {
      for (int t = 0; t < x[b].length; t++) {
        if (mask[b][t] != 0) {
          s += x[b][t];
          n++;
        }
      }
    }
    return n == 0 ? 0 : s / n;
  }

  /** Share of responses cut off without EOS (0 for no responses). */
  public static double noEosShare(boolean[] eos) {
    int cut = 0;
    for (boolean e : eos) {
      cut += e ? 0 : 1;
    }
    return eos.length == 0 ? 0 : (double) cut / eos.length;
  }

  /** Pearson correlation of two series (0 when either is constant). */
  public static double correlation(double[] x, double[] y) {
    int n = x.length;
    if (n != y.length) {
      throw new FactRlException("argument 'y': has " + y.length + " entries, 'x' has " + n);
    }
    double mx = 0;
    double my = 0;
    for (int i = 0; i < n; i++) {
      mx += x[i];
      my += y[i];
    }
    mx /= n;
    my /= n;
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < n; i++) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
      syy += (y[i] - my) * (y[i] - my);
    }
    return sxx == 0 || syy == 0 ? 0 : sxy / Math.sqrt(sxx * syy);
  }

  /** The adaptive KL controller's next β (Ziegler et al.): proportional, error clipped to ±0.2. */
  public static double adaptiveBeta(double beta, double observedKl, double targetKl, long steps, long horizon) {
    double error = Math.max(-0.2, Math.min(0.2, observedKl / targetKl - 1));
    return beta * (1 + error * steps / horizon);
  }

  static long count(int[][] mask) {
    long n = 0;
    for (int[] row : mask) {
      for (int m : row) {
        if (m != 0) {
          n++;
        }
      }
    }
    return n;
  }
}

package org.factrl.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.common.collect.ImmutableList;
import java.util.Optional;
import org.factrl.data.format.GroundTruthAnswer;
import org.factrl.ppo.PpoMath.KlEstimator;
import org.factrl.ppo.PpoMath.LossAndGrad;
import org.factrl.ppo.PpoMath.SymbolicWeights;
import org.junit.jupiter.api.Test;

/** Every PPO formula against numbers worked out by hand (tolerance 1e-6 unless exact). */
class PpoMathTest {
  static final SymbolicWeights W = SymbolicWeights.recipe();

  @Test
  void klEstimators() {
    // d = -1.0 - (-1.5) = 0.5
    assertEquals(0.5, PpoMath.kl(KlEstimator.K1, -1.0, -1.5, true), 1e-12);
    assertEquals(0.125, PpoMath.kl(KlEstimator.K2, -1.0, -1.5, true), 1e-12);
    assertEquals(Math.exp(-0.5) - 0.5, PpoMath.kl(KlEstimator.K3, -1.0, -1.5, true), 1e-12); // 0.1065306597
    assertEquals(0.10653065971263342, PpoMath.kl(KlEstimator.K3, -1.0, -1.5, true), 1e-12);
    // d = -0.3: k1 clamped to 0 (the recipe's max(·, 0)), unclamped -0.3; k3 = e^0.3 - 1 - 0.3
    assertEquals(0.0, PpoMath.kl(KlEstimator.K1, -2.0, -1.7, true), 0);
    assertEquals(-0.3, PpoMath.kl(KlEstimator.K1, -2.0, -1.7, false), 1e-12);
    assertEquals(0.04985880757600310, PpoMath.kl(KlEstimator.K3, -2.0, -1.7, true), 1e-12);
  }

  @Test
  void rewardAssemblyPutsTheScoreOnTheLastValidToken() {
    float[][] kl = {{0.5f, 0.0f, 2.0f, 9f}, {1.0f, 9f, 9f, 9f}, {9f, 9f, 9f, 9f}};
    int[][] mask = {{1, 1, 1, 0}, {1, 0, 0, 0}, {0, 0, 0, 0}};
    float[][] r = PpoMath.tokenRewards(kl, mask, 0.1, new double[] {3.0, -1.0, 7.0});
    assertArrayEquals(new float[] {-0.05f, 0f, 2.8f, 0f}, r[0], 1e-6f);
    assertArrayEquals(new float[] {-1.1f, 0f, 0f, 0f}, r[1], 1e-6f);
    assertArrayEquals(new float[] {0f, 0f, 0f, 0f}, r[2], 0f); // no valid token: no score
  }

  @Test
  void sequenceScoreScalesClipsAndAddsSymbolic() {
    assertEquals(10 * 0.3 - 2.5, PpoMath.sequenceScore(0.3, 10, -2.5, 0), 1e-12);
    assertEquals(-1.0, PpoMath.sequenceScore(-0.3, 10, -2.5, 1.0), 1e-12);
    assertEquals(1.0, PpoMath.sequenceScore(0.9, 10, 0, 1.0), 1e-12);
  }

  @Test
  void symbolicRewards() {
    var yes = Optional.of(new GroundTruthAnswer(GroundTruthAnswer.Type.YES_NO, "yes", ImmutableList.of()));
    var no = Optional.of(new GroundTruthAnswer(GroundTruthAnswer.Type.YES_NO, "no", ImmutableList.of()));
    var mc = Optional.of(new GroundTruthAnswer(GroundTruthAnswer.Type.MULTIPLE_CHOICE, "B",
        ImmutableList.of("a cube", "a ball", "a cone")));
    // right yes: +1 - 10*4/16 = -1.5
    assertEquals(-1.5, PpoMath.symbolicReward(yes, "Yes, there is.", 4, 16, true, W), 1e-12);
    // wrong: -1 - 10*4/16 = -3.5
    assertEquals(-3.5, PpoMath.symbolicReward(no, "yes", 4, 16, true, W), 1e-12);
    // neither yes nor no ("Yellow" is not "yes"): only the length penalty; cut off: -8 more
    assertEquals(-2.5 - 8, PpoMath.symbolicReward(yes, "Yellow circle", 4, 16, false, W), 1e-12);
    // multiple choice: the letter +2; a word starting with B is no letter
    assertEquals(2 - 10 * 2 / 16.0, PpoMath.symbolicReward(mc, "(B) a ball", 2, 16, true, W), 1e-12);
    assertEquals(2 - 10 * 2 / 16.0, PpoMath.symbolicReward(mc, "B.", 2, 16, true, W), 1e-12);
    assertEquals(-10 * 2 / 16.0, PpoMath.symbolicReward(mc, "Ball", 2, 16, true, W), 1e-12);
    assertEquals(-10 * 2 / 16.0, PpoMath.symbolicReward(mc, "C", 2, 16, true, W), 1e-12);
    // no ground truth: length and EOS only
    assertEquals(-10.0 - 8, PpoMath.symbolicReward(Optional.empty(), "x", 16, 16, false, W), 1e-12);
  }

  @Test
  void clippedSurrogateByHand() {
    // N = 3 valid tokens, ε = 0.2.
    // t0: A = +1, ρ = e^0.5 = 1.6487 > 1.2: clipped, loss term -1.2, grad 0
    // t1: A = -2, ρ = e^-0.1 = 0.904837: -A·ρ = 1.809675, -A·clip = 1.809675 (inside): unclipped, grad = 2ρ/3
    // t2: A = -1, ρ = e^-0.5 = 0.606531 < 0.8: -A·ρ = 0.606531, -A·0.8 = 0.8 > : clipped, term 0.8, grad 0
    float[][] lp = {{-0.5f, -1.1f}, {-1.5f, 7f}};
    float[][] old = {{-1.0f, -1.0f}, {-1.0f, 0f}};
    float[][] adv = {{1f, -2f}, {-1f, 5f}};
    int[][] mask = {{1, 1}, {1, 0}};
    LossAndGrad r = PpoMath.policyLoss(lp, old, adv, mask, 0.2);
    double rho1 = Math.exp(-0.1);
    assertEquals((-1.2 + 2 * rho1 + 0.8) / 3, r.loss(), 1e-6);
    assertEquals(2.0 / 3, r.clipFraction(), 1e-12);
    assertArrayEquals(new float[] {0f, (float) (2 * rho1 / 3)}, r.grad()[0], 1e-6f);
    assertArrayEquals(new float[] {0f, 0f}, r.grad()[1], 0f);
  }

  @Test
  void surrogateGradientMatchesFiniteDifferences() {
    float[][] old = {{-1.0f, -2.0f, -0.7f}};
    float[][] adv = {{0.7f, -1.3f, 0.4f}};
    int[][] mask = {{1, 1, 1}};
    float[][] lp = {{-0.95f, -2.1f, -0.72f}}; // all ratios inside [0.8, 1.2]
    LossAndGrad r = PpoMath.policyLoss(lp, old, adv, mask, 0.2);
    for (int t = 0; t < 3; t++) {
      float h = 1e-3f;
      float[][] p = {lp[0].clone()};
      float[][] m = {lp[0].clone()};
      p[0][t] += h;
      m[0][t] -= h;
      double fd = (PpoMath.policyLoss(p, old, adv, mask, 0.2).loss() - PpoMath.policyLoss(m, old, adv, mask, 0.2).loss())
          / (p[0][t] - m[0][t]);
      assertEquals(fd, r.grad()[0][t], 1e-4, "t=" + t);
    }
  }

  @Test
  void valueClippingByHand() {
    // ε_v = 0.2, N = 3.
    // t0: v 1.0, old 0.5, R 0.0: v_c = 0.7; (1.0)² = 1 vs 0.49: unclipped, grad 1.0/3
    // t1: v 1.0, old 0.5, R 2.0: v_c = 0.7; 1 vs 1.69: clipped term, |Δ| = 0.5 >= 0.2: grad 0
    // t2: v 0.6, old 0.5, R 2.0: v_c = 0.6 (inside); equal terms: unclipped, grad -1.4/3
    float[][] v = {{1.0f, 1.0f, 0.6f}};
    float[][] old = {{0.5f, 0.5f, 0.5f}};
    float[][] ret = {{0.0f, 2.0f, 2.0f}};
    int[][] mask = {{1, 1, 1}};
    LossAndGrad r = PpoMath.valueLoss(v, old, ret, mask, 0.2);
    assertEquals(0.5 * (1.0 + 1.69 + 1.96) / 3, r.loss(), 1e-6);
    assertEquals(1.0 / 3, r.clipFraction(), 1e-12);
    assertArrayEquals(new float[] {(float) (1.0 / 3), 0f, (float) (-1.4 / 3)}, r.grad()[0], 1e-6f);
  }

  @Test
  void correlationAndAdaptiveBeta() {
    assertEquals(1.0, PpoMath.correlation(new double[] {1, 2, 3}, new double[] {2, 4, 6}), 1e-12);
    assertEquals(-1.0, PpoMath.correlation(new double[] {1, 2, 3}, new double[] {3, 2, 1}), 1e-12);
    assertEquals(0.0, PpoMath.correlation(new double[] {1, 1, 1}, new double[] {3, 2, 1}), 0);
    // KL 12 vs target 6: error clipped to 0.2; n/horizon = 100/10000 → β·1.002
    assertEquals(0.1 * 1.002, PpoMath.adaptiveBeta(0.1, 12, 6, 100, 10000), 1e-12);
    // KL 5.4 vs 6: error -0.1 → β·0.999
    assertEquals(0.1 * 0.999, PpoMath.adaptiveBeta(0.1, 5.4, 6, 100, 10000), 1e-12);
  }
}

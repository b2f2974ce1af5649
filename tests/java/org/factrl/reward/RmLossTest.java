package org.factrl.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The pairwise loss against a hand computation and its gradient against central differences (double). */
class RmLossTest {
  private static double byHand(float[] p, float[] o, double c) {
    double sum = 0;
    double m = 0;
    for (int i = 0; i < p.length; i++) {
      sum += -Math.log(1 / (1 + Math.exp(-((double) p[i] - o[i]))));
      m += (double) p[i] + o[i];
    }
    return sum / p.length + c * Math.abs(m / p.length);
  }

  @Test
  void lossMatchesAHandComputation() {
    float[] p = {1f, 0f};
    float[] o = {0f, 2f};
    RmLoss.Result r = RmLoss.of(p, o, 0.1);
    // d = (1, −2): (softplus(−1) + softplus(2)) / 2 = (0.3132617 + 2.1269280) / 2; m = 1.5
    assertEquals(1.2200948, r.ranking(), 1e-7);
    assertEquals(0.15, r.centring(), 1e-12);
    assertEquals(1.3700948, r.loss(), 1e-7);
    assertEquals(byHand(p, o, 0.1), r.loss(), 1e-12);
    assertEquals(1, r.correct());
    assertEquals(0.75, r.meanScore(), 1e-12);
    // ∂L/∂p0 = (−σ(−1) + 0.1) / 2, ∂L/∂o1 = (σ(2) + 0.1) / 2
    assertEquals((-0.26894142 + 0.1) / 2, r.dPreferred()[0], 1e-7);
    assertEquals((0.88079708 + 0.1) / 2, r.dOther()[1], 1e-7);
  }

  @Test
  void gradientMatchesCentralDifferences() {
    float[] p = {0.3f, -1.2f, 2.5f, 0.05f};
    float[] o = {0.9f, -2.0f, 1.0f, 0.4f};
    for (double c : new double[] {0.0, 0.001, 0.5}) {
      RmLoss.Result r = RmLoss.of(p, o, c);
      for (int i = 0; i < p.length; i++) {
        for (boolean pref : new boolean[] {true, false}) {
          float[] a = (pref ? p : o).clone();
          float h = 1e-3f;
          float[] plus = a.clone();
          plus[i] += h;
          float[] minus = a.clone();
          minus[i] -= h;
          double lp = pref ? byHand(plus, o, c) : byHand(p, plus, c);
          double lm = pref ? byHand(minus, o, c) : byHand(p, minus, c);
          double fd = (lp - lm) / ((double) plus[i] - minus[i]);
          double g = pref ? r.dPreferred()[i] : r.dOther()[i];
          assertEquals(fd, g, 2e-6, "c " + c + ", " + (pref ? "p" : "o") + i);
        }
      }
    }
  }

  @Test
  void extremeMarginsStayFinite() {
    RmLoss.Result r = RmLoss.of(new float[] {-1000f}, new float[] {1000f}, 0.001);
    assertEquals(2000, r.ranking(), 1e-9);
    assertTrue(Float.isFinite(r.dPreferred()[0]));
    assertEquals(-1.0, r.dPreferred()[0], 1e-9);
    assertEquals(0.0, RmLoss.of(new float[] {1000f}, new float[] {-1000f}, 0).ranking(), 1e-12);
  }
}

package org.factrl.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The reward-hacking monitors' math on hand values. */
class KlMonitorTest {
  @Test
  void thresholdFlagsOnlyValuesAboveIt() {
    KlMonitor m = new KlMonitor(5, 0, 3, 0.25);
    assertFalse(m.observe(5.0).blowUp());
    KlMonitor.Verdict v = m.observe(5.01);
    assertTrue(v.aboveThreshold());
    assertTrue(v.blowUp());
    assertEquals("KL 5.010 above kl_warning 5.000", v.reason(5, 0, 3));
  }

  @Test
  void growthComparesWithTheValueWindowStepsBeforeFlooredAtTheFloor() {
    KlMonitor m = new KlMonitor(100, 4, 2, 0.25);
    // step 1, 2: fewer than `window` earlier values, no growth defined
    assertTrue(Double.isNaN(m.observe(0.0).growth()));
    assertTrue(Double.isNaN(m.observe(0.5).growth()));
    // step 3 against step 1 (0.0, floored to 0.25): 0.9 / 0.25 = 3.6 < 4
    KlMonitor.Verdict v3 = m.observe(0.9);
    assertEquals(3.6, v3.growth(), 1e-12);
    assertFalse(v3.blowUp());
    // step 4 against step 2 (0.5): 2.0 / 0.5 = 4 ≥ 4
    KlMonitor.Verdict v4 = m.observe(2.0);
    assertEquals(4.0, v4.growth(), 1e-12);
    assertTrue(v4.grew());
    assertFalse(v4.aboveThreshold());
    assertEquals("KL 2.000 grew 4.0x over 2 steps (kl_growth_factor 4.0)", v4.reason(100, 4, 2));
    // step 5 against step 3 (0.9): 2.1 / 0.9 < 4
    assertFalse(m.observe(2.1).blowUp());
    assertArrayEquals(new double[] {2.0, 2.1}, m.history());
  }

  @Test
  void factorZeroTurnsGrowthOffButStillReportsIt() {
    KlMonitor m = new KlMonitor(100, 0, 1, 0.25);
    m.observe(0.3);
    KlMonitor.Verdict v = m.observe(30);
    assertEquals(100.0, v.growth(), 1e-12);
    assertFalse(v.blowUp());
  }

  @Test
  void restoredHistoryGivesTheSameVerdictsAsAnUninterruptedRun() {
    double[] kls = {0.1, 0.4, 0.3, 1.7, 0.2, 2.5, 9.0};
    KlMonitor a = new KlMonitor(5, 3, 3, 0.25);
    KlMonitor.Verdict[] whole = new KlMonitor.Verdict[kls.length];
    for (int i = 0; i < kls.length; i++) {
      whole[i] = a.observe(kls[i]);
    }
    KlMonitor first = new KlMonitor(5, 3, 3, 0.25);
    for (int i = 0; i < 4; i++) {
      first.observe(kls[i]);
    }
    KlMonitor resumed = new KlMonitor(5, 3, 3, 0.25);
    resumed.restore(first.history());
    for (int i = 4; i < kls.length; i++) {
      assertEquals(whole[i], resumed.observe(kls[i]), "step " + (i + 1));
    }
    // hand check of the last: 9.0 / max(1.7, 0.25) = 5.294..., above 3 and above kl_warning 5
    assertEquals(9.0 / 1.7, whole[6].growth(), 1e-12);
    assertTrue(whole[6].grew() && whole[6].aboveThreshold());
    // 2.5 / 0.4 = 6.25 ≥ 3: grew at step 6
    assertTrue(whole[5].grew());
  }

  @Test
  void noEosShareAndCorrelationOnHandValues() {
    assertEquals(0.4, PpoMath.noEosShare(new boolean[] {true, false, true, false, true}), 1e-15);
    assertEquals(0.0, PpoMath.noEosShare(new boolean[0]), 0);
    // x = 1..4, y = 2,1,4,3: means 2.5, 2.5; sxy = 3, sxx = syy = 5 -> r = 0.6
    assertEquals(0.6, PpoMath.correlation(new double[] {1, 2, 3, 4}, new double[] {2, 1, 4, 3}), 1e-12);
    // reward {3, 1, 2} vs length {10, 30, 20}: sxy = -20, sxx = 2, syy = 200 -> r = -1
    assertEquals(-1.0, PpoMath.correlation(new double[] {3, 1, 2}, new double[] {10, 30, 20}), 1e-12);
    // x {0, 0, 1, 1}, y {0, 1, 0, 1}: uncorrelated
    assertEquals(0.0, PpoMath.correlation(new double[] {0, 0, 1, 1}, new double[] {0, 1, 0, 1}), 1e-12);
  }

  @Test
  void configKeysReachTheMonitor() {
    PpoConfig c = PpoConfig.defaults().with("kl_growth_factor", 2.5).with("kl_growth_window", 7L)
        .with("kl_growth_floor", 0.5).with("kl_warning", 3.0);
    KlMonitor m = KlMonitor.of(c);
    assertEquals(2.5, m.factor());
    assertEquals(7, m.window());
    assertEquals(3.0, m.threshold());
  }
}

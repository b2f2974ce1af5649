package org.factrl.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.factrl.engine.FactRlException;
import org.junit.jupiter.api.Test;

/** Hand-computed values of HF's cosine-with-warm-up schedule; tolerance 1e-18 absolute. */
class LearningRateScheduleTest {
  private static final double TOL = 1e-18;

  @Test
  void designScheduleWarmsUpLinearlyThenDecaysByCosine() {
    // DESIGN.md §4: peak 3e-5, 5 warm-up steps; 25 total steps, floor 0.
    LearningRateSchedule s = LearningRateSchedule.warmupCosine(3e-5, 5, 25, 0.0);
    assertEquals(0.0, s.lr(0), TOL);
    assertEquals(0.6e-5, s.lr(1), TOL);
    assertEquals(2.4e-5, s.lr(4), TOL);
    assertEquals(3e-5, s.lr(5), TOL);
    // progress 0.25: 0.5 * (1 + cos(pi/4)) = 0.853553390593...
    assertEquals(3e-5 * 0.8535533905932737, s.lr(10), TOL);
    assertEquals(1.5e-5, s.lr(15), TOL); // half way: cos(pi/2) = 0
    assertEquals(3e-5 * 0.1464466094067262, s.lr(20), TOL);
    assertEquals(0.0, s.lr(25), TOL);
    assertEquals(0.0, s.lr(1000), TOL); // stays at the floor
  }

  @Test
  void floorRaisesTheCosineWithoutChangingWarmup() {
    LearningRateSchedule s = LearningRateSchedule.warmupCosine(1.0, 2, 12, 0.1);
    assertEquals(0.5, s.lr(1), TOL);
    assertEquals(1.0, s.lr(2), TOL);
    assertEquals(0.5 * 0.9 + 0.1, s.lr(7), 1e-15);
    assertEquals(0.1, s.lr(12), 1e-15);
    assertEquals(0.1, s.lr(99), 1e-15);
  }

  @Test
  void rateNeverIncreasesAfterWarmup() {
    LearningRateSchedule s = LearningRateSchedule.warmupCosine(3e-5, 5, 100, 0.0);
    for (long t = 5; t < 120; t++) {
      assertTrue(s.lr(t + 1) <= s.lr(t), "step " + t);
    }
  }

  @Test
  void constantIsConstant() {
    LearningRateSchedule s = LearningRateSchedule.constant(1e-3);
    assertEquals(1e-3, s.lr(0), TOL);
    assertEquals(1e-3, s.lr(12345), TOL);
  }

  @Test
  void badArgumentsAreNamed() {
    assertMessage("peak", () -> LearningRateSchedule.warmupCosine(Double.NaN, 1, 2, 0));
    assertMessage("warmupSteps", () -> LearningRateSchedule.warmupCosine(1, -1, 2, 0));
    assertMessage("totalSteps", () -> LearningRateSchedule.warmupCosine(1, 5, 2, 0));
    assertMessage("floorRatio", () -> LearningRateSchedule.warmupCosine(1, 1, 2, 1.5));
    assertMessage("step", () -> LearningRateSchedule.constant(1).lr(-1));
  }

  private static void assertMessage(String name, Runnable r) {
    FactRlException e = assertThrows(FactRlException.class, r::run);
    assertTrue(e.getMessage().contains(name), e.getMessage());
  }
}

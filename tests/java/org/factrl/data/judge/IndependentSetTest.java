package org.factrl.data.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The judge against the independent answer set ({@link IndependentSet}: 1958 answers labelled by
 * an engineer who had not read the judge). Prints the per-type table and holds a regression floor:
 * the rates measured when the set was merged (issue 11) may not get worse. The goal is
 * accuracy ≥ 98 %, false alarms ≤ 1 %, misses ≤ 3 % on every type.
 */
class IndependentSetTest {
  private static List<IndependentSet.Result> results;

  /**
   * Floors: type → {min accuracy, max false-alarm rate, max miss rate}, in percent: the rates
   * measured on 2 December 2026 (printed rounded to 0.1) less 0.1 of slack for the rounding.
   */
  private static final Map<String, double[]> FLOORS = Map.ofEntries(
      Map.entry("adversarial", new double[] {99.9, 0.1, 0.1}),
      Map.entry("attribute", new double[] {99.9, 0.1, 0.1}),
      Map.entry("comparison", new double[] {99.4, 0.1, 1.2}),
      Map.entry("counting", new double[] {99.4, 0.1, 1.1}),
      Map.entry("environment", new double[] {99.4, 1.1, 0.1}),
      Map.entry("holistic", new double[] {99.9, 0.1, 0.1}),
      Map.entry("other", new double[] {99.4, 1.1, 0.1}),
      Map.entry("pope", new double[] {99.4, 1.1, 0.1}),
      Map.entry("relation", new double[] {99.9, 0.1, 0.1}),
      Map.entry("all", new double[] {99.6, 0.5, 0.3}));

  @BeforeAll
  static void judge() {
    results = IndependentSet.judgeAll(new ExactJudge());
  }

  @Test
  void everyTypeStaysAtOrAboveTheMeasuredRates() {
    Map<String, IndependentSet.Rates> byType = IndependentSet.byType(results);
    System.out.println("Independent answer set, by question type:\n" + IndependentSet.table(byType));
    System.out.println("By answer class:\n" + IndependentSet.table(IndependentSet.byClass(results)));
    List<String> worse = new ArrayList<>();
    for (Map.Entry<String, double[]> e : FLOORS.entrySet()) {
      IndependentSet.Rates r = byType.get(e.getKey());
      double[] f = e.getValue();
      if (100 * r.accuracy() < f[0] || 100 * r.falseAlarmRate() > f[1]
          || 100 * r.missRate() > f[2]) {
        worse.add(e.getKey() + ": " + r + " vs floor acc>=" + f[0] + " fa<=" + f[1] + " miss<="
            + f[2]);
      }
    }
    assertTrue(worse.isEmpty(), "worse than the regression floor:\n" + String.join("\n", worse));
  }

  @Test
  void onlyTheKnownItemsAreJudgedWrong() {
    Set<String> wrong = new TreeSet<>();
    for (IndependentSet.Result r : results) {
      if (!r.right()) {
        wrong.add(r.item().id());
      }
    }
    Set<String> newlyWrong = new TreeSet<>(wrong);
    newlyWrong.removeAll(KNOWN_WRONG);
    assertEquals(Set.of(), newlyWrong, "answers judged wrong that were right before");
    // a known failure that starts passing should leave the list (so the list stays the truth)
    Set<String> fixed = new TreeSet<>(KNOWN_WRONG);
    fixed.removeAll(wrong);
    assertEquals(Set.of(), fixed, "known failures now judged right: remove them from KNOWN_WRONG");
  }

  /**
   * Answers the judge still gets wrong, each with why (kept so that any new failure is caught;
   * remove an id when it is fixed).
   */
  private static final Set<String> KNOWN_WRONG = Set.of(
      "ind-1326", // "two purple objects: two circles": the colon's list elaborates the phrase
      "ind-1849", // "Not one — two of them!": "not" as emphasis read as "no"
      "ind-1908", // "the top-right one is larger": a position naming which of two same shapes
      "ind-1916", // "Two triangles: one purple, one green.": colours after a colon not read
      "ind-1927", // "I wouldn't say there isn't": a double negation read as "no"
      "ind-1950"); // "the sky is dark with no stars in it": sky stars read as star shapes
}

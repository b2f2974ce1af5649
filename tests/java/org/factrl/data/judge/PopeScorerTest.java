package org.factrl.data.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.common.collect.ImmutableSortedMap;
import java.util.ArrayList;
import java.util.List;
import org.factrl.data.PopeSampling;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PopeScorerTest {
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "Yes, there is.|YES", "yes|YES", "Yes.|YES", "  YES!|YES", "Yeah, I can see it.|YES",
      "Certainly.|YES", "No.|NO", "no|NO", "Nope, there isn't one.|NO",
      "No, there is no red circle.|NO", "Not really.|NO",
      "There is a red circle.|YES", "I see a dog next to the star.|YES",
      "There isn't a red circle.|NO", "I don't see any dog.|NO", "The image has no triangle.|NO",
      "I'm not sure.|UNPARSEABLE", "I cannot determine that from the image.|UNPARSEABLE",
      "''|UNPARSEABLE", "...|UNPARSEABLE", "42|UNPARSEABLE"})
  void parsesAnswers(String answer, PopeAnswer expected) {
    assertEquals(expected, PopeScorer.parse(answer), answer);
  }

  /**
   * Hand-computed: truth yes ×6 answered Y,Y,Y,Y,N,unparseable → tp 4, fn 2; truth no ×4 answered
   * Y,N,N,N → fp 1, tn 3. accuracy 7/10, precision 4/5, recall 4/6, F1 2·0.8·(2/3)/(0.8+2/3) =
   * 8/11, yes-ratio 5/10.
   */
  @Test
  void metricsFromAHandComputedConfusionMatrix() {
    List<PopeSample> samples = List.of(
        new PopeSample(true, "Yes."), new PopeSample(true, "Yes, there is a star."),
        new PopeSample(true, "There is one."), new PopeSample(true, "yep"),
        new PopeSample(true, "No."), new PopeSample(true, "I'm not sure."),
        new PopeSample(false, "Yes."), new PopeSample(false, "No, there isn't."),
        new PopeSample(false, "There is no dog."), new PopeSample(false, "no"));
    PopeMetrics m = PopeScorer.score(samples);
    assertEquals(new PopeMetrics(4, 1, 3, 2, 1), m);
    assertEquals(10, m.total());
    assertEquals(0.7, m.accuracy(), 1e-12);
    assertEquals(0.8, m.precision(), 1e-12);
    assertEquals(4.0 / 6, m.recall(), 1e-12);
    assertEquals(8.0 / 11, m.f1(), 1e-12);
    assertEquals(0.5, m.yesRatio(), 1e-12);
  }

  @Test
  void emptyDenominatorsAreZero() {
    PopeMetrics allNo = PopeScorer.score(List.of(new PopeSample(false, "No."),
        new PopeSample(false, "No.")));
    assertEquals(1.0, allNo.accuracy());
    assertEquals(0.0, allNo.precision());
    assertEquals(0.0, allNo.recall());
    assertEquals(0.0, allNo.f1());
    assertEquals(0.0, allNo.yesRatio());
    PopeMetrics none = PopeScorer.score(List.of());
    assertEquals(0, none.total());
    assertEquals(0.0, none.accuracy());
  }

  @Test
  void perProbeKind() {
    List<PopeSample> samples = new ArrayList<>();
    samples.add(new PopeSample(true, "Yes.", PopeSampling.RANDOM));
    samples.add(new PopeSample(false, "No.", PopeSampling.RANDOM));
    samples.add(new PopeSample(true, "Yes.", PopeSampling.POPULAR));
    samples.add(new PopeSample(false, "Yes.", PopeSampling.POPULAR));
    samples.add(new PopeSample(true, "No.", "adversarial"));
    samples.add(new PopeSample(false, "Yes.", "adversarial"));
    ImmutableSortedMap<String, PopeMetrics> byKind = PopeScorer.scoreByKind(samples);
    assertEquals(List.of("adversarial", "all", "popular", "random"),
        List.copyOf(byKind.keySet()));
    assertEquals(1.0, byKind.get("random").accuracy());
    assertEquals(0.5, byKind.get("popular").accuracy());
    assertEquals(1.0, byKind.get("popular").yesRatio());
    assertEquals(0.0, byKind.get("adversarial").accuracy());
    assertEquals(new PopeMetrics(2, 2, 1, 1, 0), byKind.get("all"));
    assertEquals(PopeSampling.ADVERSARIAL, PopeSampling.parse(" Adversarial "));
  }

  @Test
  void rejectsInconsistentCounts() {
    assertThrows(IllegalArgumentException.class, () -> new PopeMetrics(1, 0, 0, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> new PopeMetrics(-1, 0, 0, 0, 0));
  }
}

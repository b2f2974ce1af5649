package org.factrl.data.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Environment;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Size;
import org.junit.jupiter.api.Test;

class CorruptionBootstrapTest {
  private final ExactJudge judge = new ExactJudge();
  private final PreferenceLabeler labeler = new PreferenceLabeler(judge);

  @Test
  void describesTheBeachScene() {
    CorruptionBootstrap b = CorruptionBootstrap.builder().seed(1).build();
    String text = b.describe(TestScenes.beach());
    assertTrue(text.startsWith("The background is a sandy beach. There are four objects. "), text);
    for (String s : List.of("There is one large red circle.", "There is one small red circle.",
        "There is one small blue square.", "There is one large yellow star.")) {
      assertTrue(text.contains(s), s + " in " + text);
    }
    assertEquals(b.facts(TestScenes.beach()), judge.extractor().extract(text));
  }

  /** The correct description is all correct and reads back as its facts; every pair agrees. */
  @Test
  void bootstrapPairsAlwaysPreferTheCorrectTextOver200RandomScenes() {
    SplittableRandom rng = new SplittableRandom(2024);
    CorruptionBootstrap b = CorruptionBootstrap.builder().seed(99).build();
    Map<Corruption, Integer> seen = new EnumMap<>(Corruption.class);
    int preferredA = 0;
    for (int i = 0; i < 200; i++) {
      Scene scene = TestScenes.random(rng, "scene" + i);
      String correct = b.describe(scene);
      Judgement jc = judge.judge(scene, correct);
      assertFalse(jc.hallucinated(), correct + " -> " + jc.hallucinations());
      assertEquals(b.facts(scene), jc.claims(), correct);
      assertTrue(jc.unverifiable().isEmpty(), correct);
      for (BootstrapPair p : b.pairs(scene)) {
        seen.merge(p.corruption(), 1, Integer::sum);
        assertEquals(correct, p.correct());
        assertNotEquals(p.correct(), p.corrupted());
        Preference pref = labeler.compare(scene, p.responseA(), p.responseB());
        assertEquals(p.preferred(), pref.preferred(), p.corruption() + ": " + p.corrupted());
        assertEquals(Preference.Rule.FEWER_HALLUCINATIONS, pref.rule());
        Judgement bad = p.preferred() == 0 ? pref.b() : pref.a();
        assertEquals(1, bad.hallucinationCount(), p.corrupted() + " -> " + bad.verdicts());
        assertEquals(p.falseClaim(), bad.hallucinations().get(0).claim());
        preferredA += p.preferred() == 0 ? 1 : 0;
      }
    }
    for (Corruption c : Corruption.values()) {
      assertTrue(seen.getOrDefault(c, 0) >= 50, c + " applied " + seen.get(c) + " times");
    }
    int total = seen.values().stream().mapToInt(Integer::intValue).sum();
    assertTrue(preferredA > total / 3 && preferredA < 2 * total / 3,
        "the correct text should be A about half the time: " + preferredA + "/" + total);
  }

  @Test
  void sameSeedSamePairsOtherSeedOtherPairs() {
    SplittableRandom rng = new SplittableRandom(5);
    Scene scene = TestScenes.random(rng, "x");
    while (scene.objects().size() < 4) {
      scene = TestScenes.random(rng, "x");
    }
    List<BootstrapPair> a = CorruptionBootstrap.builder().seed(3).build().pairs(scene);
    List<BootstrapPair> b = CorruptionBootstrap.builder().seed(3).build().pairs(scene);
    assertEquals(a, b);
    boolean differs = false;
    for (long seed = 4; seed < 12 && !differs; seed++) {
      differs = !a.equals(CorruptionBootstrap.builder().seed(seed).build().pairs(scene));
    }
    assertTrue(differs, "other seeds should give other pairs");
  }

  @Test
  void wrongRelationNeedsARelation() {
    Scene single = new Scene("one", "one.png", Environment.FIELD, List.of(
        TestScenes.obj(0, ShapeKind.STAR, Colour.GREEN, Size.SMALL, 0.5, 0.5)));
    CorruptionBootstrap b = CorruptionBootstrap.builder().maxRelations(2).build();
    assertEquals(Optional.empty(), b.pair(single, Corruption.WRONG_RELATION));
    assertEquals(4, b.pairs(single).size());
    assertEquals("The background is a grassy field. There is one object."
        + " There is one small green star.", b.describe(single));
    CorruptionBootstrap onlyEnv = CorruptionBootstrap.builder()
        .corruptions(Corruption.WRONG_ENVIRONMENT).build();
    BootstrapPair p = onlyEnv.pairs(single).get(0);
    assertEquals(ClaimKind.ENVIRONMENT, p.falseClaim().kind());
    assertNotEquals(Environment.FIELD, p.falseClaim().environment());
  }
}

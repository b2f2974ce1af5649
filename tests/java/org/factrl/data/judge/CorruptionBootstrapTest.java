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
import org.factrl.data.shapes.tasks.ShapesDataSet;
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

  /**
   * The full description is all correct and reads back as its facts; in every pair the better
   * text is a correct subset of those facts, the worse one holds exactly the false claim (or, for
   * an omission, is a correct, less informative subset), and the labeler agrees.
   */
  @Test
  void bootstrapPairsAlwaysPreferTheBetterTextOver200RandomScenes() {
    SplittableRandom rng = new SplittableRandom(2024);
    CorruptionBootstrap b = CorruptionBootstrap.builder().seed(99).build();
    Map<Corruption, Integer> seen = new EnumMap<>(Corruption.class);
    int preferredA = 0;
    int betterShorter = 0;
    for (int i = 0; i < 200; i++) {
      Scene scene = TestScenes.random(rng, "scene" + i);
      String correct = b.describe(scene);
      Judgement jc = judge.judge(scene, correct);
      assertFalse(jc.hallucinated(), correct + " -> " + jc.hallucinations());
      assertEquals(b.facts(scene), jc.claims(), correct);
      assertTrue(jc.unverifiable().isEmpty(), correct);
      for (BootstrapPair p : b.pairs(scene)) {
        seen.merge(p.corruption(), 1, Integer::sum);
        assertNotEquals(p.better(), p.worse());
        assertTrue(b.facts(scene).containsAll(judge.extractor().extract(p.better())), p.better());
        Preference pref = labeler.compare(scene, p.responseA(), p.responseB());
        assertEquals(p.preferred(), pref.preferred(), p.corruption() + ": " + p.better() + " | " + p.worse());
        Judgement good = p.preferred() == 0 ? pref.a() : pref.b();
        Judgement bad = p.preferred() == 0 ? pref.b() : pref.a();
        assertEquals(0, good.hallucinationCount(), p.better());
        if (p.corruption() == Corruption.OMISSION) {
          assertEquals(Preference.Rule.MORE_CORRECT, pref.rule(), p.worse());
          assertEquals(0, bad.hallucinationCount(), p.worse());
          assertTrue(p.better().length() > p.worse().length(), "the more informative text is the longer");
        } else {
          assertEquals(Preference.Rule.FEWER_HALLUCINATIONS, pref.rule());
          assertEquals(1, bad.hallucinationCount(), p.worse() + " -> " + bad.verdicts());
          assertEquals(p.falseClaim().orElseThrow(), bad.hallucinations().get(0).claim());
        }
        preferredA += p.preferred() == 0 ? 1 : 0;
        betterShorter += p.better().length() < p.worse().length() ? 1 : 0;
      }
    }
    for (Corruption c : Corruption.values()) {
      assertTrue(seen.getOrDefault(c, 0) >= 50, c + " applied " + seen.get(c) + " times");
    }
    int total = seen.values().stream().mapToInt(Integer::intValue).sum();
    assertTrue(preferredA > total / 3 && preferredA < 2 * total / 3,
        "the better text should be A about half the time: " + preferredA + "/" + total);
    double shorter = (double) betterShorter / total;
    assertTrue(shorter >= 0.4 && shorter <= 0.6, "share of pairs whose better text is the shorter: " + shorter);
  }

  /** Without length balancing an insertion is always the longer text: the shortcut issue 12 names. */
  @Test
  void withoutBalancingEveryInsertionIsLongerWithBalancingAboutHalf() {
    SplittableRandom rng = new SplittableRandom(7);
    CorruptionBootstrap plain = CorruptionBootstrap.builder().seed(1).balanceLengths(false)
        .corruptions(Corruption.INSERTED_OBJECT).build();
    CorruptionBootstrap balanced = CorruptionBootstrap.builder().seed(1).build();
    int n = 0;
    int balancedLonger = 0;
    for (int i = 0; i < 200; i++) {
      Scene scene = TestScenes.random(rng, "s" + i);
      BootstrapPair p = plain.pairs(scene).get(0);
      assertTrue(p.worse().length() > p.better().length(), p.worse());
      BootstrapPair q = balanced.pair(scene, Corruption.INSERTED_OBJECT).orElseThrow();
      balancedLonger += q.worse().length() > q.better().length() ? 1 : 0;
      n++;
    }
    assertTrue(balancedLonger > n / 4 && balancedLonger < 3 * n / 4, "insertions longer: " + balancedLonger + "/" + n);
  }

  /**
   * Over many scenes, no object word predicts the losing text: for each colour, shape (either
   * number) and size word, "the text that has it and the other does not loses" is right at most
   * 60% of the time. (Foreign inserted nouns were right 100%; "one star" -> "two stars" made
   * plurals right 80%; an inserted singular next to plural-only text 90%.)
   */
  @Test
  void noObjectWordPredictsTheLosingTextOver3000Scenes() {
    ShapesDataSet data = ShapesDataSet.builder().seed(7).scenes(3000).build();
    CorruptionBootstrap b = CorruptionBootstrap.builder().seed(7).statistics(data.statistics()).build();
    java.util.Set<String> words = new java.util.HashSet<>();
    for (Colour c : Colour.values()) {
      words.add(c.word());
    }
    for (ShapeKind k : ShapeKind.values()) {
      words.add(k.singular());
      words.add(k.plural());
    }
    for (Size z : Size.values()) {
      words.add(z.word());
    }
    Map<String, int[]> hits = new java.util.TreeMap<>(); // word -> {rule right, rule applies}
    for (Scene s : data.scenes()) {
      for (BootstrapPair p : b.pairs(s)) {
        java.util.Set<String> won = new java.util.HashSet<>(List.of(p.better().toLowerCase(java.util.Locale.ROOT).split("[^a-z]+")));
        java.util.Set<String> lost = new java.util.HashSet<>(List.of(p.worse().toLowerCase(java.util.Locale.ROOT).split("[^a-z]+")));
        for (String w : words) {
          if (won.contains(w) != lost.contains(w)) {
            int[] h = hits.computeIfAbsent(w, k -> new int[2]);
            h[0] += lost.contains(w) ? 1 : 0;
            h[1]++;
          }
        }
      }
    }
    StringBuilder report = new StringBuilder();
    hits.forEach((w, h) -> report.append(String.format(java.util.Locale.ROOT, " %s %.2f/%d", w, (double) h[0] / h[1],
        h[1])));
    System.out.println("bootstrap word -> loses accuracy / pairs:" + report);
    assertEquals(words.size(), hits.size(), "every object word occurs:" + report);
    hits.forEach((w, h) -> {
      assertTrue(h[1] >= 100, w + " decides too few pairs to measure:" + report);
      assertTrue(h[0] <= 0.6 * h[1], w + " predicts the losing text:" + report);
    });
  }

  /** Inserted kinds come from the world and, where the scene allows, reuse its shapes and colours. */
  @Test
  void insertedKindsArePlausibleInWorldKinds() {
    Scene scene = new Scene("two", "two.png", Environment.BEACH, List.of(
        TestScenes.obj(0, ShapeKind.CIRCLE, Colour.RED, Size.SMALL, 0.2, 0.5),
        TestScenes.obj(1, ShapeKind.STAR, Colour.BLUE, Size.LARGE, 0.8, 0.5)));
    CorruptionBootstrap b = CorruptionBootstrap.builder().seed(3).build();
    SplittableRandom rng = new SplittableRandom(1);
    java.util.Set<String> drawn = new java.util.HashSet<>();
    for (int i = 0; i < 50; i++) {
      drawn.add(b.plausibleAbsentKind(scene, rng).phrase());
    }
    assertEquals(java.util.Set.of("red star", "blue circle"), drawn);
    for (int i = 0; i < 40; i++) {
      Scene s = TestScenes.random(rng, "r" + i);
      for (BootstrapPair p : b.pairs(s)) {
        p.falseClaim().ifPresent(c -> assertFalse(c.subject() != null && c.subject().isForeign(), c.toString()));
      }
    }
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
    assertEquals(Corruption.values().length - 1, b.pairs(single).size(), "every kind but WRONG_RELATION");
    assertEquals("The background is a grassy field. There is one object."
        + " There is one small green star.", b.describe(single));
    CorruptionBootstrap onlyEnv = CorruptionBootstrap.builder()
        .corruptions(Corruption.WRONG_ENVIRONMENT).build();
    BootstrapPair p = onlyEnv.pairs(single).get(0);
    assertEquals(ClaimKind.ENVIRONMENT, p.falseClaim().orElseThrow().kind());
    assertNotEquals(Environment.FIELD, p.falseClaim().orElseThrow().environment());
  }
}

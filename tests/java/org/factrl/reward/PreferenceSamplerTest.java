package org.factrl.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.format.PreferencePair;
import org.factrl.data.format.PreferencePairCodec;
import org.factrl.data.judge.Claim;
import org.factrl.data.judge.Descriptor;
import org.factrl.data.judge.Preference;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneJson;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Size;
import org.factrl.engine.FactRlException;
import org.factrl.eval.Answer;
import org.factrl.eval.Question;
import org.factrl.train.SplitMix64;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The labelling rule on hand-made answers judged by the real exact judge (fewer hallucinations
 * wins, then more informative correct claims, still-tied / identical / empty pairs dropped), the
 * sampling loop with a scripted responder (counts, seeds, determinism), the bootstrap supplement
 * and the provenance written to the file.
 */
class PreferenceSamplerTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  static Path data;
  static List<PreferencePair> bootstrap;
  static ImmutableList<PreferenceSampler.Prompt> prompts;

  @BeforeAll
  static void setUp() throws IOException {
    data = shared.resolve("ds");
    ShapesDataSetWriter.builder().scenes(40).imageSize(16).seed(3).build().write(data);
    DataSetFiles files = DataSetFiles.in(data);
    bootstrap = PreferencePairCodec.read(files.preferences());
    Map<String, Scene> scenes = new HashMap<>();
    for (Scene s : SceneJson.readList(files.annotations())) {
      scenes.put(s.image(), s);
    }
    prompts = PreferenceSampler.prompts(bootstrap, scenes, files.images(), files.preferences());
  }

  /** A sentence about a kind (shape and colour) the scene does not hold at all. */
  private static String absentObject(Scene s) {
    for (ShapeKind shape : ShapeKind.values()) {
      for (Colour colour : Colour.values()) {
        boolean there = false;
        for (SceneObject o : s.objects()) {
          there |= o.shape() == shape && o.colour() == colour;
        }
        if (!there) {
          return Claim.present(Descriptor.of(shape, colour, Size.values()[0])).sentence();
        }
      }
    }
    throw new AssertionError("scene holds every kind");
  }

  private static String environment(Scene s) {
    return Claim.environment(s.environment()).sentence();
  }

  private static String total(Scene s) {
    return Claim.count(Descriptor.ANY, s.objects().size()).sentence();
  }

  private static String firstObject(Scene s) {
    return Claim.present(Descriptor.of(s.objects().get(0))).sentence();
  }

  @Test
  void promptsAreTheDistinctRmPromptsWithTheirFacts() {
    Set<String> images = new HashSet<>();
    for (PreferencePair p : bootstrap) {
      images.add(p.image().orElseThrow());
    }
    assertEquals(images.size(), prompts.size(), "one description prompt per RM scene");
    for (PreferenceSampler.Prompt p : prompts) {
      assertEquals(5, p.captions().size(), p.id());
      assertEquals("Describe the image in detail.", p.question());
      assertEquals(p.scene().image(), p.image());
    }
  }

  @Test
  void theHallucinatedAnswerLosesEvenWhenItIsLongerAndSaysMore() {
    PreferenceSampler sampler = new PreferenceSampler(PreferenceSamplerConfig.defaults());
    PreferenceSampler.Prompt p = prompts.get(0);
    Scene s = p.scene();
    String clean = environment(s);
    String hallucinating = environment(s) + " " + firstObject(s) + " " + absentObject(s);
    PreferenceSampler.Labelled l = sampler.label(p, "x-0", hallucinating, clean);
    PreferencePair pair = l.pair().orElseThrow(() -> new AssertionError("dropped: " + l.drop())).pair();
    assertEquals(2, pair.preference(), "the clean answer (output_2) wins");
    assertEquals(1, pair.hallucinations1().getAsInt());
    assertEquals(0, pair.hallucinations2().getAsInt());
    assertEquals(Optional.of(Preference.Rule.FEWER_HALLUCINATIONS), l.pair().get().rule());
    assertTrue(l.pair().get().informative1().getAsInt() > l.pair().get().informative2().getAsInt(),
        "the loser said more correct things");
    assertEquals(p.captions(), pair.captions(), "facts travel with the pair");
    assertEquals(Optional.of(p.image()), pair.image());

    // both hallucinate: the one with fewer wins
    String two = absentObject(s) + " There is a dog.";
    PreferenceSampler.Labelled both = sampler.label(p, "x-1", absentObject(s), two);
    assertEquals(1, both.pair().orElseThrow().pair().preference());
    assertEquals(1, both.hallucinations1());
    assertEquals(2, both.hallucinations2());
  }

  @Test
  void onEqualHallucinationsTheMoreInformativeAnswerWins() {
    PreferenceSampler sampler = new PreferenceSampler(PreferenceSamplerConfig.defaults());
    PreferenceSampler.Prompt p = prompts.get(1);
    Scene s = p.scene();
    String more = environment(s) + " " + firstObject(s);
    PreferenceSampler.Labelled l = sampler.label(p, "x-2", environment(s), more);
    PreferencePair pair = l.pair().orElseThrow(() -> new AssertionError("dropped: " + l.drop())).pair();
    assertEquals(2, pair.preference());
    assertEquals(0, pair.hallucinations1().getAsInt());
    assertEquals(0, pair.hallucinations2().getAsInt());
    assertEquals(Optional.of(Preference.Rule.MORE_CORRECT), l.pair().get().rule());
    assertEquals(1, l.pair().get().informative1().getAsInt());
    assertEquals(2, l.pair().get().informative2().getAsInt());
    // a correct denial that does not answer anything earns nothing: still a tie, dropped
    PreferenceSampler.Labelled denial = sampler.label(p, "x-3", environment(s), environment(s) + " There is no dog.");
    assertEquals(Optional.of(PreferenceSampler.Drop.TIED), denial.drop());
  }

  @Test
  void exactTiesIdenticalAndEmptyResponsesAreDropped() {
    PreferenceSampler sampler = new PreferenceSampler(PreferenceSamplerConfig.defaults());
    PreferenceSampler.Prompt p = prompts.get(2);
    Scene s = p.scene();
    // one correct informative claim each, different lengths: no length rule, so dropped
    PreferenceSampler.Labelled tie = sampler.label(p, "x-4", environment(s), total(s));
    assertTrue(tie.pair().isEmpty());
    assertEquals(Optional.of(PreferenceSampler.Drop.TIED), tie.drop());
    assertEquals(0, tie.hallucinations1());
    // both hallucinate once and say nothing true: tied too
    PreferenceSampler.Labelled badTie = sampler.label(p, "x-5", absentObject(s), "There is a dog.");
    assertEquals(Optional.of(PreferenceSampler.Drop.TIED), badTie.drop());
    assertEquals(Optional.of(PreferenceSampler.Drop.IDENTICAL),
        sampler.label(p, "x-6", environment(s), "  " + environment(s) + "\n").drop());
    assertEquals(Optional.of(PreferenceSampler.Drop.EMPTY), sampler.label(p, "x-7", " ", environment(s)).drop());
  }

  /**
   * A stand-in for the model: each answer is one of a few hand-made texts, chosen by a hash of the
   * question id and the seed (so different seeds and the two rows of a prompt differ).
   */
  private static PreferenceSampler.Responder scripted(List<long[]> seen) {
    Map<String, Scene> byId = new HashMap<>();
    for (PreferenceSampler.Prompt p : prompts) {
      byId.put(p.scene().id(), p.scene());
    }
    return (questions, seed) -> {
      seen.add(new long[] {seed, questions.size()});
      List<Answer> out = new ArrayList<>();
      for (Question q : questions) {
        Scene s = byId.get(q.imageId());
        List<String> options = List.of(environment(s), environment(s) + " " + firstObject(s), total(s),
            absentObject(s) + " " + environment(s), environment(s));
        int k = (int) Long.remainderUnsigned(SplitMix64.mix(seed ^ q.id().hashCode()), options.size());
        out.add(new Answer(options.get(k), 10, k != 2));
      }
      return out;
    };
  }

  @Test
  void samplingKeepsTheWantedPairsAndRepeatsForASeed() {
    PreferenceSamplerConfig c = PreferenceSamplerConfig.builder().pairs(30).bootstrapShare(0.2).promptsPerBatch(3)
        .seed(5).build();
    assertEquals(24, c.sampledPairs());
    List<long[]> calls = new ArrayList<>();
    PreferenceSampler sampler = new PreferenceSampler(c);
    PreferenceSampler.Result r = sampler.sample(prompts, scripted(calls), null);
    assertEquals(24, r.pairs().size());
    assertTrue(r.rounds() >= 3, "8 prompts give at most 8 pairs a round: " + r.rounds());
    int dropped = r.dropped().values().stream().mapToInt(Integer::intValue).sum();
    // every judged pair is kept or dropped for a reason; only the last call's pairs after the 24th go unjudged
    int unjudged = r.responses() / 2 - 24 - dropped;
    assertTrue(unjudged >= 0 && unjudged < 3, "unjudged pairs: " + unjudged);
    assertTrue(r.dropped().get(PreferenceSampler.Drop.IDENTICAL) > 0, "options 0 and 4 are the same text");
    Set<String> ids = new HashSet<>();
    Set<Long> seeds = new HashSet<>();
    for (long[] call : calls) {
      assertTrue(call[1] <= 6 && call[1] % 2 == 0, "two rows per prompt, 3 prompts per call");
      seeds.add(call[0]);
    }
    assertEquals(calls.size(), seeds.size(), "every generation call has its own seed");
    for (PreferenceSampler.LabelledPair lp : r.pairs()) {
      PreferencePair p = lp.pair();
      assertTrue(ids.add(p.id()), "ids are unique: " + p.id());
      int hp = p.preference() == 1 ? p.hallucinations1().getAsInt() : p.hallucinations2().getAsInt();
      int hr = p.preference() == 1 ? p.hallucinations2().getAsInt() : p.hallucinations1().getAsInt();
      assertTrue(hp <= hr, p.id());
      assertEquals(PreferenceSampler.Source.SAMPLED, lp.source());
    }
    PreferenceSampler.Result again = new PreferenceSampler(c).sample(prompts, scripted(new ArrayList<>()), null);
    assertEquals(r.pairs(), again.pairs(), "a seed gives the same pairs in the same order");
    PreferenceSampler.Result other = new PreferenceSampler(c.toBuilder().seed(6).build())
        .sample(prompts, scripted(new ArrayList<>()), null);
    assertNotEquals(r.pairs(), other.pairs());

    // max_rounds bounds a model that gives too few decisive pairs
    PreferenceSampler.Result capped = new PreferenceSampler(c.toBuilder().maxRounds(1).build())
        .sample(prompts, scripted(new ArrayList<>()), null);
    assertEquals(1, capped.rounds());
    assertTrue(capped.pairs().size() <= prompts.size());
  }

  @Test
  void theBootstrapSupplementKeepsItsShareAndTheFileSaysWhereEachPairCameFrom() {
    PreferenceSamplerConfig c = PreferenceSamplerConfig.builder().pairs(20).bootstrapShare(0.25).promptsPerBatch(4)
        .seed(1).build();
    PreferenceSampler sampler = new PreferenceSampler(c);
    PreferenceSampler.Result r = sampler.sample(prompts, scripted(new ArrayList<>()), null);
    assertEquals(15, r.pairs().size());
    ImmutableList<PreferenceSampler.LabelledPair> extra = sampler.bootstrap(bootstrap, r.pairs().size());
    assertEquals(5, extra.size(), "a quarter of 20");
    assertEquals(extra, sampler.bootstrap(bootstrap, r.pairs().size()));
    List<PreferenceSampler.LabelledPair> all = new ArrayList<>(r.pairs());
    all.addAll(extra);
    Path file = dir.resolve("prefs.json");
    PreferenceSampler.write(file, all);
    List<PreferencePair> read = PreferencePairCodec.read(file);
    assertEquals(all.stream().map(PreferenceSampler.LabelledPair::pair).toList(), read, "the RM's reader reads it");
    List<String> sources = PreferenceSampler.sources(file);
    assertEquals(15, sources.stream().filter("sampled"::equals).count());
    assertEquals(5, sources.stream().filter("bootstrap"::equals).count());
    assertTrue(extra.stream().allMatch(p -> bootstrap.contains(p.pair())));

    com.google.gson.JsonObject stats = PreferenceStats.of(all);
    long longer = read.stream().filter(p -> p.preferred().strip().length() > p.rejected().strip().length()).count();
    assertEquals((double) longer / 20, stats.get("longer_wins").getAsDouble(), 1e-12);
    assertEquals(20, stats.get("pairs").getAsInt());
    com.google.gson.JsonObject sampledStats = PreferenceStats.of(r.pairs());
    assertEquals(15, sampledStats.getAsJsonObject("decided_by").get("fewer_hallucinations").getAsInt()
        + sampledStats.getAsJsonObject("decided_by").get("more_informative").getAsInt());
  }

  @Test
  void badSettingsAndPromptsAreRefusedByName() {
    FactRlException e = assertThrows(FactRlException.class, () -> PreferenceSamplerConfig.builder().bootstrapShare(1));
    assertTrue(e.getMessage().contains("bootstrap_share"), e.getMessage());
    e = assertThrows(FactRlException.class, () -> PreferenceSamplerConfig.builder().temperature(0));
    assertTrue(e.getMessage().contains("temperature"), e.getMessage());
    e = assertThrows(FactRlException.class, () -> PreferenceSamplerConfig.parse("{\"pairs\": 10, \"topp\": 1}", "c.json"));
    assertTrue(e.getMessage().startsWith("c.json: unknown key 'topp'"), e.getMessage());
    e = assertThrows(FactRlException.class, () -> PreferenceSamplerConfig.parse("{\"pairs\": 0}", "c.json"));
    assertTrue(e.getMessage().contains("pairs"), e.getMessage());
    PreferenceSamplerConfig c = PreferenceSamplerConfig.parse("{\"pairs\": 10, \"seed\": 4, \"top_p\": 0.9}", "c.json");
    assertEquals(c, PreferenceSamplerConfig.parse(c.toJson().toString(), "again"));

    PreferencePair p = bootstrap.get(0);
    PreferencePair noImage = new PreferencePair(p.id(), Optional.empty(), ImmutableList.of(
        org.factrl.data.format.Turn.human("Describe it.")), p.output1(), p.output2(), 1, p.hallucinations1(),
        p.hallucinations2(), p.captions(), p.rationale());
    e = assertThrows(FactRlException.class, () -> PreferenceSampler.prompts(List.of(p, noImage), Map.of(),
        DataSetFiles.in(data).images(), Path.of("x.json")));
    assertTrue(e.getMessage().contains("x.json: record 0") && e.getMessage().contains("has no annotation"),
        e.getMessage());
  }
}

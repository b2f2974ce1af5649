package org.factrl.stages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableList;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.format.PreferencePair;
import org.factrl.data.format.PreferencePairCodec;
import org.factrl.data.format.Turn;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;
import org.factrl.model.ModelConfig;
import org.factrl.model.Projector;
import org.factrl.reward.FactTemplate;
import org.factrl.reward.RewardScorer;
import org.factrl.train.MetricsLog;
import org.factrl.train.SplitMix64;
import org.factrl.train.TrainerState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reward-model stage on a micro model started from a LoRA SFT checkpoint (the SFT adapter is
 * merged): an easy synthetic set it must learn from the facts (held-out accuracy far above chance
 * with facts, near chance without), bit-exact resume on the shapes world's pairs (images + facts),
 * the scorer API, and the errors that name a record or a setting.
 */
class RmStageTest {
  private static final String[] COLOURS = {"red", "green", "blue", "yellow", "purple", "orange"};
  private static final String[] SHAPES = {"circle", "square", "triangle", "diamond", "star", "cross"};

  @TempDir static Path shared;
  @TempDir Path dir;
  static Path data;
  static Path easy;
  static Path sft;

  static ModelConfig micro(int vocab) {
    return ModelConfig.builder()
        .imageSize(16).imageChannels(3).patchSize(8)
        .visionHidden(16).visionLayers(1).visionHeads(2).visionIntermediate(32).visionFeatureLayer(-1)
        .projector(Projector.LINEAR)
        .vocabSize(vocab).hidden(32).layers(2).heads(2).intermediate(64).maxPositions(512)
        .imageTokenId(4)
        .build();
  }

  static SftStage.Options quiet() {
    return new SftStage.Options(null, false, 0);
  }

  @BeforeAll
  static void setUp() throws IOException {
    data = shared.resolve("ds");
    ShapesDataSetWriter.builder().scenes(12).imageSize(16).seed(9).build().write(data);
    int vocab;
    try (Tokenizer t = Tokenizer.load(DataSetFiles.in(data).tokenizer())) {
      vocab = t.vocabSize();
    }
    SftConfig c = SftConfig.builder().finetune(FineTuning.LORA).loraRank(4).loraAlpha(8).steps(2).batchSize(2)
        .lr(5e-3).warmupSteps(0).checkpointEvery(0).build();
    sft = SftStage.run(c, data, BaseModel.random(micro(vocab), 5, 0.05f), shared.resolve("sft"), quiet()).checkpoint();
    easy = easySet(shared.resolve("easy"), 360, 17);
  }

  /**
   * Pairs whose preferred answer names the colour the facts give and whose other answer names
   * another colour of the same world: only a model that reads the facts can tell them apart.
   */
  static Path easySet(Path root, int n, long seed) throws IOException {
    Files.createDirectories(root.resolve("images"));
    Files.copy(DataSetFiles.in(data).tokenizer(), root.resolve("tokenizer.json"));
    SplitMix64 r = new SplitMix64(seed);
    List<PreferencePair> pairs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String colour = COLOURS[r.nextInt(COLOURS.length)];
      String wrong = COLOURS[r.nextInt(COLOURS.length)];
      while (wrong.equals(colour)) {
        wrong = COLOURS[r.nextInt(COLOURS.length)];
      }
      String shape = SHAPES[r.nextInt(SHAPES.length)];
      int preference = 1 + r.nextInt(2);
      String good = "The " + shape + " is " + colour + ".";
      String bad = "The " + shape + " is " + wrong + ".";
      pairs.add(new PreferencePair("easy-" + i, Optional.empty(),
          ImmutableList.of(Turn.human("What colour is the " + shape + "?")), preference == 1 ? good : bad,
          preference == 1 ? bad : good, preference, OptionalInt.empty(), OptionalInt.empty(),
          ImmutableList.of("A " + colour + " " + shape + ".", "There is one " + shape + "."), Optional.empty()));
    }
    PreferencePairCodec.write(root.resolve("preferences.json"), pairs);
    return root;
  }

  private static List<JsonObject> metrics(Path run) {
    return MetricsLog.read(run.resolve(RmStage.METRICS_FILE));
  }

  @Test
  void heldOutAccuracyRisesFarAboveChanceWhenTheFactsHoldTheAnswer() {
    RmConfig c = RmConfig.builder().steps(150).pairsPerStep(8).heldOutPairs(64).evalEvery(50).lr(3e-3).warmupSteps(5)
        .loraRank(8).loraAlpha(16).seed(3).checkpointEvery(0).build();
    RmResult withFacts = RmStage.run(c, easy, sft, dir.resolve("facts"), quiet());
    RmResult without = RmStage.run(c.toBuilder().facts(false).build(), easy, sft, dir.resolve("nofacts"), quiet());
    System.out.printf("rm easy set: held-out accuracy %.3f with facts, %.3f without (64 pairs)%n",
        withFacts.heldOutAccuracy(), without.heldOutAccuracy());
    List<JsonObject> m = metrics(dir.resolve("facts"));
    assertEquals(150, m.size());
    assertTrue(m.get(49).has("heldout_accuracy") && m.get(99).has("heldout_accuracy") && !m.get(50).has("heldout_accuracy"));
    assertEquals(withFacts.heldOutAccuracy(), m.get(149).get("heldout_accuracy").getAsDouble());
    assertEquals(64, withFacts.heldOutPairs());
    // 44 of 64 or more: p < 0.002 for a coin; measured 0.719 with facts, 0.516 without
    assertTrue(withFacts.heldOutAccuracy() >= 0.68, "with facts: " + withFacts.heldOutAccuracy());
    assertTrue(without.heldOutAccuracy() < withFacts.heldOutAccuracy() - 0.15, "without facts: "
        + without.heldOutAccuracy());
    JsonObject saved = org.factrl.data.format.StrictJson.parse(org.factrl.data.format.JsonRecords.readText(
        withFacts.checkpoint().resolve(RmStage.EVAL_FILE)), "eval").getAsJsonObject();
    assertEquals(withFacts.heldOutAccuracy(), saved.get("heldout_accuracy").getAsDouble());

    // the scorer reads the same checkpoint: the preferred held-out answers score higher as often
    try (RewardScorer scorer = RewardScorer.open(dir.resolve("facts"))) {
      assertTrue(scorer.usesFacts());
      List<PreferencePair> held = RmStage.split(PreferencePairCodec.read(easy.resolve("preferences.json")), c,
          easy.resolve("preferences.json")).heldOut();
      List<RewardScorer.Request> requests = new ArrayList<>();
      for (PreferencePair p : held) {
        FactTemplate.Facts f = FactTemplate.Facts.of(p.captions(), p.rationale());
        requests.add(new RewardScorer.Request(Optional.empty(), p.prompt(), p.preferred(), f));
        requests.add(new RewardScorer.Request(Optional.empty(), p.prompt(), p.rejected(), f));
      }
      float[] s = scorer.score(requests, 5);
      assertArrayEquals(s, scorer.score(requests, 5), "a pure function of requests and seed");
      int correct = 0;
      for (int i = 0; i < held.size(); i++) {
        correct += s[2 * i] > s[2 * i + 1] ? 1 : 0;
      }
      assertTrue(correct >= 0.65 * held.size(), correct + " of " + held.size());
      FactRlException e = assertThrows(FactRlException.class, () -> scorer.score(List.of(new RewardScorer.Request(
          Optional.empty(), held.get(0).prompt(), "Red.", FactTemplate.Facts.none()))));
      assertTrue(e.getMessage().contains("requests[0]: no facts"), e.getMessage());
    }
  }

  /** 3 steps, checkpoint, 2 more (new objects) == 5 steps in one go: metrics, adapter, head, moments, state. */
  @Test
  void aResumedRunTakesTheSameStepsBitForBit() throws IOException {
    RmConfig c = RmConfig.builder().steps(5).pairsPerStep(3).heldOutPairs(4).evalEvery(2).lr(5e-3).warmupSteps(1)
        .loraRank(4).loraAlpha(8).checkpointEvery(3).weightDecay(0.01).seed(2).build();
    Path whole = dir.resolve("whole");
    RmStage.run(c, data, sft, whole, quiet());
    Path split = dir.resolve("split");
    RmResult first = RmStage.run(c, data, sft, split, quiet().stopAfter(3));
    assertEquals(3, first.steps());
    RmResult rest = RmStage.resume(data, split, quiet());
    assertEquals(2, rest.stepsThisRun());
    List<JsonObject> a = metrics(whole);
    List<JsonObject> b = metrics(split);
    assertEquals(5, a.size());
    assertEquals(5, b.size());
    for (int i = 0; i < 5; i++) {
      for (String k : List.of("loss", "grad_norm", "lr", "mean_score", "batch_accuracy")) {
        assertEquals(a.get(i).get(k).getAsDouble(), b.get(i).get(k).getAsDouble(), 0.0, "step " + (i + 1) + " " + k);
      }
    }
    assertEquals(a.get(3).get("heldout_accuracy").getAsDouble(), b.get(3).get("heldout_accuracy").getAsDouble(), 0.0);
    assertEquals(a.get(4).get("heldout_loss").getAsDouble(), b.get(4).get("heldout_loss").getAsDouble(), 0.0);
    Path endA = whole.resolve("checkpoints/step-00000005");
    Path endB = split.resolve("checkpoints/step-00000005");
    for (String f : List.of("adapters/rm/adapter_model.safetensors", RmStage.HEAD_FILE, RmStage.OPTIMIZER_FILE)) {
      assertArrayEquals(Files.readAllBytes(endA.resolve(f)), Files.readAllBytes(endB.resolve(f)), f);
    }
    assertEquals(TrainerState.read(endA).rngState(), TrainerState.read(endB).rngState());
    assertEquals(TrainerState.read(endA).dataPosition(), TrainerState.read(endB).dataPosition());
    assertEquals(c, RmConfig.read(endB.resolve(RmConfig.FILE_NAME)));
    assertTrue(Files.exists(endB.resolve("base.json")), "the base is referenced, not copied");
    assertFalse(Files.exists(endB.resolve("model")));
    assertTrue(Files.exists(endB.resolve(RmStage.EVAL_FILE)));
    assertEquals(0, RmStage.resume(data, split, quiet()).stepsThisRun(), "a finished run does nothing");
  }

  @Test
  void recordsWithoutFactsAreRefusedByName() throws IOException {
    Path root = dir.resolve("nofacts");
    Files.createDirectories(root.resolve("images"));
    Files.copy(DataSetFiles.in(data).tokenizer(), root.resolve("tokenizer.json"));
    List<PreferencePair> pairs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      pairs.add(PreferencePair.of("bare-" + i, Optional.empty(), List.of(Turn.human("Any shapes?")), "Yes.", "No.", 1));
    }
    PreferencePairCodec.write(root.resolve("preferences.json"), pairs);
    RmConfig c = RmConfig.builder().steps(1).pairsPerStep(2).heldOutPairs(2).warmupSteps(0).build();
    FactRlException e = assertThrows(FactRlException.class, () -> RmStage.run(c, root, sft, dir.resolve("a"), quiet()));
    assertTrue(e.getMessage().contains("record 'bare-0' has no facts"), e.getMessage());
    assertFalse(Files.exists(dir.resolve("a")), "nothing written");
    // without facts the same records train
    RmResult r = RmStage.run(c.toBuilder().facts(false).build(), root, sft, dir.resolve("b"), quiet());
    assertEquals(1, r.steps());
  }

  @Test
  void badRunsAreRefusedNamingTheProblem() throws IOException {
    RmConfig tooMany = RmConfig.builder().steps(1).warmupSteps(0).heldOutPairs(100_000).build();
    FactRlException w = assertThrows(FactRlException.class, () -> RmStage.run(RmConfig.builder().steps(2)
        .warmupSteps(3).pairsPerStep(2).heldOutPairs(2).build(), data, sft, dir.resolve("w"), quiet()));
    assertTrue(w.getMessage().contains("key 'warmup_steps': 3 is more than steps 2"), w.getMessage()); // at build()
    assertFalse(Files.exists(dir.resolve("w")), "nothing written");
    FactRlException e = assertThrows(FactRlException.class, () -> RmStage.run(tooMany, data, sft, dir.resolve("x"),
        quiet()));
    assertTrue(e.getMessage().contains("held_out_pairs is 100000"), e.getMessage());
    Files.createDirectories(dir.resolve("mine"));
    Files.writeString(dir.resolve("mine/notes.txt"), "keep");
    RmConfig ok = RmConfig.builder().steps(1).pairsPerStep(2).heldOutPairs(2).warmupSteps(0).build();
    e = assertThrows(FactRlException.class, () -> RmStage.run(ok, data, sft, dir.resolve("mine"), quiet()));
    assertTrue(e.getMessage().contains("is not empty"), e.getMessage());
    e = assertThrows(FactRlException.class, () -> RmStage.resume(data, dir.resolve("mine"), quiet()));
    assertTrue(e.getMessage().contains("not a reward-model run folder"), e.getMessage());
    e = assertThrows(FactRlException.class, () -> RmStage.run(ok, data, dir.resolve("mine"), dir.resolve("y"), quiet()));
    assertTrue(e.getMessage().contains("not an SFT checkpoint"), e.getMessage());
    RmStage.run(ok, data, sft, dir.resolve("run"), quiet().stopAfter(1));
    e = assertThrows(FactRlException.class, () -> RmStage.resume(easy, dir.resolve("run"), quiet()));
    assertTrue(e.getMessage().contains("not the data set this run started with"), e.getMessage());
  }
}

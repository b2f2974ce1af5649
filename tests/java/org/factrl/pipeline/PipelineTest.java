package org.factrl.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.StrictJson;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.eval.EvalConfig;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.model.Projector;
import org.factrl.model.io.IfExists;
import org.factrl.ppo.PpoConfig;
import org.factrl.stages.BaseModel;
import org.factrl.stages.FineTuning;
import org.factrl.reward.PreferenceSamplerConfig;
import org.factrl.stages.RmConfig;
import org.factrl.stages.SftConfig;
import org.factrl.stages.SftStage;
import org.factrl.testing.TreeSnapshot;
import org.factrl.train.CheckpointStore;
import org.factrl.train.ModelTokenizer;
import org.factrl.train.TrainerState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shortened pipeline CI runs: the whole chain (data → random micro base → sft → two reward
 * models → two PPO variants → three evaluations → summary.json) with 1–2 steps per stage on a
 * 16-pixel, 20-scene world. It checks the summary's structure and ranges, which inputs each stage
 * got (facts and symbolic rewards per variant, one SFT model under both PPO runs), and that running
 * again continues: finished stages reused untouched, an interrupted one resumed, another run's
 * settings refused.
 */
class PipelineTest {
  @TempDir Path dir;

  /** A model small enough that a stage step takes milliseconds (the vocabulary comes from the data set). */
  static ModelConfig micro() {
    return ModelConfig.builder()
        .imageSize(16).imageChannels(3).patchSize(8)
        .visionHidden(16).visionLayers(1).visionHeads(2).visionIntermediate(32).visionFeatureLayer(-1)
        .projector(Projector.LINEAR)
        .vocabSize(512).hidden(32).layers(2).heads(2).intermediate(64).maxPositions(512)
        .imageTokenId(4)
        .build();
  }

  static PipelineConfig.Builder shortened() {
    return PipelineConfig.builder()
        .seed(3).scenes(20).imageSize(16)
        .base(BaseModelSource.random(micro()))
        .sft(SftConfig.builder().finetune(FineTuning.LORA).loraRank(4).loraAlpha(8).steps(2).batchSize(2).lr(5e-3)
            .warmupSteps(0).checkpointEvery(1).build())
        .rm(RmConfig.builder().loraRank(4).steps(2).pairsPerStep(2).heldOutPairs(2).evalEvery(0).warmupSteps(0)
            .checkpointEvery(1).build())
        .prefs(PreferenceSamplerConfig.builder().pairs(12).maxNewTokens(6).build())
        .ppo(PpoConfig.defaults().with("warmup_steps", 0).with("steps", 2).with("minibatch", 2)
            .with("rollouts_per_step", 2).with("epochs", 1).with("lora_rank", 2).with("max_response_tokens", 6)
            .with("max_prompt_tokens", 256).with("checkpoint_every", 1))
        .eval(EvalConfig.builder().chair(true).limit(4).maxNewTokens(6).batchSize(4).build());
  }

  private static final List<String> STAGES = List.of("data", "base", "sft", "prefs", "rm_facts", "rm_no_facts", "ppo_rlhf",
      "ppo_fact_rlhf", "eval_sft", "eval_rlhf", "eval_fact_rlhf");

  @Test
  void runsEveryStageWritesTheSummaryAndASecondRunReusesEverything() throws IOException {
    Path out = dir.resolve("run");
    PipelineConfig config = shortened().build();
    Pipeline.Result first = Pipeline.run(config, out, Pipeline.Options.quiet());

    JsonObject summary = read(out.resolve(Pipeline.SUMMARY_FILE));
    assertEquals(first.summary(), summary, "the result is what summary.json holds");
    assertEquals(Pipeline.SUMMARY_FORMAT, summary.get("format").getAsString());
    for (String variant : List.of("sft", "rlhf", "fact_rlhf")) {
      JsonObject v = summary.getAsJsonObject(variant);
      assertNotNull(v, variant);
      assertIn(v, "hallucination_rate", 0, 1, variant);
      assertIn(v, "mmhal_score", 0, 6, variant);
      assertIn(v, "pope_f1", 0, 1, variant);
      assertIn(v, "chair_s", 0, 1, variant);
      assertIn(v, "chair_i", 0, 1, variant);
      assertIn(v, "mean_response_tokens", 0, 6, variant); // at most max_new_tokens
      if (variant.equals("sft")) {
        assertFalse(v.has("rm_accuracy"), "no reward model belongs to SFT");
      } else {
        assertIn(v, "rm_accuracy", 0, 1, variant);
      }
    }
    JsonObject seconds = summary.getAsJsonObject("stage_seconds");
    for (String s : STAGES) {
      assertIn(seconds, s, 0, 3600, "stage_seconds");
      assertEquals(s.equals("base") ? "resolved" : "ran", summary.getAsJsonObject("stage_status").get(s).getAsString(),
          s);
    }
    assertIn(seconds, "total", 0, 3600, "stage_seconds");
    JsonObject cpu = summary.getAsJsonObject("stage_cpu_seconds");
    for (String s : STAGES) {
      assertIn(cpu, s, 0, 3600, "stage_cpu_seconds");
    }
    JsonObject ev = summary.getAsJsonObject("eval");
    assertEquals(4, ev.get("mmhal_questions").getAsInt(), "the eval limit");
    assertEquals(12, ev.get("pope_probes").getAsInt(), "4 per sampling");
    assertTrue(ev.get("chair_images").getAsInt() >= 1);
    assertEquals(first.table().lines().count(), 8, first.table());
    assertTrue(first.table().contains("Fact-RLHF") && first.table().contains("hallucination rate"), first.table());

    // The variants got their own inputs: facts and symbolic rewards, one SFT model under both.
    assertTrue(read(lastCheckpoint(out.resolve(Pipeline.RM_FACTS_DIR)).resolve(RmConfig.FILE_NAME))
        .get("facts").getAsBoolean());
    assertFalse(read(lastCheckpoint(out.resolve(Pipeline.RM_PLAIN_DIR)).resolve(RmConfig.FILE_NAME))
        .get("facts").getAsBoolean());
    // Both reward models trained on the pairs sampled from this run's SFT model (the paper's preference data).
    Path pairs = out.resolve(Pipeline.PREFS_DIR).resolve("preferences.json").toAbsolutePath().normalize();
    for (String rm : List.of(Pipeline.RM_FACTS_DIR, Pipeline.RM_PLAIN_DIR)) {
      assertEquals(pairs.toString(), read(lastCheckpoint(out.resolve(rm)).resolve(RmConfig.FILE_NAME))
          .get("preferences").getAsString(), rm);
    }
    JsonObject prefsStats = read(org.factrl.stages.PrefsStage.statsFile(pairs));
    int sampled = prefsStats.getAsJsonObject("sampled").get("pairs").getAsInt();
    assertTrue(sampled > 0, prefsStats.toString());
    assertEquals(sampled + prefsStats.getAsJsonObject("bootstrap").get("pairs").getAsInt(),
        prefsStats.getAsJsonObject("all").get("pairs").getAsInt(), prefsStats.toString());
    JsonObject rlhf = read(out.resolve(Pipeline.PPO_RLHF_DIR).resolve(PpoConfig.FILE_NAME));
    JsonObject fact = read(out.resolve(Pipeline.PPO_FACT_DIR).resolve(PpoConfig.FILE_NAME));
    assertFalse(rlhf.get("facts").getAsBoolean() || rlhf.get("symbolic_rewards").getAsBoolean());
    assertTrue(fact.get("facts").getAsBoolean() && fact.get("symbolic_rewards").getAsBoolean());
    assertEquals(3, fact.get("seed").getAsLong(), "the pipeline's seed reaches every stage");
    JsonObject rlhfRun = read(out.resolve(Pipeline.PPO_RLHF_DIR).resolve("run.json"));
    JsonObject factRun = read(out.resolve(Pipeline.PPO_FACT_DIR).resolve("run.json"));
    assertEquals(rlhfRun.get("sft"), factRun.get("sft"), "both variants start from the same SFT model");
    assertTrue(rlhfRun.get("rm").getAsString().contains(Pipeline.RM_PLAIN_DIR), rlhfRun.toString());
    assertTrue(factRun.get("rm").getAsString().contains(Pipeline.RM_FACTS_DIR), factRun.toString());
    assertEquals(lastCheckpoint(out.resolve(Pipeline.PPO_FACT_DIR)).toString(),
        read(out.resolve(Pipeline.EVAL_FACT_DIR).resolve("metrics.json")).getAsJsonObject("model").get("checkpoint")
            .getAsString(), "Fact-RLHF's evaluation answered with the Fact-RLHF policy");

    // Every model folder a stage wrote carries the data set's tokenizer, byte for byte.
    byte[] tokenizer = Files.readAllBytes(DataSetFiles.in(out.resolve(Pipeline.DATA_DIR)).tokenizer());
    for (String stage : List.of(Pipeline.SFT_DIR, Pipeline.RM_FACTS_DIR, Pipeline.RM_PLAIN_DIR, Pipeline.PPO_RLHF_DIR,
        Pipeline.PPO_FACT_DIR)) {
      assertArrayEquals(tokenizer, Files.readAllBytes(lastCheckpoint(out.resolve(stage)).resolve(ModelTokenizer.FILE_NAME)),
          stage);
    }

    // Again: every stage is reused, nothing but summary.json is rewritten, the numbers are the same.
    TreeSnapshot before = TreeSnapshot.of(out);
    Pipeline.Result second = Pipeline.run(config, out, Pipeline.Options.quiet());
    for (String s : STAGES) {
      String expected = s.equals("base") ? "resolved" : "reused";
      assertEquals(expected, second.status().get(s), s);
    }
    Map<String, String> changed = diff(before, TreeSnapshot.of(out));
    assertEquals(Map.of(Pipeline.SUMMARY_FILE, "changed"), changed);
    for (String variant : List.of("sft", "rlhf", "fact_rlhf")) {
      assertEquals(summary.get(variant), second.summary().get(variant), variant);
    }

    // A run with other settings in the same folder is refused, naming the stage folder and the key.
    PipelineConfig other = shortened().sft(config.sft().toBuilder().steps(3).build()).build();
    TreeSnapshot beforeOther = TreeSnapshot.of(out);
    FactRlException e = assertThrows(FactRlException.class, () -> Pipeline.run(other, out, Pipeline.Options.quiet()));
    assertTrue(e.getMessage().contains(out.resolve(Pipeline.SFT_DIR).toString()) && e.getMessage().contains("steps"),
        e.getMessage());
    assertEquals(Map.of(), diff(beforeOther, TreeSnapshot.of(out)), "a refused run changes nothing");
  }

  @Test
  void anInterruptedStageIsResumedAndTheRunStopsWhereAsked() throws IOException {
    Path out = dir.resolve("run");
    PipelineConfig config = shortened().until(PipelineConfig.Stage.BASE).build();
    Pipeline.Result r = Pipeline.run(config, out, Pipeline.Options.quiet());
    assertNull(r.summary());
    assertFalse(Files.exists(out.resolve(Pipeline.SUMMARY_FILE)));
    assertFalse(Files.exists(out.resolve(Pipeline.SFT_DIR)), "stopped after the base");

    // An SFT run killed after its first checkpoint (step 1 of 2), as the pipeline had started it.
    BaseModel base = config.base().resolve(new BaseModelSource.Context(out.resolve(Pipeline.DATA_DIR),
        out.resolve(Pipeline.BASE_DIR), config.seed(),
        new java.io.PrintStream(java.io.OutputStream.nullOutputStream())));
    SftStage.run(config.sft(), out.resolve(Pipeline.DATA_DIR), base, out.resolve(Pipeline.SFT_DIR),
        new SftStage.Options(null, false, 1));
    assertEquals(1, TrainerState.read(lastCheckpoint(out.resolve(Pipeline.SFT_DIR))).step());

    Pipeline.Result resumed = Pipeline.run(config.toBuilder().until(PipelineConfig.Stage.SFT).build(), out,
        Pipeline.Options.quiet());
    assertEquals("reused", resumed.status().get("data"));
    assertEquals("resumed", resumed.status().get("sft"));
    assertEquals(2, TrainerState.read(lastCheckpoint(out.resolve(Pipeline.SFT_DIR))).step());
    assertFalse(Files.exists(out.resolve(Pipeline.RM_FACTS_DIR)), "stopped after SFT");
  }

  /**
   * A saved base carrying its tokenizer (as a pretrained one does): the data step writes the data set
   * with that tokenizer, not a learnt one (whose ids would differ), so SFT accepts the pair.
   */
  @Test
  void aBaseWithItsOwnTokenizerGetsADataSetWithThatTokenizer() throws IOException {
    Path other = dir.resolve("other-data");
    ShapesDataSetWriter.builder().scenes(20).imageSize(16).seed(7).build().write(other);
    Path baseTokenizer = DataSetFiles.in(other).tokenizer();
    int vocab;
    try (Tokenizer t = Tokenizer.load(baseTokenizer)) {
      vocab = t.vocabSize();
    }
    Path baseDir = dir.resolve("base");
    try (Device cpu = Device.cpu();
        LlavaModel m = BaseModel.random(micro().toBuilder().vocabSize(vocab).build(), 1, 0.02f).open(cpu)) {
      m.saveBase(baseDir, IfExists.FAIL);
    }
    ModelTokenizer.copyInto(baseDir, baseTokenizer);
    BaseModelSource source = BaseModelSource.dir(baseDir);
    assertEquals(baseDir.resolve(ModelTokenizer.FILE_NAME), source.tokenizer().orElseThrow());
    assertTrue(BaseModelSource.random(micro()).tokenizer().isEmpty(), "a random base takes the learnt one");

    Path out = dir.resolve("run");
    Pipeline.Result r = Pipeline.run(shortened().base(source).until(PipelineConfig.Stage.SFT).build(), out,
        Pipeline.Options.quiet());
    assertEquals("ran", r.status().get("sft"));
    byte[] want = Files.readAllBytes(baseTokenizer);
    assertArrayEquals(want, Files.readAllBytes(DataSetFiles.in(out.resolve(Pipeline.DATA_DIR)).tokenizer()));
    assertArrayEquals(want, Files.readAllBytes(lastCheckpoint(out.resolve(Pipeline.SFT_DIR))
        .resolve(ModelTokenizer.FILE_NAME)));
    Pipeline.Result again = Pipeline.run(shortened().base(source).until(PipelineConfig.Stage.SFT).build(), out,
        Pipeline.Options.quiet());
    assertEquals("reused", again.status().get("data"), "the data set written with the base's tokenizer is reused");
  }

  @Test
  void aStageFolderHoldingSomethingElseIsLeftAlone() throws IOException {
    Path out = dir.resolve("run");
    Files.createDirectories(out.resolve(Pipeline.SFT_DIR));
    Files.writeString(out.resolve(Pipeline.SFT_DIR).resolve("notes.txt"), "mine");
    FactRlException e = assertThrows(FactRlException.class, () -> Pipeline.run(shortened().build(), out,
        Pipeline.Options.quiet()));
    // the data set is not written under an existing stage folder either
    assertTrue(e.getMessage().contains("data"), e.getMessage());
    assertEquals("mine", Files.readString(out.resolve(Pipeline.SFT_DIR).resolve("notes.txt")));

    Path other = dir.resolve("other");
    Files.createDirectories(other);
    Files.writeString(other.resolve(Pipeline.SUMMARY_FILE), "{\"mine\": 1}");
    e = assertThrows(FactRlException.class, () -> Pipeline.run(shortened().build(), other, Pipeline.Options.quiet()));
    assertTrue(e.getMessage().contains(Pipeline.SUMMARY_FILE), e.getMessage());
    assertEquals(List.of(Pipeline.SUMMARY_FILE), list(other), "nothing written before the check");
  }

  private static void assertIn(JsonObject o, String key, double lo, double hi, String where) {
    JsonElement e = o.get(key);
    assertTrue(e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber(), where + "." + key + ": " + e);
    double d = e.getAsDouble();
    assertTrue(Double.isFinite(d) && d >= lo && d <= hi, where + "." + key + " = " + d + " not in [" + lo + ", " + hi
        + "]");
  }

  private static JsonObject read(Path f) {
    return StrictJson.parse(JsonRecords.readText(f), f.toString()).getAsJsonObject();
  }

  private static Path lastCheckpoint(Path run) {
    return new CheckpointStore(run.resolve("checkpoints")).latest().orElseThrow();
  }

  private static Map<String, String> diff(TreeSnapshot a, TreeSnapshot b) {
    Map<String, String> out = new java.util.TreeMap<>();
    a.entries().forEach((k, v) -> {
      if (!b.entries().containsKey(k)) {
        out.put(k, "removed");
      } else if (!b.entries().get(k).equals(v)) {
        out.put(k, "changed");
      }
    });
    b.entries().keySet().stream().filter(k -> !a.entries().containsKey(k)).forEach(k -> out.put(k, "added"));
    return out;
  }

  private static List<String> list(Path d) throws IOException {
    try (var s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}

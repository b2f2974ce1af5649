package org.factrl.stages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.PreferencePair;
import org.factrl.data.format.PreferencePairCodec;
import org.factrl.data.format.StrictJson;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;
import org.factrl.reward.PreferenceSampler;
import org.factrl.reward.PreferenceSamplerConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The prefs stage end to end on a micro SFT model: pairs sampled and judged, bootstrap supplement,
 * the statistics file, the same file for the same seed, and a reward model trained on the file
 * through RmConfig's {@code preferences} key.
 */
class PrefsStageTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  static Path data;
  static Path sft;

  @BeforeAll
  static void setUp() {
    data = shared.resolve("ds");
    ShapesDataSetWriter.builder().scenes(30).imageSize(16).seed(9).build().write(data);
    int vocab;
    try (Tokenizer t = Tokenizer.load(DataSetFiles.in(data).tokenizer())) {
      vocab = t.vocabSize();
    }
    SftConfig c = SftConfig.builder().finetune(FineTuning.LORA).loraRank(4).loraAlpha(8).steps(2).batchSize(2)
        .lr(5e-3).warmupSteps(0).checkpointEvery(0).build();
    sft = SftStage.run(c, data, BaseModel.random(RmStageTest.micro(vocab), 5, 0.05f), shared.resolve("sft"),
        RmStageTest.quiet()).checkpoint();
  }

  private static PreferenceSamplerConfig config(long seed) {
    return PreferenceSamplerConfig.builder().pairs(10).bootstrapShare(0.2).maxNewTokens(12).promptsPerBatch(3)
        .maxRounds(40).seed(seed).build();
  }

  private static JsonObject read(Path file) {
    return StrictJson.parse(JsonRecords.readText(file), file.toString()).getAsJsonObject();
  }

  @Test
  void writesJudgedSamplesPlusBootstrapThatTheRewardModelTrainsOn() throws IOException {
    Path out = dir.resolve("prefs/sampled.json");
    PrefsResult r = PrefsStage.run(config(3), data, sft, out, null);
    assertEquals(out, r.file());
    assertEquals(8, r.sampledPairs(), "10 pairs, a fifth bootstrap");
    assertEquals(2, r.bootstrapPairs());
    List<PreferencePair> pairs = PreferencePairCodec.read(out);
    assertEquals(10, pairs.size());
    List<String> sources = PreferenceSampler.sources(out);
    assertEquals(List.of("sampled", "sampled", "sampled", "sampled", "sampled", "sampled", "sampled", "sampled",
        "bootstrap", "bootstrap"), sources);
    List<PreferencePair> original = PreferencePairCodec.read(DataSetFiles.in(data).preferences());
    for (int i = 0; i < 8; i++) {
      PreferencePair p = pairs.get(i);
      assertTrue(p.id().contains("-sampled-"), p.id());
      assertTrue(p.hasFacts(), "captions travel with sampled pairs");
      int hp = p.preference() == 1 ? p.hallucinations1().getAsInt() : p.hallucinations2().getAsInt();
      int hr = p.preference() == 1 ? p.hallucinations2().getAsInt() : p.hallucinations1().getAsInt();
      assertTrue(hp <= hr, p.id());
      assertTrue(!p.output1().equals(p.output2()), p.id());
    }
    assertTrue(original.containsAll(pairs.subList(8, 10)), "bootstrap pairs are the data set's own");

    JsonObject stats = read(PrefsStage.statsFile(out));
    assertEquals(PrefsStage.STATS_FORMAT, stats.get("format").getAsString());
    assertEquals(8, stats.getAsJsonObject("sampled").get("pairs").getAsInt());
    assertEquals(10, stats.getAsJsonObject("all").get("pairs").getAsInt());
    long longer = pairs.subList(0, 8).stream()
        .filter(p -> p.preferred().strip().length() > p.rejected().strip().length()).count();
    assertEquals(longer / 8.0, stats.getAsJsonObject("sampled").get("longer_wins").getAsDouble(), 1e-12);
    int dropped = stats.getAsJsonObject("dropped").entrySet().stream().mapToInt(e -> e.getValue().getAsInt()).sum();
    assertTrue(r.responses() / 2 >= 8 + dropped, "responses " + r.responses() + ", dropped " + dropped);
    assertEquals(r.responses(), stats.get("responses").getAsInt());
    System.out.println("prefs micro: " + stats);

    // the same seed gives the same file, byte for byte
    Path again = dir.resolve("again.json");
    PrefsStage.run(config(3), data, sft, again, null);
    assertArrayEquals(Files.readAllBytes(out), Files.readAllBytes(again));

    // the reward model trains on it by the config's preferences key
    RmConfig rc = RmConfig.builder().steps(2).pairsPerStep(2).heldOutPairs(3).warmupSteps(0).loraRank(4)
        .checkpointEvery(0).preferences(out.toString()).build();
    RmResult rm = RmStage.run(rc, data, sft, dir.resolve("rm"), RmStageTest.quiet());
    assertEquals(2, rm.steps());
    assertEquals(3, rm.heldOutPairs());
    assertTrue(Double.isFinite(rm.finalLoss()));
    assertEquals(0, RmStage.resume(data, dir.resolve("rm"), RmStageTest.quiet()).stepsThisRun(),
        "resume finds the same file by the saved config");
    Files.writeString(out, Files.readString(out).replace("\"preference\": 1", "\"preference\": 2"));
    FactRlException e = assertThrows(FactRlException.class, () -> RmStage.resume(data, dir.resolve("rm"),
        RmStageTest.quiet()));
    assertTrue(e.getMessage().contains("preferences_sha256"), e.getMessage());
  }

  @Test
  void refusesToOverwriteAndNamesWhatIsMissing() throws IOException {
    Path out = dir.resolve("exists.json");
    Files.writeString(out, "[]");
    FactRlException e = assertThrows(FactRlException.class, () -> PrefsStage.run(config(1), data, sft, out, null));
    assertTrue(e.getMessage().contains("already exists"), e.getMessage());
    e = assertThrows(FactRlException.class, () -> PrefsStage.run(config(1), dir, sft, dir.resolve("x.json"), null));
    assertTrue(e.getMessage().contains("preferences.json: missing"), e.getMessage());
    assertEquals("exists.stats.json", PrefsStage.statsFile(out).getFileName().toString());
  }
}

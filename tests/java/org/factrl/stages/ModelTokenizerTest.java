package org.factrl.stages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import org.factrl.api.FactRl;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.StrictJson;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;
import org.factrl.eval.EvalConfig;
import org.factrl.eval.EvalData;
import org.factrl.model.ModelConfig;
import org.factrl.model.ParamGroup;
import org.factrl.model.Projector;
import org.factrl.ppo.PpoConfig;
import org.factrl.ppo.PpoStage;
import org.factrl.train.ModelTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model carries the tokenizer it was trained with, and no stage uses it with a data set whose
 * tokenizer differs: the learnt shapes tokenizer gives other ids to the same tokens in a data set
 * of another seed, which a model would read as garbage without any error.
 */
class ModelTokenizerTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  static Path dataA;
  static Path dataB;
  static Path checkpoint; // one full-fine-tuning SFT step on dataA: model/ + tokenizer.json
  static int vocab;

  @BeforeAll
  static void setUp() {
    dataA = shared.resolve("a");
    dataB = shared.resolve("b");
    ShapesDataSetWriter.builder().scenes(12).imageSize(16).seed(9).build().write(dataA);
    ShapesDataSetWriter.builder().scenes(12).imageSize(16).seed(10).build().write(dataB);
    vocab = Math.max(vocabOf(dataA), vocabOf(dataB)); // the micro model fits either data set's ids
    SftResult r = SftStage.run(oneStep(), dataA, BaseModel.random(micro(), 1, 0.05f), shared.resolve("sft-a"), quiet());
    checkpoint = r.checkpoint();
  }

  private static int vocabOf(Path data) {
    try (Tokenizer t = Tokenizer.load(DataSetFiles.in(data).tokenizer())) {
      return t.vocabSize();
    }
  }

  static ModelConfig micro() {
    return ModelConfig.builder()
        .imageSize(16).imageChannels(3).patchSize(8)
        .visionHidden(16).visionLayers(1).visionHeads(2).visionIntermediate(32).visionFeatureLayer(-1)
        .projector(Projector.LINEAR)
        .vocabSize(vocab).hidden(32).layers(2).heads(2).intermediate(64).maxPositions(512)
        .imageTokenId(4)
        .build();
  }

  static SftConfig oneStep() {
    return SftConfig.builder().steps(1).batchSize(2).lr(1e-3).warmupSteps(0).checkpointEvery(0)
        .trainableGroups(EnumSet.allOf(ParamGroup.class)).build();
  }

  static SftStage.Options quiet() {
    return new SftStage.Options(null, false, 0);
  }

  private static Map<String, JsonElement> vocabulary(Path tokenizer) {
    JsonObject o = StrictJson.parse(JsonRecords.readText(tokenizer), tokenizer.toString()).getAsJsonObject();
    return o.getAsJsonObject("model").getAsJsonObject("vocab").asMap();
  }

  /** Why the check exists: the learnt merges follow the sampled corpus, so the same token gets another id. */
  @Test
  void dataSetsOfOtherSeedsLearnOtherIds() throws IOException {
    Path a = DataSetFiles.in(dataA).tokenizer();
    Path b = DataSetFiles.in(dataB).tokenizer();
    assertFalse(java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(b)));
    Map<String, JsonElement> va = vocabulary(a);
    Map<String, JsonElement> vb = vocabulary(b);
    long moved = va.keySet().stream().filter(vb::containsKey)
        .filter(t -> va.get(t).getAsInt() != vb.get(t).getAsInt()).count();
    assertTrue(moved > 0, "tokens in both with other ids: " + moved);
    for (String special : java.util.List.of("<unk>", "<s>", "</s>", "<pad>", "<image>")) {
      assertEquals(va.get(special), vb.get(special), special + " keeps its id");
    }
  }

  @Test
  void everyModelFolderCarriesItsTokenizer() throws IOException {
    byte[] want = Files.readAllBytes(DataSetFiles.in(dataA).tokenizer());
    assertArrayEquals(want, Files.readAllBytes(checkpoint.resolve(ModelTokenizer.FILE_NAME)));
    assertArrayEquals(want, Files.readAllBytes(checkpoint.resolve("model").resolve(ModelTokenizer.FILE_NAME)));
    assertEquals(checkpoint.resolve("model").resolve(ModelTokenizer.FILE_NAME),
        BaseModel.fromDir(checkpoint.resolve("model")).tokenizer().orElseThrow());
    assertTrue(BaseModel.random(micro(), 1, 0.05f).tokenizer().isEmpty());
  }

  /** SFT, RM, PPO, eval and the API refuse model A with data set B's tokenizer, naming both files, writing nothing. */
  @Test
  void everyStageRefusesAModelWhoseTokenizerDiffers() {
    Path model = checkpoint.resolve("model");
    Path dataTok = DataSetFiles.in(dataB).tokenizer();
    assertNamesBoth(() -> SftStage.run(oneStep(), dataB, BaseModel.fromDir(model), dir.resolve("sft"), quiet()),
        model.resolve(ModelTokenizer.FILE_NAME), dataTok);
    assertFalse(Files.exists(dir.resolve("sft")), "nothing written");
    assertNamesBoth(() -> RmStage.run(RmConfig.defaults(), dataB, checkpoint, dir.resolve("rm"), quiet()),
        checkpoint.resolve(ModelTokenizer.FILE_NAME), dataTok);
    assertFalse(Files.exists(dir.resolve("rm")), "nothing written");
    assertNamesBoth(() -> PpoStage.run(PpoConfig.defaults(), dataB, checkpoint, dir.resolve("no-rm"), dir.resolve("ppo"),
        null, 0), checkpoint.resolve(ModelTokenizer.FILE_NAME), dataTok);
    assertFalse(Files.exists(dir.resolve("ppo")), "nothing written");
    assertNamesBoth(() -> EvalStage.run(EvalConfig.defaults(), EvalData.of(DataSetFiles.in(dataB)), checkpoint, dataTok,
        dir.resolve("eval"), EvalStage.Options.quiet()), checkpoint.resolve(ModelTokenizer.FILE_NAME), dataTok);
    assertFalse(Files.exists(dir.resolve("eval")), "nothing written");
    assertNamesBoth(() -> FactRl.loadModel(checkpoint, dataTok).close(), checkpoint.resolve(ModelTokenizer.FILE_NAME),
        dataTok);
  }

  private static void assertNamesBoth(Executable call, Path model, Path data) {
    FactRlException e = assertThrows(FactRlException.class, call);
    String m = e.getMessage();
    assertTrue(m.contains(model.toString()) && m.contains(data.toString()), m);
    assertTrue(m.contains("--tokenizer " + model), "says how to write a fitting data set: " + m);
  }

  /** The fix: data set B written with model A's tokenizer holds it byte for byte, and SFT accepts the pair. */
  @Test
  void aDataSetWrittenWithTheModelsTokenizerIsAccepted() throws IOException {
    Path model = checkpoint.resolve("model");
    Path given = model.resolve(ModelTokenizer.FILE_NAME);
    Path dataC = dir.resolve("c");
    ShapesDataSetWriter writer = ShapesDataSetWriter.builder().scenes(12).imageSize(16).seed(10).tokenizer(given)
        .build();
    writer.write(dataC);
    assertArrayEquals(Files.readAllBytes(given), Files.readAllBytes(DataSetFiles.in(dataC).tokenizer()));
    assertTrue(writer.wroteAlready(dataC), "manifest and SHA256SUMS list the copied tokenizer");
    assertFalse(ShapesDataSetWriter.builder().scenes(12).imageSize(16).seed(10).build().wroteAlready(dataC),
        "a learnt tokenizer is another setting: the data set is not reused for it");
    SftResult r = SftStage.run(oneStep(), dataC, BaseModel.fromDir(model), dir.resolve("sft"), quiet());
    assertEquals(1, r.steps());
  }

  /** Older checkpoints and bases carry no tokenizer.json: they are used as before. */
  @Test
  void aModelFolderWithoutTokenizerKeepsTodaysBehaviour() throws IOException {
    Path old = dir.resolve("old");
    Files.createDirectories(old);
    Path model = checkpoint.resolve("model");
    try (var s = Files.list(model)) {
      for (Path p : s.toList()) {
        if (!p.getFileName().toString().equals(ModelTokenizer.FILE_NAME)) {
          Files.copy(p, old.resolve(p.getFileName()));
        }
      }
    }
    SftResult r = SftStage.run(oneStep(), dataB, BaseModel.fromDir(old), dir.resolve("sft"), quiet());
    assertEquals(1, r.steps());
  }

  @Test
  void aGivenTokenizerWithOtherSpecialIdsIsRefused() throws IOException {
    JsonObject o = StrictJson.parse(JsonRecords.readText(DataSetFiles.in(dataA).tokenizer()), "a").getAsJsonObject();
    JsonObject v = o.getAsJsonObject("model").getAsJsonObject("vocab");
    v.addProperty("<pad>", 4);
    v.addProperty("<image>", 3);
    for (JsonElement t : o.getAsJsonArray("added_tokens")) {
      JsonObject added = t.getAsJsonObject();
      String content = added.get("content").getAsString();
      if (content.equals("<pad>") || content.equals("<image>")) {
        added.addProperty("id", content.equals("<pad>") ? 4 : 3);
      }
    }
    Path bad = dir.resolve("bad.json");
    Files.writeString(bad, o.toString());
    FactRlException e = assertThrows(FactRlException.class, () -> ShapesDataSetWriter.builder().scenes(12)
        .imageSize(16).tokenizer(bad).build().write(dir.resolve("d")));
    assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("<pad>")
        && e.getMessage().contains("expects id 3"), e.getMessage());
    assertFalse(Files.exists(dir.resolve("d")));
  }
}

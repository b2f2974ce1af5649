package org.factrl.pretrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.model.Projector;
import org.factrl.model.io.SafeTensors;
import org.factrl.stages.BaseModel;
import org.factrl.train.MetricsLog;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pretraining stage on a micro model (P = 4 image tokens, 16×16 images) and a 12-scene data
 * set: each phase's loss falls; a run stopped inside each phase and resumed in new objects takes
 * the same steps bit for bit and writes the same base; the base loads with {@link BaseModel#fromDir}
 * (bf16 on disk, widened exactly); a user's folder is refused.
 */
class PretrainStageTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  static Path data;
  static int vocab;

  @BeforeAll
  static void dataSet() {
    data = shared.resolve("ds");
    ShapesDataSetWriter.builder().scenes(12).imageSize(16).seed(9).build().write(data);
    try (Tokenizer t = Tokenizer.load(DataSetFiles.in(data).tokenizer())) {
      vocab = t.vocabSize();
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

  static PretrainStage.Options quiet() {
    return new PretrainStage.Options(null, false, 0);
  }

  private static double mean(List<JsonObject> m, int from, int to) {
    double s = 0;
    for (int i = from; i < to; i++) {
      s += m.get(i).get("loss").getAsDouble();
    }
    return s / (to - from);
  }

  @Test
  void eachPhasesLossFallsAndTheBaseLoads() throws IOException {
    PretrainConfig c = PretrainConfig.builder().visionSteps(30).visionBatchSize(4).visionLr(3e-3).textSteps(40)
        .textBatchSize(4).textLr(3e-3).alignSteps(30).alignBatchSize(4).alignLr(3e-3).warmupSteps(3)
        .checkpointEvery(0).evalExamples(8).build();
    Path run = dir.resolve("run");
    PretrainResult r = PretrainStage.run(c, data, BaseModel.random(micro(), 1, 0.05f), run, quiet());
    assertTrue(r.complete());
    assertEquals(100, r.totalSteps());
    List<JsonObject> m = MetricsLog.read(run.resolve(PretrainStage.METRICS_FILE));
    assertEquals(100, m.size());
    for (int i = 0; i < 100; i++) {
      assertEquals(i + 1, m.get(i).get("step").getAsLong());
      assertEquals(i < 30 ? "vision" : i < 70 ? "text" : "align", m.get(i).get("phase").getAsString());
      assertEquals(i < 30 ? i + 1 : i < 70 ? i - 29 : i - 69, m.get(i).get("phase_step").getAsLong());
    }
    double visionFirst = mean(m, 0, 5);
    double visionLast = mean(m, 25, 30);
    assertTrue(visionLast < visionFirst * 0.85, "vision loss " + visionFirst + " -> " + visionLast);
    double textFirst = mean(m, 30, 35);
    double textLast = mean(m, 65, 70);
    assertTrue(textFirst > Math.log(vocab) * 0.9, "text starts near log V: " + textFirst);
    assertTrue(textLast < textFirst * 0.75, "text loss " + textFirst + " -> " + textLast);
    double alignFirst = mean(m, 70, 75);
    double alignLast = mean(m, 95, 100);
    assertTrue(alignLast < alignFirst * 0.9, "align loss " + alignFirst + " -> " + alignLast);
    // the base: bf16 on disk, read by BaseModel.fromDir, equal to the trained weights rounded to bf16
    BaseModel base = BaseModel.fromDir(r.model());
    SafeTensors st = SafeTensors.read(r.model().resolve(LlavaModel.WEIGHTS_FILE));
    String name = st.names().iterator().next();
    assertEquals("BF16", st.entry(name).dtype().name());
    try (Device cpu = Device.cpu(); LlavaModel loaded = base.open(cpu);
        LlavaModel trained = org.factrl.train.ModelCheckpoint.read(cpu,
            PretrainStage.store(run, PretrainPhase.ALIGN).latest().orElseThrow())) {
      float[] a = loaded.params().tensor(name).toFloatArray();
      float[] b = trained.params().tensor(name).toFloatArray();
      for (int i = 0; i < a.length; i++) {
        float rounded = Float.intBitsToFloat((Float.floatToRawIntBits(b[i]) + 0x7fff
            + ((Float.floatToRawIntBits(b[i]) >>> 16) & 1)) & 0xffff0000);
        assertEquals(rounded, a[i], 0f, name + "[" + i + "]");
      }
    }
    JsonObject summary = JsonParser.parseString(Files.readString(run.resolve(PretrainStage.SUMMARY_FILE)))
        .getAsJsonObject();
    assertEquals(c.toJson(), summary.get("config"));
    assertEquals(m.get(69).get("loss").getAsDouble(),
        summary.getAsJsonObject("phases").getAsJsonObject("text").get("final_loss").getAsDouble());
    assertEquals(8, summary.getAsJsonObject("image_check").get("examples").getAsInt());
    JsonObject vision = summary.getAsJsonObject("vision_eval");
    assertEquals(30, vision.get("step").getAsInt());
    assertTrue(vision.get("environmentAccuracy").getAsDouble() >= 0 && vision.get("colourAccuracy").getAsDouble() <= 1,
        vision.toString());
    assertTrue(Double.isFinite(summary.getAsJsonObject("image_check").get("loss_own_image").getAsDouble()));
  }

  /** Stopped inside the text phase, then inside align, resumed each time in new objects. */
  @Test
  void aResumedRunTakesTheSameStepsBitForBit() throws IOException {
    PretrainConfig c = PretrainConfig.builder().visionSteps(4).visionBatchSize(3).textSteps(5).textBatchSize(3)
        .alignSteps(5).alignBatchSize(3).alignTrainDecoder(false).warmupSteps(2).checkpointEvery(2).evalExamples(4)
        .bf16(false).build();
    BaseModel base = BaseModel.random(micro(), 2, 0.05f);
    Path whole = dir.resolve("whole");
    PretrainStage.run(c, data, base, whole, quiet());
    Path split = dir.resolve("split");
    // the vision phase runs as one unit: a stop inside it ends after it
    PretrainResult first = PretrainStage.run(c, data, base, split, quiet().stopAfter(2));
    assertFalse(first.complete());
    assertEquals(4, first.step());
    PretrainResult second = PretrainStage.resume(data, split, quiet().stopAfter(7));
    assertFalse(second.complete());
    assertEquals(7, second.step());
    PretrainResult third = PretrainStage.resume(data, split, quiet().stopAfter(11));
    assertFalse(third.complete());
    assertEquals(11, third.step());
    assertTrue(PretrainStage.resume(data, split, quiet()).complete());
    List<JsonObject> a = MetricsLog.read(whole.resolve(PretrainStage.METRICS_FILE));
    List<JsonObject> b = MetricsLog.read(split.resolve(PretrainStage.METRICS_FILE));
    assertEquals(14, a.size());
    assertEquals(14, b.size());
    for (int i = 0; i < 14; i++) {
      for (String k : List.of("loss", "grad_norm", "lr", "phase", "phase_step")) {
        assertEquals(a.get(i).get(k), b.get(i).get(k), "step " + (i + 1) + " " + k);
      }
    }
    assertArrayEquals(Files.readAllBytes(whole.resolve("model/model.safetensors")),
        Files.readAllBytes(split.resolve("model/model.safetensors")));
    // the base carries the data set's tokenizer, byte for byte (a model is used only with data sets holding it)
    assertArrayEquals(Files.readAllBytes(DataSetFiles.in(data).tokenizer()),
        Files.readAllBytes(BaseModel.fromDir(split.resolve("model")).tokenizer().orElseThrow()));
    // projector-only alignment leaves the decoder as the text phase left it
    try (Device cpu = Device.cpu();
        LlavaModel afterText = org.factrl.train.ModelCheckpoint.read(cpu,
            PretrainStage.store(whole, PretrainPhase.TEXT).latest().orElseThrow());
        LlavaModel end = LlavaModel.load(cpu, whole.resolve("model"))) {
      for (String n : end.params().names()) {
        boolean same = java.util.Arrays.equals(afterText.params().tensor(n).toFloatArray(),
            end.params().tensor(n).toFloatArray());
        assertEquals(!n.startsWith("multi_modal_projector."), same, n);
      }
    }
  }

  @Test
  void aUsersFolderIsRefusedAndAResumeNeedsARunFolder() throws IOException {
    Path user = Files.createDirectories(dir.resolve("user"));
    Files.writeString(user.resolve("notes.txt"), "mine");
    PretrainConfig c = PretrainConfig.builder().textSteps(1).alignSteps(1).warmupSteps(0).build();
    FactRlException e = assertThrows(FactRlException.class,
        () -> PretrainStage.run(c, data, BaseModel.random(micro(), 1, 0.05f), user, quiet()));
    assertTrue(e.getMessage().contains("is not empty (holds notes.txt)"), e.getMessage());
    e = assertThrows(FactRlException.class, () -> PretrainStage.resume(data, user, quiet()));
    assertTrue(e.getMessage().contains("not a pretraining run folder"), e.getMessage());
    assertEquals("mine", Files.readString(user.resolve("notes.txt")));
  }
}

package org.factrl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.format.PreferencePairCodec;
import org.factrl.engine.Device;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.model.Projector;
import org.factrl.model.io.IfExists;
import org.factrl.stages.PrefsStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/factrl prefs}: a run from an SFT checkpoint with --pairs / --seed / --config, and refused command lines. */
class PrefsCommandTest {
  @TempDir Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    out.reset();
    err.reset();
    return Main.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
        args);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void samplesPairsFromAnSftCheckpoint() throws IOException {
    Path data = dir.resolve("ds");
    ShapesDataSetWriter.builder().scenes(20).imageSize(16).seed(4).build().write(data);
    Path base = dir.resolve("base");
    ModelConfig c = ModelConfig.builder()
        .imageSize(16).imageChannels(3).patchSize(8)
        .visionHidden(16).visionLayers(1).visionHeads(2).visionIntermediate(32).visionFeatureLayer(-1)
        .projector(Projector.LINEAR)
        .vocabSize(900).hidden(32).layers(1).heads(2).intermediate(64).maxPositions(512)
        .imageTokenId(4)
        .build();
    try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, c)) {
      m.initWeights(1, 0.05f);
      m.saveBase(base, IfExists.FAIL);
    }
    Files.writeString(dir.resolve("sft.json"), "{\"finetune\": \"lora\", \"lora_rank\": 4, \"steps\": 1,"
        + " \"batch_size\": 2, \"warmup_steps\": 0, \"trainable_groups\": []}");
    assertEquals(0, run("sft", "--data", data.toString(), "--out", dir.resolve("sft").toString(), "--config",
        dir.resolve("sft.json").toString(), "--base", base.toString()), err());
    Files.writeString(dir.resolve("prefs.json"), "{\"max_new_tokens\": 10, \"max_rounds\": 60, \"pairs\": 99}");
    Path file = dir.resolve("pairs.json");
    assertEquals(0, run("prefs", "--model", dir.resolve("sft").toString(), "--data", data.toString(), "--out",
        file.toString(), "--pairs", "5", "--seed", "2", "--config", dir.resolve("prefs.json").toString()), err());
    assertEquals(5, PreferencePairCodec.read(file).size(), "--pairs overrides the config's pairs");
    assertTrue(Files.isRegularFile(PrefsStage.statsFile(file)));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("4 sampled + 1 bootstrap pairs"), out.toString());

    assertEquals(1, run("prefs", "--model", dir.resolve("sft").toString(), "--data", data.toString(), "--out",
        file.toString()));
    assertTrue(err().contains("already exists"), err());
  }

  @Test
  void refusesBadCommandLines() {
    assertEquals(2, run("prefs", "--data", "d", "--out", "f.json"));
    assertTrue(err().contains("--model is required"), err());
    assertEquals(2, run("prefs", "--model", "m", "--data", "d", "--out", "f.json", "--pairs", "0"));
    assertTrue(err().contains("--pairs must be in 1.."), err());
    assertEquals(2, run("prefs", "--model", "m", "--data", "d", "--out", "f.json", "--temperature", "1"));
    assertTrue(err().contains("unknown option --temperature"), err());
    assertFalse(Files.exists(Path.of("f.json")));
    assertEquals(0, run("prefs", "--help"));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("--pairs=N"));
    assertEquals(0, run("help"));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("prefs"));
  }
}

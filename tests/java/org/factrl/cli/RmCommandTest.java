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
import org.factrl.engine.Device;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.model.Projector;
import org.factrl.model.io.IfExists;
import org.factrl.stages.RmConfig;
import org.factrl.stages.RmStage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/factrl rm}: a run from an SFT checkpoint, --no-facts, its resume, and refused command lines. */
class RmCommandTest {
  @TempDir Path dir;
  private Path data;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeEach
  void setUp() throws IOException {
    data = dir.resolve("ds");
    ShapesDataSetWriter.builder().scenes(10).imageSize(16).seed(4).build().write(data);
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
    Files.writeString(dir.resolve("rm.json"), "{\"steps\": 2, \"pairs_per_step\": 2, \"held_out_pairs\": 3,"
        + " \"warmup_steps\": 0, \"lora_rank\": 4, \"checkpoint_every\": 1}");
  }

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
  void trainsResumesAndRefusesBadCommandLines() {
    Path rm = dir.resolve("rm");
    String sft = dir.resolve("sft").toString();
    String cfg = dir.resolve("rm.json").toString();
    assertEquals(0, run("rm", "--data", data.toString(), "--sft", sft, "--out", rm.toString(), "--config", cfg,
        "--no-facts"), err());
    String printed = out.toString(StandardCharsets.UTF_8);
    assertTrue(printed.contains("rm: 2/2 steps") && printed.contains("held-out accuracy"), printed);
    assertFalse(RmStage.runConfig(rm).facts(), "--no-facts");
    assertTrue(Files.isDirectory(rm.resolve("checkpoints/step-00000002/adapters/rm")));
    assertEquals(0, run("rm", "--data", data.toString(), "--out", rm.toString(), "--resume", "--no-facts"), err());
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("(0 this run)"));
    // a resume with other settings, a fresh run into a used folder, missing options
    assertEquals(0, run("rm", "--data", data.toString(), "--out", rm.toString(), "--resume"), err()); // its own settings
    assertEquals(1, run("rm", "--data", data.toString(), "--out", rm.toString(), "--resume", "--config", cfg));
    assertTrue(err().contains("facts: true vs false"), err()); // the file lacks --no-facts
    assertEquals(2, run("rm", "--data", data.toString(), "--out", rm.toString(), "--resume", "--sft", sft));
    assertTrue(err().contains("--sft is not taken with --resume"), err());
    assertEquals(1, run("rm", "--data", data.toString(), "--sft", sft, "--out", rm.toString(), "--config", cfg));
    assertTrue(err().contains("is not empty"), err());
    assertEquals(2, run("rm", "--data", data.toString(), "--out", dir.resolve("new").toString()));
    assertTrue(err().contains("--sft is required"), err());
    assertEquals(2, run("rm", "--data", data.toString(), "--sft", sft, "--out", "x", "--facts"));
    assertTrue(err().contains("unknown option --facts"), err());
    assertEquals(0, run("rm", "--help"));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("--no-facts"));
    assertEquals(0, RmConfig.defaults().toBuilder().build().differences(RmConfig.defaults()).length());
  }
}

package org.factrl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import org.factrl.stages.SftStage;
import org.factrl.train.MetricsLog;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/factrl sft}: a run from a base folder, its resume, and command lines it refuses (named). */
class SftCommandTest {
  @TempDir Path dir;
  private Path data;
  private Path base;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeEach
  void setUp() {
    data = dir.resolve("ds");
    ShapesDataSetWriter.builder().scenes(10).imageSize(16).seed(4).build().write(data);
    base = dir.resolve("base");
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

  private Path config(String json) throws IOException {
    Path p = dir.resolve("sft.json");
    Files.writeString(p, json);
    return p;
  }

  @Test
  void trainsFromABaseFolderAndResumes() throws IOException {
    Path cfg = config("{\"steps\": 3, \"batch_size\": 2, \"warmup_steps\": 1, \"checkpoint_every\": 2, \"log_every\": 1}");
    Path runDir = dir.resolve("run");
    assertEquals(0, run("sft", "--data", data.toString(), "--out", runDir.toString(), "--config", cfg.toString(),
        "--base", base.toString()), err());
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("sft: 3/3 steps (3 this run)"), out.toString());
    assertTrue(err().contains("sft      3/3  loss"), err()); // one progress line per log_every step off a terminal
    assertEquals(3, MetricsLog.read(runDir.resolve(SftStage.METRICS_FILE)).size());
    assertTrue(Files.isDirectory(runDir.resolve("checkpoints/step-00000002")));
    assertTrue(Files.isDirectory(runDir.resolve("checkpoints/step-00000003/model")));
    // the run is finished: a resume takes no step; a fresh run into it is refused
    assertEquals(0, run("sft", "--data", data.toString(), "--out", runDir.toString(), "--resume"), err());
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("(0 this run)"), out.toString());
    assertEquals(1, run("sft", "--data", data.toString(), "--out", runDir.toString(), "--config", cfg.toString()));
    assertTrue(err().contains("--resume"), err());
    // a resume with other settings is refused, naming the key
    Path other = config("{\"steps\": 4, \"batch_size\": 2, \"warmup_steps\": 1}");
    assertEquals(1, run("sft", "--data", data.toString(), "--out", runDir.toString(), "--config", other.toString(),
        "--resume"));
    assertTrue(err().contains("steps: 4 vs 3"), err());
  }

  @Test
  void configErrorsNameTheKey() throws IOException {
    Path runDir = dir.resolve("run");
    for (String[] c : new String[][] {
        {"{\"learning_rate\": 0.1}", "unknown key 'learning_rate'"},
        {"{\"lr\": 5}", "key 'lr': 5 not in [0, 1]"},
        {"{\"batch_size\": 0}", "key 'batch_size': 0 not in [1,"},
        {"{\"finetune\": \"qlora\"}", "key 'finetune': \"qlora\" is not one of full, lora"},
        {"{\"lora_targets\": [\"q_proj\", \"wq\"]}", "key 'lora_targets': has \"wq\""},
        {"{\"steps\": 2.5}", "key 'steps': must be an integer"},
        {"{\"steps\": 1, \"steps\": 2}", "duplicate key"}}) {
      Path cfg = config(c[0]);
      assertEquals(1, run("sft", "--data", data.toString(), "--out", runDir.toString(), "--config", cfg.toString()), c[0]);
      assertTrue(err().contains(c[1]), c[0] + " -> " + err());
      assertTrue(err().contains(cfg.toString()), "names the file: " + err());
    }
    assertTrue(!Files.exists(runDir), "nothing written on a config error");
  }

  @Test
  void badCommandLinesAreUsageErrors() {
    assertEquals(2, run("sft", "--out", dir.resolve("r").toString()));
    assertTrue(err().contains("--data is required"), err());
    assertEquals(2, run("sft", "--data", data.toString()));
    assertTrue(err().contains("--out is required"), err());
    assertEquals(2, run("sft", "--data", data.toString(), "--out", "x", "--epochs", "3"));
    assertTrue(err().contains("unknown option --epochs"), err());
    assertEquals(0, run("sft", "--help"));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("usage: bin/factrl sft [-h] --data=DIR --out=DIR"));
    assertEquals(1, run("sft", "--data", dir.resolve("nodata").toString(), "--out", dir.resolve("r").toString(),
        "--base", base.toString()));
    assertTrue(err().contains("sft.json"), err());
    assertEquals(1, run("sft", "--data", data.toString(), "--out", dir.resolve("r2").toString(), "--resume"));
    assertTrue(err().contains("not an SFT run folder"), err());
    assertEquals(1, run("sft", "--data", data.toString(), "--out", dir.resolve("r3").toString(), "--base",
        dir.resolve("nobase").toString()));
    assertTrue(err().contains("not a base model folder"), err());
  }
}

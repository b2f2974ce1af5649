package org.factrl.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.text.Tokenizer;
import org.factrl.ppo.PpoConfig;
import org.factrl.ppo.PpoStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12 item 6: every training stage saves its effective config with each checkpoint (and at the
 * run's root), so a checkpoint alone says how it was made. Runs SFT → RM → PPO on a micro model.
 */
class EffectiveConfigSavedTest {
  @TempDir Path dir;

  @Test
  void sftRmAndPpoCheckpointsEachHoldTheirEffectiveConfig() throws IOException {
    Path data = dir.resolve("ds");
    ShapesDataSetWriter.builder().scenes(20).imageSize(16).seed(4).build().write(data);
    int vocab;
    try (Tokenizer t = Tokenizer.load(DataSetFiles.in(data).tokenizer())) {
      vocab = t.vocabSize();
    }
    SftConfig sc = SftConfig.builder().finetune(FineTuning.LORA).loraRank(2).loraAlpha(4).steps(2).batchSize(2)
        .lr(5e-3).warmupSteps(0).checkpointEvery(1).build();
    Path sftRun = dir.resolve("sft");
    Path sft = SftStage.run(sc, data, BaseModel.random(RmStageTest.micro(vocab), 5, 0.05f), sftRun,
        RmStageTest.quiet()).checkpoint();
    assertEveryCheckpointHolds(sftRun, SftConfig.FILE_NAME, 2, f -> assertEquals(sc, SftConfig.read(f)));

    RmConfig rc = RmConfig.builder().steps(2).pairsPerStep(2).heldOutPairs(2).warmupSteps(0).loraRank(2).loraAlpha(4)
        .checkpointEvery(1).build();
    Path rmRun = dir.resolve("rm");
    Path rm = RmStage.run(rc, data, sft, rmRun, RmStageTest.quiet()).checkpoint();
    assertEveryCheckpointHolds(rmRun, RmConfig.FILE_NAME, 2, f -> assertEquals(rc, RmConfig.read(f)));

    PpoConfig pc = PpoConfig.parse("{\"steps\": 2, \"warmup_steps\": 0, \"checkpoint_every\": 1, \"rollouts_per_step\": 2,"
        + " \"minibatch\": 2, \"epochs\": 1, \"max_response_tokens\": 3, \"lora_rank\": 2, \"lora_alpha\": 4,"
        + " \"max_prompt_tokens\": 256}", "test");
    Path ppoRun = dir.resolve("ppo");
    PpoStage.run(pc, data, sft, rm, ppoRun, null, 0);
    assertEquals(pc, PpoConfig.read(ppoRun.resolve(PpoConfig.FILE_NAME)));
    assertEveryCheckpointHolds(ppoRun, PpoConfig.FILE_NAME, 2, f -> assertEquals(pc, PpoConfig.read(f)));
  }

  private interface Check {
    void accept(Path file);
  }

  private static void assertEveryCheckpointHolds(Path run, String file, int count, Check check) throws IOException {
    List<Path> steps;
    try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
      steps = s.filter(Files::isDirectory).sorted().toList();
    }
    assertEquals(count, steps.size(), run + ": " + steps);
    for (Path step : steps) {
      assertTrue(Files.isRegularFile(step.resolve(file)), step + " lacks " + file);
      check.accept(step.resolve(file));
    }
  }
}

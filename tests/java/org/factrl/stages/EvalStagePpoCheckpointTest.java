package org.factrl.stages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.factrl.model.LlavaModel;
import org.factrl.model.LoraSpec;
import org.factrl.model.io.IfExists;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression for the first chained smoke run: {@code bin/factrl eval --model PPO_RUN} failed with
 * "neither model/ nor base.json (not a model checkpoint)", because a PPO checkpoint holds only its
 * adapters (policy "ppo", "value") over the merged SFT model its run.json names. Eval now opens
 * that SFT model and the policy adapter alone.
 */
class EvalStagePpoCheckpointTest {
  @TempDir Path dir;

  @Test
  void aPpoCheckpointOpensAsTheSftModelWithItsPolicyAdapter() throws IOException {
    Path data = dir.resolve("ds");
    ShapesDataSetWriter.builder().scenes(12).imageSize(16).seed(9).build().write(data);
    int vocab;
    try (Tokenizer t = Tokenizer.load(DataSetFiles.in(data).tokenizer())) {
      vocab = t.vocabSize();
    }
    SftConfig c = SftConfig.builder().finetune(FineTuning.LORA).loraRank(4).loraAlpha(8).steps(1).batchSize(2)
        .lr(5e-3).warmupSteps(0).checkpointEvery(0).build();
    Path sft = SftStage.run(c, data, BaseModel.random(RmStageTest.micro(vocab), 5, 0.05f), dir.resolve("sft"),
        RmStageTest.quiet()).checkpoint();

    // A PPO run folder as PpoStage writes it: run.json naming the SFT, checkpoints/step-N/ with
    // ppo_state.json and the adapters only.
    Path run = dir.resolve("ppo");
    Path step = run.resolve("checkpoints").resolve("step-00000001");
    Files.createDirectories(step);
    Files.writeString(run.resolve("run.json"), "{\"format\": \"factrl.ppo.run.v1\", \"sft\": \""
        + sft.toAbsolutePath() + "\", \"rm\": \"unused\"}\n", StandardCharsets.UTF_8);
    Files.writeString(step.resolve("ppo_state.json"), "{}\n", StandardCharsets.UTF_8);
    float[] policy;
    float[] sftBase;
    try (Device cpu = Device.cpu(); LlavaModel m = SftModel.open(cpu, sft)) {
      m.addAdapter("ppo", LoraSpec.allDecoder(2, 4f), 7);
      m.addAdapter("value", LoraSpec.allDecoder(2, 4f), 8);
      m.saveAdapter("ppo", step.resolve("adapters").resolve("ppo"), IfExists.FAIL);
      m.saveAdapter("value", step.resolve("adapters").resolve("value"), IfExists.FAIL);
      try (Tensor t = m.adapter("ppo").flat(DType.F32)) {
        policy = t.toFloatArray();
      }
      try (Tensor t = m.params().flat(DType.F32)) {
        sftBase = t.toFloatArray();
      }
    }

    assertEquals(step.toAbsolutePath().normalize(), EvalStage.modelFolder(step));
    try (Device cpu = Device.cpu(); LlavaModel m = EvalStage.open(cpu, EvalStage.modelFolder(step))) {
      assertEquals(List.of("ppo"), List.copyOf(m.adapterNames()));
      assertEquals("ppo", EvalStage.chooseAdapter(m, Optional.empty(), step));
      try (Tensor t = m.adapter("ppo").flat(DType.F32)) {
        assertArrayEquals(policy, t.toFloatArray());
      }
      try (Tensor t = m.params().flat(DType.F32)) {
        assertArrayEquals(sftBase, t.toFloatArray(), "the base is the merged SFT model");
      }
    }
  }
}

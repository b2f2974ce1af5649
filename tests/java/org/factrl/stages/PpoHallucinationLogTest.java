package org.factrl.stages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.text.Tokenizer;
import org.factrl.plots.MetricsPlots;
import org.factrl.ppo.PpoConfig;
import org.factrl.ppo.PpoStage;
import org.factrl.train.MetricsLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12 item 5: PPO logs the exact judge's hallucination rate on each step's rollouts (every RL
 * prompt of the shapes world has an annotated image, so every rollout is judged), under the key
 * the plots draw, for both variants; a run stopped after step 1 and resumed logs bitwise what an
 * uninterrupted run logs. Runs data → SFT → RM (with and without facts) → PPO on a micro model.
 */
class PpoHallucinationLogTest {
  @TempDir Path dir;

  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  @Test
  void bothVariantsLogTheRatePerStepPlotItAndResumeBitForBit() throws IOException {
    Path data = dir.resolve("ds");
    ShapesDataSetWriter.builder().scenes(12).imageSize(16).seed(6).build().write(data);
    int vocab;
    try (Tokenizer t = Tokenizer.load(DataSetFiles.in(data).tokenizer())) {
      vocab = t.vocabSize();
    }
    SftConfig sc = SftConfig.builder().finetune(FineTuning.LORA).loraRank(2).loraAlpha(4).steps(2).batchSize(2)
        .lr(5e-3).warmupSteps(0).build();
    Path sft = SftStage.run(sc, data, BaseModel.random(RmStageTest.micro(vocab), 5, 0.05f), dir.resolve("sft"),
        RmStageTest.quiet()).checkpoint();
    RmConfig rc = RmConfig.builder().steps(1).pairsPerStep(2).heldOutPairs(2).warmupSteps(0).loraRank(2).loraAlpha(4)
        .build();
    Path rmPlain = RmStage.run(rc.toBuilder().facts(false).build(), data, sft, dir.resolve("rm-plain"),
        RmStageTest.quiet()).checkpoint();
    Path rmFacts = RmStage.run(rc.toBuilder().facts(true).build(), data, sft, dir.resolve("rm-facts"),
        RmStageTest.quiet()).checkpoint();

    int rollouts = 3;
    String json = "{\"steps\": 2, \"warmup_steps\": 0, \"checkpoint_every\": 1, \"rollouts_per_step\": " + rollouts
        + ", \"minibatch\": 3, \"epochs\": 1, \"max_response_tokens\": 4, \"lora_rank\": 2, \"lora_alpha\": 4,"
        + " \"max_prompt_tokens\": 256}";
    for (String variant : List.of("rlhf", "fact-rlhf")) {
      PpoConfig pc = PpoConfig.parse(json, "test").variant(variant);
      Path rm = pc.facts() ? rmFacts : rmPlain;
      Path straight = dir.resolve("ppo-" + variant);
      ByteArrayOutputStream progress = new ByteArrayOutputStream();
      PpoStage.run(pc, data, sft, rm, straight, new PrintStream(progress, true, StandardCharsets.UTF_8), 0);
      List<JsonObject> log = MetricsLog.read(straight.resolve(PpoStage.METRICS_FILE));
      assertEquals(2, log.size(), variant);
      for (JsonObject r : log) {
        assertEquals(rollouts, r.get("judged").getAsInt(), variant + ": " + r);
        double rate = r.get("hallucination_rate").getAsDouble();
        double k = rate * rollouts; // a share of 3 judged responses: 0, 1/3, 2/3 or 1
        assertEquals(Math.rint(k), k, 1e-9, variant + ": " + r);
        assertTrue(rate >= 0 && rate <= 1, variant + ": " + r);
        assertTrue(r.get("informative").getAsDouble() >= 0, variant + ": " + r);
      }
      String out = progress.toString(StandardCharsets.UTF_8);
      System.out.print(out);
      assertTrue(out.contains("hallucination monitor: the exact judge reads rollouts of"), out);
      assertTrue(out.contains("(" + rollouts + " judged)"), out);
      Path png = straight.resolve(MetricsPlots.DIR).resolve("hallucination.png");
      assertTrue(Files.isRegularFile(png), "no " + png);
      assertArrayEquals(PNG_SIGNATURE, java.util.Arrays.copyOf(Files.readAllBytes(png), 8));

      // Stopped after step 1, resumed: the same two records (but for the wall time).
      Path resumed = dir.resolve("ppo-" + variant + "-resumed");
      PpoStage.run(pc, data, sft, rm, resumed, null, 1);
      PpoStage.resume(data, resumed, null, 0);
      List<JsonObject> again = MetricsLog.read(resumed.resolve(PpoStage.METRICS_FILE));
      assertEquals(withoutSeconds(log), withoutSeconds(again), variant);
    }
  }

  private static List<JsonObject> withoutSeconds(List<JsonObject> records) {
    return records.stream().map(r -> {
      JsonObject c = r.deepCopy();
      c.remove("seconds");
      return c;
    }).toList();
  }
}

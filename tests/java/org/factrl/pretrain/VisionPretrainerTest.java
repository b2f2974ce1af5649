package org.factrl.pretrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.engine.Device;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.model.Projector;
import org.factrl.train.MetricsLog;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Vision pretraining on a micro model with the tiny preset's image geometry (64 px, 8-px patches:
 * 64 patches) but a narrow 1-block ViT, on a 160-scene data set (80 SFT scenes to train, 16 eval
 * scenes held out): the loss falls, held-out colour accuracy beats the majority class, only the
 * vision weights move, and a rerun with the same seed is bitwise the same.
 */
class VisionPretrainerTest {
  @TempDir static Path shared;
  static Path data;

  @BeforeAll
  static void writeData() {
    data = shared.resolve("ds");
    ShapesDataSetWriter.builder().scenes(160).imageSize(64).seed(21).build().write(data);
  }

  static ModelConfig micro() {
    return ModelConfig.builder()
        .imageSize(64).imageChannels(3).patchSize(8)
        .visionHidden(32).visionLayers(1).visionHeads(2).visionIntermediate(64).visionFeatureLayer(-1)
        .projector(Projector.LINEAR)
        .vocabSize(16).hidden(16).layers(1).heads(2).intermediate(32).maxPositions(8)
        .imageTokenId(4)
        .build();
  }

  static LlavaModel model() {
    LlavaModel m = LlavaModel.create(Device.cpu(), micro());
    m.initWeights(5, 0.02f);
    return m;
  }

  @Test
  void learnsToSeeColoursAndOnlyTheVisionWeightsMove() throws Exception {
    VisionPretrainConfig config = VisionPretrainConfig.builder().steps(80).batchSize(8).lr(1e-2).warmupSteps(5)
        .seed(3).evalEvery(40).build();
    try (LlavaModel m = model(); MetricsLog log = MetricsLog.create(shared.resolve("metrics.jsonl"))) {
      float[] before = weights(m);
      VisionPretrainResult r = VisionPretrainer.train(m, data, config, log, null);
      assertEquals(80, r.steps());
      assertEquals(2, r.evals().size());
      assertTrue(r.finalLoss() < 0.7 * r.firstLoss(), "loss " + r.firstLoss() + " -> " + r.finalLoss());
      VisionEval e = r.last();
      assertEquals(16, e.scenes());
      // Held out, against always guessing the most common class (per-patch "none" ~70%):
      assertTrue(e.colourAccuracy() > e.colourMajority() + 0.02, e.summary());
      assertTrue(e.shapeAccuracy() > e.shapeMajority(), e.summary());
      assertTrue(e.environmentAccuracy() > e.environmentMajority() + 0.2, e.summary());
      assertEquals(80, MetricsLog.read(log.file()).size());
      float[] after = weights(m);
      long[] changed = changedByGroup(m, before, after);
      assertTrue(changed[0] > 0, "vision weights did not move");
      assertEquals(0, changed[1], "non-vision weights moved");
    }
  }

  @Test
  void sameSeedSameWeights() {
    VisionPretrainConfig config = VisionPretrainConfig.builder().steps(4).batchSize(4).warmupSteps(1).seed(8)
        .evalEvery(0).maxEvalScenes(4).build();
    float[][] weights = new float[2][];
    double[] losses = new double[2];
    for (int run = 0; run < 2; run++) {
      try (LlavaModel m = model()) {
        VisionPretrainResult r = VisionPretrainer.train(m, data, config, null, null);
        losses[run] = r.finalLoss();
        weights[run] = weights(m);
      }
    }
    assertEquals(losses[0], losses[1]);
    assertArrayEquals(weights[0], weights[1]);
    try (LlavaModel m = model()) {
      VisionPretrainResult r = VisionPretrainer.train(m, data, config.toBuilder().seed(9).build(), null, null);
      assertFalse(java.util.Arrays.equals(weights[0], weights(m)),
          "another seed gave the same weights");
      assertTrue(Double.isFinite(r.finalLoss()));
    }
  }

  private static float[] weights(LlavaModel m) {
    try (org.factrl.engine.Tensor flat = m.params().flat(org.factrl.engine.DType.F32)) {
      return flat.toFloatArray();
    }
  }

  /** Changed elements: [0] in vision_tower.* entries, [1] elsewhere. */
  private static long[] changedByGroup(LlavaModel m, float[] before, float[] after) {
    long[] changed = new long[2];
    List<String> names = m.params().names();
    for (String name : names) {
      long offset = m.params().byteOffset(name) / 4;
      long n = m.params().tensor(name).numel();
      int g = name.startsWith("vision_tower.") ? 0 : 1;
      for (long i = offset; i < offset + n; i++) {
        if (Float.floatToRawIntBits(before[(int) i]) != Float.floatToRawIntBits(after[(int) i])) {
          changed[g]++;
        }
      }
    }
    return changed;
  }
}

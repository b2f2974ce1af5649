package org.factrl.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.junit.jupiter.api.Test;

/**
 * {@link LlavaModel#visionFeatures} / {@link LlavaModel#visionBackward} through the binding (the
 * bitwise match with the full forward and the finite-difference check are in
 * tests/native/model_vision_test.cpp): shapes, determinism, only vision gradients, argument errors.
 */
class LlavaModelVisionTest {
  static ModelConfig micro() {
    return ModelConfig.builder()
        .imageSize(16).imageChannels(3).patchSize(8)
        .visionHidden(16).visionLayers(2).visionHeads(2).visionIntermediate(32).visionFeatureLayer(-2)
        .projector(Projector.LINEAR)
        .vocabSize(16).hidden(16).layers(1).heads(2).intermediate(32).maxPositions(8)
        .imageTokenId(4)
        .build();
  }

  @Test
  void featuresAndVisionOnlyGradients() {
    Device cpu = Device.cpu();
    try (LlavaModel m = LlavaModel.create(cpu, micro())) {
      m.initWeights(3, 0.2f);
      m.plan(2, 4, 2, true);
      float[] img = new float[2 * 3 * 16 * 16];
      for (int i = 0; i < img.length; i++) {
        img[i] = (float) Math.sin(i * 0.37);
      }
      try (Tensor images = cpu.fromFloats(img, 2, 3, 16, 16);
          Tensor f = m.visionFeatures(images, true);
          Tensor again = m.visionFeatures(images, false);
          ParameterBlob grads = m.params().likeThis()) {
        assertArrayEquals(new long[] {2, 4, 16}, f.shape());
        assertArrayEquals(f.toFloatArray(), again.toFloatArray());
        // the backward needs a training forward last
        FactRlException late = assertThrows(FactRlException.class,
            () -> m.visionBackward(f, grads, GradMode.OVERWRITE));
        assertTrue(late.getMessage().contains("frl_model_vision_forward"), late.getMessage());
        m.visionFeatures(images, f, true);
        float[] ones = new float[(int) f.numel()];
        Arrays.fill(ones, 1f);
        try (Tensor d = cpu.fromFloats(ones, 2, 4, 16)) {
          m.visionBackward(d, grads, GradMode.OVERWRITE);
        }
        double vision = 0;
        for (String name : grads.names()) {
          double sum = 0;
          for (float x : grads.tensor(name).toFloatArray()) {
            sum += Math.abs(x);
          }
          if (name.startsWith("vision_tower.") && !name.contains("encoder.layers.1.")) {
            vision += sum;
          } else {
            assertEquals(0.0, sum, name + " got a gradient");
          }
        }
        assertTrue(vision > 0, "no vision gradient");
      }
    }
  }

  @Test
  void badShapesNameTheArgument() {
    Device cpu = Device.cpu();
    try (LlavaModel m = LlavaModel.create(cpu, micro())) {
      m.plan(2, 4, 2, true);
      try (Tensor wrong = cpu.zeros(DType.F32, 1, 3, 8, 8); Tensor images = cpu.zeros(DType.F32, 1, 3, 16, 16);
          Tensor badFeatures = cpu.zeros(DType.F32, 1, 4, 15); ParameterBlob grads = m.params().likeThis()) {
        FactRlException e = assertThrows(FactRlException.class, () -> m.visionFeatures(wrong, true));
        assertTrue(e.getMessage().contains("images") && e.getMessage().contains("[1, 3, 8, 8]"), e.getMessage());
        e = assertThrows(FactRlException.class, () -> m.visionFeatures(images, badFeatures, true));
        assertTrue(e.getMessage().contains("features") && e.getMessage().contains("[1, 4, 15]"), e.getMessage());
        e = assertThrows(FactRlException.class, () -> m.visionBackward(badFeatures, grads, GradMode.OVERWRITE));
        assertTrue(e.getMessage().contains("dFeatures"), e.getMessage());
      }
    }
  }
}

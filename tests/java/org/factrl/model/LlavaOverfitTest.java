package org.factrl.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.SplittableRandom;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.train.AdamW;
import org.factrl.train.AdamWConfig;
import org.junit.jupiter.api.Test;

/**
 * The whole training path — native forward, backward of the SFT loss, AdamW over every base
 * parameter — memorises one fixed batch of image conversations: the mean NLL over assistant tokens
 * falls below {@value #TARGET_LOSS}. A small model (≈110k parameters) so that it runs in seconds.
 *
 * <p>Each row is {@code BOS, P image tokens, user text, SEP, assistant text, EOS, padding} (right
 * padding, rows of different lengths, each row its own image). Targets are the ids shifted left by
 * one; the loss counts the positions whose target is an assistant token or the EOS:
 * loss = −(1/n) Σ mask·logp, so d loss / d logp = −mask / n (model.h's SFT convention). The curve is
 * printed.
 */
class LlavaOverfitTest {
  static final double TARGET_LOSS = 0.05;
  static final int MAX_STEPS = 300;

  static final int BOS = 1, SEP = 2, EOS = 3, PAD = 0;

  static ModelConfig config() {
    return ModelConfig.builder()
        .imageSize(16).imageChannels(3).patchSize(8)
        .visionHidden(32).visionLayers(2).visionHeads(2).visionIntermediate(64).visionFeatureLayer(-2)
        .projector(Projector.MLP2X_GELU)
        .vocabSize(48).hidden(64).layers(2).heads(4).intermediate(128).maxPositions(64)
        .imageTokenId(4)
        .build();
  }

  @Test
  void sftLossOnAFixedBatchFallsBelowTarget() {
    ModelConfig c = config();
    int b = 4;
    int s = 24;
    int p = c.patchesPerImage();
    SplittableRandom r = new SplittableRandom(2026);
    int[] ids = new int[b * s];
    int[] targets = new int[b * s];
    float[] mask = new float[b * s];
    int counted = 0;
    for (int row = 0; row < b; row++) {
      List<Integer> seq = new ArrayList<>();
      seq.add(BOS);
      for (int i = 0; i < p; i++) {
        seq.add(c.imageTokenId());
      }
      int user = 3 + row;  // rows of different lengths
      for (int i = 0; i < user; i++) {
        seq.add(5 + r.nextInt(c.vocabSize() - 5));
      }
      seq.add(SEP);
      int assistantStart = seq.size();
      int assistant = 6 + (row % 3);
      for (int i = 0; i < assistant; i++) {
        seq.add(5 + r.nextInt(c.vocabSize() - 5));
      }
      seq.add(EOS);
      for (int t = 0; t < s; t++) {
        ids[row * s + t] = t < seq.size() ? seq.get(t) : PAD;
        targets[row * s + t] = t + 1 < seq.size() ? seq.get(t + 1) : PAD;
        // position t predicts token t+1: counted when t+1 is an assistant token or the EOS
        if (t + 1 >= assistantStart && t + 1 < seq.size()) {
          mask[row * s + t] = 1;
          counted++;
        }
      }
    }
    float[] dLogp = new float[b * s];
    for (int i = 0; i < dLogp.length; i++) {
      dLogp[i] = -mask[i] / counted;
    }
    int imageValues = b * c.imageChannels() * c.imageSize() * c.imageSize();
    float[] pixels = new float[imageValues];
    for (int i = 0; i < imageValues; i++) {
      pixels[i] = (float) (r.nextDouble() * 2 - 1);
    }

    List<String> curve = new ArrayList<>();
    double loss = Double.NaN;
    int steps = 0;
    try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, c)) {
      m.initWeights(7, 0.02f);
      m.plan(b, s, b, true);
      AdamWConfig opt = AdamWConfig.builder().lr(3e-3).weightDecay(0.0).build();
      try (ParameterBlob grads = m.params().likeThis();
          AdamW adamw = AdamW.over(opt, m.params(), grads);
          Tensor tIds = cpu.fromInts(ids, b, s);
          Tensor tTargets = cpu.fromInts(targets, b, s);
          Tensor images = cpu.fromFloats(pixels, b, c.imageChannels(), c.imageSize(), c.imageSize());
          Tensor logp = cpu.zeros(DType.F32, b, s);
          Tensor dl = cpu.fromFloats(dLogp, b, s)) {
        LlavaModel.Inputs in = new LlavaModel.Inputs(tIds, images, tTargets);
        LlavaModel.Outputs out = new LlavaModel.Outputs(null, null, logp);
        for (steps = 0; steps <= MAX_STEPS; steps++) {
          m.forward(null, in, out, true);
          loss = sftLoss(logp.toFloatArray(), mask, counted);
          if (steps % 10 == 0 || loss < TARGET_LOSS) {
            curve.add(String.format("%d:%.4f", steps, loss));
          }
          if (loss < TARGET_LOSS || steps == MAX_STEPS) {
            break;
          }
          m.backward(dl, null, grads, EnumSet.allOf(ParamGroup.class), null, GradMode.OVERWRITE);
          adamw.step();
        }
      }
    }
    System.out.printf("[overfit] %d parameters, batch %d x %d, %d assistant tokens, AdamW lr 3e-3: loss after %d steps"
        + " %.4f; curve (step:loss) %s%n", c.parameterCount(), b, s, counted, steps, loss, String.join(" ", curve));
    assertTrue(loss < TARGET_LOSS, "SFT loss after " + steps + " AdamW steps is " + loss + ", not below " + TARGET_LOSS
        + "; curve " + curve);
  }

  /** −(1/n) Σ mask·logp in double. */
  static double sftLoss(float[] logp, float[] mask, int counted) {
    double sum = 0;
    for (int i = 0; i < logp.length; i++) {
      sum += mask[i] * (double) logp[i];
    }
    return -sum / counted;
  }
}

package org.factrl.train;

import java.util.Set;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.model.LlavaModel;
import org.factrl.model.ParamGroup;

/**
 * The masked next-token cross-entropy every language-modelling stage (SFT, pretraining) trains on:
 * one training forward reading {@code logp = log softmax(z)[target]}, {@code L = −Σ mask·logp / Σ mask}
 * (a double sum in a fixed order, so bit-reproducible), and the backward with
 * {@code dL/dlogp = −mask / Σ mask} into the given gradient blobs (overwritten).
 */
public final class NextTokenLoss {
  private NextTokenLoss() {}

  /**
   * Forward + backward of {@code b} on {@code model} (with adapter set {@code adapter}, or null);
   * gradients of {@code groups} go to {@code baseGrads}, the adapter's to {@code adapterGrads}.
   * Returns the loss; a non-finite one is an error naming the batch.
   */
  public static double forwardBackward(LlavaModel model, String adapter, Batch b, ParameterBlob baseGrads,
      Set<ParamGroup> groups, ParameterBlob adapterGrads, String stage) {
    float[] lp = logProbs(model, adapter, b, b.images(), true);
    int n = b.targetTokens();
    float[] mask = b.lossMask();
    double loss = loss(lp, mask, n);
    float g = n > 0 ? -1f / n : 0f;
    float[] d = new float[lp.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = mask[i] * g;
    }
    Device cpu = model.device();
    try (Tensor dLogp = cpu.fromFloats(d, b.rows(), b.seq())) {
      model.backward(dLogp, null, baseGrads, groups, adapterGrads, GradMode.OVERWRITE);
    }
    if (!Double.isFinite(loss)) {
      throw new FactRlException(stage + ": the loss is " + loss + " at batch " + b.exampleIds());
    }
    return loss;
  }

  /** The loss of {@code b} without training (an inference forward), with {@code pixels} as its images. */
  public static double evaluate(LlavaModel model, String adapter, Batch b, float[] pixels) {
    float[] lp = logProbs(model, adapter, b, pixels, false);
    return loss(lp, b.lossMask(), b.targetTokens());
  }

  private static double loss(float[] lp, float[] mask, int n) {
    double sum = 0;
    for (int i = 0; i < lp.length; i++) {
      if (mask[i] != 0f) {
        sum += lp[i];
      }
    }
    return n > 0 ? -sum / n : 0.0;
  }

  private static float[] logProbs(LlavaModel model, String adapter, Batch b, float[] pixels, boolean train) {
    Device cpu = model.device();
    try (Tensor ids = cpu.fromInts(b.inputIds(), b.rows(), b.seq());
        Tensor targets = cpu.fromInts(b.targets(), b.rows(), b.seq());
        Tensor images = b.imageRows() == 0 ? null : cpu.fromFloats(pixels, b.imageRows(),
            model.config().imageChannels(), model.config().imageSize(), model.config().imageSize());
        Tensor logp = cpu.zeros(DType.F32, b.rows(), b.seq())) {
      model.forward(adapter, new LlavaModel.Inputs(ids, images, targets), new LlavaModel.Outputs(null, null, logp), train);
      return logp.toFloatArray();
    }
  }
}

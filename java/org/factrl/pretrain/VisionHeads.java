package org.factrl.pretrain;

import java.util.ArrayList;
import java.util.List;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.layers.CrossEntropy;
import org.factrl.layers.Linear;
import org.factrl.model.LlavaModel;
import org.factrl.train.SplitMix64;

/**
 * The probe heads of {@link VisionPretrainer} and their buffers for batches of {@code batch} images:
 * three per-patch linear heads (shape, colour, size: {@code Dv → classes}) on the features
 * {@code [B·P, Dv]}, and an environment head on the features mean-pooled over the patches
 * {@code [B, Dv]}; loss = the sum of the four mean softmax cross-entropies.
 *
 * <p>Built from the existing layer ops ({@link Linear}, {@link CrossEntropy}): they already have
 * tested backward passes, run on the model's device and are bitwise deterministic, so no new native
 * code is needed for a few small GEMMs. The mean pool (and its backward, {@code d pooled / P} added to
 * every patch) runs in Java on host copies: {@code B·P·Dv} floats, noise next to the ViT.
 */
final class VisionHeads implements AutoCloseable {
  private static final String[] NAMES = {"shape", "colour", "size", "environment"};

  private final LlavaModel model;
  private final int batch;
  private final int patches;
  private final int dv;
  private final ParameterBlob params;
  private final ParameterBlob grads;
  private final Linear[] heads = new Linear[4];
  private final int[] classes = {PatchLabels.SHAPE_CLASSES, PatchLabels.COLOUR_CLASSES, PatchLabels.SIZE_CLASSES,
      PatchLabels.ENVIRONMENT_CLASSES};
  private final List<Tensor> owned = new ArrayList<>();
  private final Tensor images;
  private final Tensor features;
  private final Tensor features2d;
  private final Tensor dFeatures;
  private final Tensor dFeatures2d;
  private final Tensor pooled;
  private final Tensor dPooled;
  private final Tensor[] logits = new Tensor[4];
  private final Tensor[] dLogits = new Tensor[4];
  private final Tensor[] targets = new Tensor[4];
  private final Tensor[] lse = new Tensor[4];
  private final Tensor loss;

  private VisionHeads(LlavaModel model, int batch, ParameterBlob params) {
    this.model = model;
    this.batch = batch;
    this.params = params;
    this.patches = model.config().patchesPerImage();
    this.dv = model.config().visionHidden();
    Device d = model.device();
    int c = model.config().imageChannels();
    int s = model.config().imageSize();
    grads = params.likeThis();
    images = own(d.zeros(DType.F32, batch, c, s, s));
    features = own(d.zeros(DType.F32, batch, patches, dv));
    features2d = own(features.view((long) batch * patches, dv));
    dFeatures = own(d.zeros(DType.F32, batch, patches, dv));
    dFeatures2d = own(dFeatures.view((long) batch * patches, dv));
    pooled = own(d.zeros(DType.F32, batch, dv));
    dPooled = own(d.zeros(DType.F32, batch, dv));
    loss = own(d.zeros(DType.F32, 1));
    for (int h = 0; h < 4; h++) {
      long rows = h == 3 ? batch : (long) batch * patches;
      heads[h] = Linear.of(params.tensor(weightName(h)), params.tensor(biasName(h)));
      logits[h] = own(d.zeros(DType.F32, rows, classes[h]));
      dLogits[h] = own(d.zeros(DType.F32, rows, classes[h]));
      targets[h] = own(d.zeros(DType.I32, rows));
      lse[h] = own(d.zeros(DType.F32, rows));
    }
  }

  private Tensor own(Tensor t) {
    owned.add(t);
    return t;
  }

  static String weightName(int head) {
    return "vision_pretrain." + NAMES[head] + ".weight";
  }

  static String biasName(int head) {
    return "vision_pretrain." + NAMES[head] + ".bias";
  }

  /** Heads with weights N(0, std²) from {@code seed} (biases 0) for batches of {@code batch} images. */
  static VisionHeads create(LlavaModel model, int batch, long seed, float std) {
    int dv = model.config().visionHidden();
    int[] classes = {PatchLabels.SHAPE_CLASSES, PatchLabels.COLOUR_CLASSES, PatchLabels.SIZE_CLASSES,
        PatchLabels.ENVIRONMENT_CLASSES};
    ParameterBlob.Builder b = ParameterBlob.builder();
    for (int h = 0; h < 4; h++) {
      b.add(weightName(h), DType.F32, classes[h], dv).add(biasName(h), DType.F32, classes[h]);
    }
    ParameterBlob params = b.build(model.device());
    SplitMix64 rng = new SplitMix64(SplitMix64.mix(seed ^ 0x5649534FL));
    for (int h = 0; h < 4; h++) {
      float[] w = new float[classes[h] * dv];
      for (int i = 0; i < w.length; i += 2) {  // Box-Muller, two normals per pair of uniforms
        double u1 = ((rng.nextLong() >>> 11) + 1) * 0x1.0p-53;
        double u2 = (rng.nextLong() >>> 11) * 0x1.0p-53;
        double r = Math.sqrt(-2 * Math.log(u1));
        w[i] = (float) (std * r * Math.cos(2 * Math.PI * u2));
        if (i + 1 < w.length) {
          w[i + 1] = (float) (std * r * Math.sin(2 * Math.PI * u2));
        }
      }
      params.tensor(weightName(h)).write(w);
    }
    try {
      return new VisionHeads(model, batch, params);
    } catch (RuntimeException e) {
      params.close();
      throw e;
    }
  }

  ParameterBlob params() {
    return params;
  }

  ParameterBlob grads() {
    return grads;
  }

  int patches() {
    return patches;
  }

  private void writeImages(List<float[]> batchImages) {
    int per = (int) (images.numel() / batch);
    float[] all = new float[(int) images.numel()];
    for (int i = 0; i < batch; i++) {
      System.arraycopy(batchImages.get(Math.min(i, batchImages.size() - 1)), 0, all, i * per, per);
    }
    images.write(all);
  }

  /** Mean over the patches of the current features, into {@code pooled}. */
  private void pool() {
    float[] f = features.toFloatArray();
    float[] p = new float[batch * dv];
    for (int b = 0; b < batch; b++) {
      for (int q = 0; q < patches; q++) {
        int base = (b * patches + q) * dv;
        for (int k = 0; k < dv; k++) {
          p[b * dv + k] += f[base + k];
        }
      }
      for (int k = 0; k < dv; k++) {
        p[b * dv + k] /= patches;
      }
    }
    pooled.write(p);
  }

  private void headsForward() {
    for (int h = 0; h < 3; h++) {
      heads[h].forward(features2d, logits[h]);
    }
    pool();
    heads[3].forward(pooled, logits[3]);
  }

  /**
   * One training pass over a full batch: forward, loss, and the gradients of the heads (into
   * {@link #grads()}) and of the model's vision group (into {@code baseGrads}), overwritten. Returns
   * the loss (sum of the four heads' mean cross-entropies).
   */
  double trainStep(List<float[]> batchImages, List<PatchLabels> labels, ParameterBlob baseGrads) {
    writeImages(batchImages);
    model.visionFeatures(images, features, true);
    headsForward();
    int[][] t = {new int[batch * patches], new int[batch * patches], new int[batch * patches], new int[batch]};
    for (int b = 0; b < batch; b++) {
      PatchLabels l = labels.get(b);
      for (int q = 0; q < patches; q++) {
        t[0][b * patches + q] = l.shape(q);
        t[1][b * patches + q] = l.colour(q);
        t[2][b * patches + q] = l.size(q);
      }
      t[3][b] = l.environment();
    }
    double total = 0;
    for (int h = 0; h < 4; h++) {
      targets[h].write(t[h]);
      CrossEntropy.forward(logits[h], targets[h], null, loss, null, lse[h]);
      total += loss.toFloatArray()[0];
      CrossEntropy.backward(logits[h], targets[h], null, lse[h], 1f, dLogits[h], GradMode.OVERWRITE);
    }
    for (int h = 0; h < 3; h++) {
      heads[h].backward(features2d, dLogits[h], dFeatures2d, h == 0 ? GradMode.OVERWRITE : GradMode.ACCUMULATE,
          grads.tensor(weightName(h)), grads.tensor(biasName(h)), GradMode.OVERWRITE);
    }
    heads[3].backward(pooled, dLogits[3], dPooled, GradMode.OVERWRITE, grads.tensor(weightName(3)),
        grads.tensor(biasName(3)), GradMode.OVERWRITE);
    // The pool's backward: every patch of image b gets d pooled[b] / P.
    float[] df = dFeatures.toFloatArray();
    float[] dp = dPooled.toFloatArray();
    for (int b = 0; b < batch; b++) {
      for (int q = 0; q < patches; q++) {
        int base = (b * patches + q) * dv;
        for (int k = 0; k < dv; k++) {
          df[base + k] += dp[b * dv + k] / patches;
        }
      }
    }
    dFeatures.write(df);
    model.visionBackward(dFeatures, baseGrads, GradMode.OVERWRITE);
    return total;
  }

  /** Held-out accuracies on {@code split} (inference forwards; a short last batch is padded and ignored). */
  VisionEval evaluate(VisionPretrainer.Split split, int step) {
    int n = split.size();
    long[] right = new long[4];
    long objectPatches = 0;
    long objectShapeRight = 0;
    long objectColourRight = 0;
    long presenceExact = 0;
    long pairRight = 0;
    int pairs = ShapeKind.values().length * Colour.values().length;
    long[] envCounts = new long[classes[3]];
    long[][] truthCounts = new long[3][];
    for (int h = 0; h < 3; h++) {
      truthCounts[h] = new long[classes[h]];
    }
    for (int start = 0; start < n; start += batch) {
      int count = Math.min(batch, n - start);
      writeImages(split.images().subList(start, start + count));
      model.visionFeatures(images, features, false);
      headsForward();
      float[][] z = new float[4][];
      for (int h = 0; h < 4; h++) {
        z[h] = logits[h].toFloatArray();
      }
      for (int b = 0; b < count; b++) {
        PatchLabels l = split.labels().get(start + b);
        long predicted = 0;
        for (int q = 0; q < patches; q++) {
          int row = b * patches + q;
          int[] pred = {argmax(z[0], row, classes[0]), argmax(z[1], row, classes[1]), argmax(z[2], row, classes[2])};
          int[] truth = {l.shape(q), l.colour(q), l.size(q)};
          for (int h = 0; h < 3; h++) {
            right[h] += pred[h] == truth[h] ? 1 : 0;
            truthCounts[h][truth[h]]++;
          }
          if (truth[0] != PatchLabels.NONE) {
            objectPatches++;
            objectShapeRight += pred[0] == truth[0] ? 1 : 0;
            objectColourRight += pred[1] == truth[1] ? 1 : 0;
          }
          if (pred[0] != PatchLabels.NONE && pred[1] != PatchLabels.NONE) {
            predicted |= 1L << PatchLabels.pairIndex(pred[0] - 1, pred[1] - 1);
          }
        }
        right[3] += argmax(z[3], b, classes[3]) == l.environment() ? 1 : 0;
        envCounts[l.environment()]++;
        long truth = PatchLabels.presence(split.scenes().get(start + b));
        presenceExact += predicted == truth ? 1 : 0;
        pairRight += pairs - Long.bitCount(predicted ^ truth);
      }
    }
    double cells = (double) n * patches;
    double[] majority = new double[3];
    for (int h = 0; h < 3; h++) {
      long best = 0;
      for (long c : truthCounts[h]) {
        best = Math.max(best, c);
      }
      majority[h] = best / cells;
    }
    return new VisionEval(step, n, right[0] / cells, right[1] / cells, right[2] / cells, right[3] / (double) n,
        objectPatches == 0 ? 0 : objectShapeRight / (double) objectPatches,
        objectPatches == 0 ? 0 : objectColourRight / (double) objectPatches, presenceExact / (double) n,
        pairRight / ((double) n * pairs), majority[0], majority[1], majority[2],
        java.util.Arrays.stream(envCounts).max().orElse(0) / (double) n);
  }

  private static int argmax(float[] z, int row, int k) {
    int best = 0;
    for (int c = 1; c < k; c++) {
      if (z[row * k + c] > z[row * k + best]) {
        best = c;
      }
    }
    return best;
  }

  @Override
  public void close() {
    // views before the tensors they view (features2d, dFeatures2d come after their bases in the list)
    for (int i = owned.size() - 1; i >= 0; i--) {
      owned.get(i).close();
    }
    grads.close();
    params.close();
  }
}

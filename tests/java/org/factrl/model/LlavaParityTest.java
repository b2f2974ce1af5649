package org.factrl.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.factrl.engine.Device;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.model.TorchLlavaReference.Adapter;
import org.factrl.model.TorchLlavaReference.Precision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Parity of the native LLaVA model ({@link LlavaModel}, F32) with the independent libtorch
 * reference ({@link TorchLlavaReference}) run in {@link Precision#F64} on the same weights: the
 * reference then is the exact answer to ~1e-15, and every difference measured here is the
 * engine's own float32 rounding.
 *
 * <p>Each case loads {@link TorchLlavaReference#randomBase} into our model (by name into the
 * params blob, or through a safetensors file and {@link LlavaModel#loadBase}) and, with LoRA,
 * {@link TorchLlavaReference#randomAdapter} (B non-zero) into our adapter blob by PEFT name. The
 * batch has right padding (rows of different lengths, pad id 0 after the end); the loss
 * L = Σ dLogp·logp + Σ dHidden·hidden has non-trivial random dLogp and dHidden that are zero on
 * padding, so padded positions do not matter and are not compared (model.h: "what padded positions
 * compute is ignored"). Compared: logits, hidden and logp on real positions; the gradient of every
 * trainable parameter — all three base groups (full fine-tuning, also with the adapter active) and
 * every adapter weight — over its whole tensor.
 *
 * <p>Tolerances (float32 engine vs the float64 oracle): logits, hidden, logp
 * |ours − ref| ≤ {@value #OUT_ATOL} + {@value #OUT_RTOL}·|ref| element-wise (values O(1..10));
 * gradients, per tensor, |ours − ref| ≤ {@value #GRAD_RTOL}·max|ref of that tensor| +
 * {@value #GRAD_ATOL} element-wise: gradients span many orders of magnitude inside one tensor
 * (attention and norm paths), so the error is measured against the tensor's scale, as a float32
 * accumulation error grows with it. A gradient that is mathematically zero (the vision key biases:
 * softmax is invariant to them) only has to stay within {@value #GRAD_ATOL}.
 *
 * <p>Measured (2026-12-03, AVX2 CPU, 12 cases): logits ≤ 9.6e-7, hidden ≤ 1.3e-6, logp ≤ 4.8e-7 abs;
 * gradients ≤ 1.6e-6 of their tensor's max|ref| — over 10× inside the tolerance; the zero
 * gradients ≤ 7.3e-8. Each case prints its maxima.
 */
class LlavaParityTest {
  static final double OUT_ATOL = 2e-5;
  static final double OUT_RTOL = 2e-5;
  static final double GRAD_RTOL = 2e-5;
  static final double GRAD_ATOL = 1e-7;
  /** Below this max|ref| a gradient is mathematically zero (f64 noise): only GRAD_ATOL applies. */
  static final double ZERO_SCALE = 1e-12;

  private static final int PAD = 0;
  private static final long SEQ = 14;

  @TempDir Path dir;

  /** The reference's config; P = 4 image tokens, every field as small as still exercises every path. */
  static TorchLlavaConfig refConfig(TorchLlavaConfig.Projector projector, int featureLayer) {
    return TorchLlavaConfig.builder()
        .imageSize(16).imageChannels(3).patchSize(8)
        .visionHidden(16).visionLayers(2).visionHeads(2).visionIntermediate(24).visionFeatureLayer(featureLayer)
        .projector(projector)
        .vocabSize(37).hidden(16).layers(2).heads(2).intermediate(40).maxPositions(32)
        .imageTokenId(4)
        .build();
  }

  /** Our config with the same fields. */
  static ModelConfig ourConfig(TorchLlavaConfig c) {
    return ModelConfig.builder()
        .imageSize(c.imageSize).imageChannels(c.imageChannels).patchSize(c.patchSize)
        .visionHidden(c.visionHidden).visionLayers(c.visionLayers).visionHeads(c.visionHeads)
        .visionIntermediate(c.visionIntermediate).visionFeatureLayer(c.visionFeatureLayer)
        .visionLayerNormEps(c.visionLayerNormEps)
        .projector(c.projector == TorchLlavaConfig.Projector.LINEAR ? Projector.LINEAR : Projector.MLP2X_GELU)
        .vocabSize(c.vocabSize).hidden(c.hidden).layers(c.layers).heads(c.heads).intermediate(c.intermediate)
        .maxPositions(c.maxPositions).ropeTheta(c.ropeTheta).rmsNormEps(c.rmsNormEps).imageTokenId(c.imageTokenId)
        .build();
  }

  /** One batch: ids, targets, real lengths, images (null without image rows). */
  record Batch(int[][] ids, int[][] targets, int[] lengths, float[] images, int imageCount) {}

  /**
   * Three rows of lengths S, S − 5, S − 2 (right-padded with id 0); with images rows 0 and 2 hold
   * P image tokens from position 1 (row 2's image is the second image), row 1 is text.
   */
  static Batch batch(TorchLlavaConfig c, boolean images, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int s = (int) SEQ;
    int[] lengths = {s, s - 5, s - 2};
    int[][] ids = new int[3][s];
    int[][] targets = new int[3][s];
    for (int b = 0; b < 3; b++) {
      for (int t = 0; t < s; t++) {
        if (t >= lengths[b]) {
          ids[b][t] = PAD;
          targets[b][t] = PAD;
          continue;
        }
        int id;
        do {
          id = 1 + r.nextInt(c.vocabSize - 1);
        } while (id == c.imageTokenId);
        ids[b][t] = id;
        targets[b][t] = r.nextInt(c.vocabSize);
      }
    }
    int imageCount = 0;
    if (images) {
      for (int b : new int[] {0, 2}) {
        for (int t = 1; t <= c.patches(); t++) {
          ids[b][t] = c.imageTokenId;
        }
        imageCount++;
      }
    }
    float[] pixels = null;
    if (images) {
      int n = imageCount * c.imageChannels * c.imageSize * c.imageSize;
      pixels = new float[n];
      for (int i = 0; i < n; i++) {
        pixels[i] = (float) (r.nextDouble() * 2 - 1);
      }
    }
    return new Batch(ids, targets, lengths, pixels, imageCount);
  }

  /** Uniform(±scale) on real positions (per element of the last dim {@code width}), 0 on padding. */
  static float[] masked(Batch batch, int width, double scale, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int b = batch.ids().length;
    int s = batch.ids()[0].length;
    float[] out = new float[b * s * width];
    for (int row = 0; row < b; row++) {
      for (int t = 0; t < batch.lengths()[row]; t++) {
        for (int j = 0; j < width; j++) {
          out[(row * s + t) * width + j] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
      }
    }
    return out;
  }

  private static int[] flat(int[][] m) {
    int[] out = new int[m.length * m[0].length];
    for (int i = 0; i < m.length; i++) {
      System.arraycopy(m[i], 0, out, i * m[0].length, m[0].length);
    }
    return out;
  }

  /** What one case measured, for the printed report. */
  static final class Errors {
    double logits;
    double hidden;
    double logp;
    double gradRel;  // max over tensors of max|ours − ref| / max|ref|
    String gradWorst = "";
    int gradTensors;
    int zeroTensors;
    double zeroGradMax;

    @Override
    public String toString() {
      return String.format("max |Δ| logits %.2e, hidden %.2e, logp %.2e; gradients (%d tensors) max |Δ|/max|ref| %.2e (%s);"
          + " %d tensors with zero reference gradient: max |ours| %.1e", logits, hidden, logp, gradTensors, gradRel,
          gradWorst, zeroTensors, zeroGradMax);
    }
  }

  /** Compares real positions of [B, S, width] outputs; returns the max abs difference. */
  private static double compareOutputs(String what, float[] ref, float[] ours, Batch batch, int width) {
    int s = batch.ids()[0].length;
    assertEquals(ref.length, ours.length, what + ": length");
    double max = 0;
    for (int row = 0; row < batch.ids().length; row++) {
      for (int t = 0; t < batch.lengths()[row]; t++) {
        for (int j = 0; j < width; j++) {
          int i = (row * s + t) * width + j;
          double d = Math.abs(ours[i] - ref[i]);
          max = Math.max(max, d);
          if (!(d <= OUT_ATOL + OUT_RTOL * Math.abs(ref[i]))) {
            fail(String.format("%s[row %d, pos %d, %d]: ours %.8g, reference (f64) %.8g, |Δ| %.2e > f32 tolerance "
                + "%.0e + %.0e·|ref|", what, row, t, j, ours[i], ref[i], d, OUT_ATOL, OUT_RTOL));
          }
        }
      }
    }
    return max;
  }

  /** Compares one gradient tensor against the reference's; records the error relative to its scale. */
  private static void compareGradient(String name, float[] ref, float[] ours, Errors errors) {
    assertEquals(ref.length, ours.length, name + ": length");
    double scale = 0;
    for (float v : ref) {
      scale = Math.max(scale, Math.abs(v));
    }
    double bound = GRAD_RTOL * scale + GRAD_ATOL;
    double max = 0;
    int worst = 0;
    for (int i = 0; i < ref.length; i++) {
      double d = Math.abs(ours[i] - ref[i]);
      if (!(d <= max) || Double.isNaN(d)) {
        max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
        worst = i;
      }
    }
    if (!(max <= bound)) {
      fail(String.format("gradient of %s[%d]: ours %.8g, reference (f64) %.8g, |Δ| %.2e > f32 tolerance %.0e·max|ref| "
          + "(%.3e) + %.0e", name, worst, ours[worst], ref[worst], max, GRAD_RTOL, scale, GRAD_ATOL));
    }
    if (scale < ZERO_SCALE) {
      // Mathematically zero (e.g. a vision key bias: softmax is invariant to it): only float noise.
      errors.zeroGradMax = Math.max(errors.zeroGradMax, max);
      errors.zeroTensors++;
    } else if (max / scale >= errors.gradRel) {
      errors.gradRel = max / scale;
      errors.gradWorst = name;
    }
    errors.gradTensors++;
  }

  /**
   * Runs one case: our model (weights from the reference's generator) and the F64 reference on
   * the same batch, outputs and gradients compared. {@code viaFile}: the base goes through
   * safetensors + loadBase instead of the blob.
   */
  private Errors runCase(TorchLlavaConfig rc, boolean images, Integer loraTargets, boolean viaFile, long seed) {
    Map<String, float[]> base = TorchLlavaReference.randomBase(rc, seed);
    Adapter adapter = loraTargets == null ? null : TorchLlavaReference.randomAdapter(rc, 3, 6f, loraTargets, seed + 1);
    Batch batch = batch(rc, images, seed + 2);
    int b = batch.ids().length;
    int s = batch.ids()[0].length;
    int v = rc.vocabSize;
    int d = rc.hidden;
    float[] dLogp = masked(batch, 1, 1.0, seed + 3);
    float[] dHidden = masked(batch, d, 0.5, seed + 4);
    Errors errors = new Errors();

    Map<String, float[]> refGrads;
    TorchLlavaReference.Outputs refOut;
    try (TorchLlavaReference ref = new TorchLlavaReference(rc, base, adapter, Precision.F64)) {
      refOut = ref.forward(batch.ids(), batch.images(), batch.targets());
      ref.backward(dLogp, dHidden);
      refGrads = ref.gradients();
    }

    try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, ourConfig(rc))) {
      if (viaFile) {
        TorchLlavaReference.writeSafeTensors(dir.resolve(LlavaModel.WEIGHTS_FILE), base, rc.baseShapes());
        m.config().write(dir.resolve(ModelConfig.FILE_NAME), org.factrl.model.io.IfExists.REPLACE);
        m.loadBase(dir);
      } else {
        assertEquals(base.keySet(), Set.copyOf(m.params().names()), "base names");
        for (Map.Entry<String, float[]> e : base.entrySet()) {
          m.params().tensor(e.getKey()).write(e.getValue());
        }
      }
      String name = null;
      ParameterBlob adapterGrads = null;
      if (adapter != null) {
        name = "parity";
        EnumSet<LoraTarget> targets = EnumSet.noneOf(LoraTarget.class);
        for (LoraTarget t : LoraTarget.values()) {
          if ((loraTargets & t.bit()) != 0) {
            targets.add(t);
          }
        }
        ParameterBlob a = m.addAdapter(name, new LoraSpec(adapter.rank(), adapter.alpha(), targets), 99);
        assertEquals(adapter.weights().keySet(), Set.copyOf(a.names()), "adapter names");
        for (Map.Entry<String, float[]> e : adapter.weights().entrySet()) {
          a.tensor(e.getKey()).write(e.getValue());
        }
        adapterGrads = a.likeThis();
      }
      m.plan(b, s, batch.imageCount(), true);
      try (ParameterBlob baseGrads = m.params().likeThis();
          Tensor ids = cpu.fromInts(flat(batch.ids()), b, s);
          Tensor targets = cpu.fromInts(flat(batch.targets()), b, s);
          Tensor img = batch.images() == null ? null
              : cpu.fromFloats(batch.images(), batch.imageCount(), rc.imageChannels, rc.imageSize, rc.imageSize);
          Tensor logits = cpu.zeros(org.factrl.engine.DType.F32, b, s, v);
          Tensor hidden = cpu.zeros(org.factrl.engine.DType.F32, b, s, d);
          Tensor logp = cpu.zeros(org.factrl.engine.DType.F32, b, s);
          Tensor dl = cpu.fromFloats(dLogp, b, s);
          Tensor dh = cpu.fromFloats(dHidden, b, s, d)) {
        m.forward(name, new LlavaModel.Inputs(ids, img, targets), new LlavaModel.Outputs(logits, hidden, logp), true);
        m.backward(dl, dh, baseGrads, EnumSet.allOf(ParamGroup.class), adapterGrads, GradMode.OVERWRITE);

        errors.logits = compareOutputs("logits", refOut.logits(), logits.toFloatArray(), batch, v);
        errors.hidden = compareOutputs("hidden", refOut.hidden(), hidden.toFloatArray(), batch, d);
        errors.logp = compareOutputs("logp", refOut.logp(), logp.toFloatArray(), batch, 1);
        for (String n : m.params().names()) {
          compareGradient(n, refGrads.get(n), baseGrads.tensor(n).toFloatArray(), errors);
        }
        if (adapterGrads != null) {
          for (String n : adapterGrads.names()) {
            compareGradient(n, refGrads.get(n), adapterGrads.tensor(n).toFloatArray(), errors);
          }
        }
        int expected = m.params().names().size() + (adapterGrads == null ? 0 : adapterGrads.names().size());
        assertEquals(expected, errors.gradTensors, "every trainable tensor compared");
      } finally {
        if (adapterGrads != null) {
          adapterGrads.close();
        }
      }
    }
    return errors;
  }

  private static final int ALL_TARGETS = TorchLlavaConfig.LORA_ALL_DECODER | TorchLlavaConfig.LORA_PROJECTOR;

  @ParameterizedTest(name = "{0} projector, feature layer {1}, images {2}, lora {3}")
  @CsvSource({
      "LINEAR,     -2, true,  false",
      "LINEAR,     -2, true,  true",
      "LINEAR,     -2, false, false",
      "LINEAR,     -2, false, true",
      "MLP2X_GELU, -2, true,  false",
      "MLP2X_GELU, -2, true,  true",
      "MLP2X_GELU, -2, false, false",
      "MLP2X_GELU, -2, false, true",
      "MLP2X_GELU, -1, true,  true",
      "LINEAR,      0, true,  true",
  })
  void outputsAndEveryGradientMatchTheReference(TorchLlavaConfig.Projector projector, int featureLayer,
      boolean images, boolean lora) {
    TorchLlavaConfig rc = refConfig(projector, featureLayer);
    Errors e = runCase(rc, images, lora ? ALL_TARGETS : null, false, 1000 + featureLayer * 7 + (images ? 1 : 0));
    System.out.printf("[parity] %s projector, feature layer %d, images %s, lora %s: %s%n", projector, featureLayer,
        images, lora, e);
    assertTrue(e.gradTensors > 0);
  }

  /** LoRA on a subset (q, v, down and the projector): untargeted projections get no adapter weights. */
  @Test
  void partialLoraTargetsMatch() {
    TorchLlavaConfig rc = refConfig(TorchLlavaConfig.Projector.MLP2X_GELU, -2);
    int targets = TorchLlavaConfig.LORA_Q | TorchLlavaConfig.LORA_V | TorchLlavaConfig.LORA_DOWN
        | TorchLlavaConfig.LORA_PROJECTOR;
    Errors e = runCase(rc, true, targets, false, 77);
    System.out.printf("[parity] q,v,down,projector LoRA: %s%n", e);
  }

  /** The same weights through the files: safetensors written from the reference's map, loadBase. */
  @Test
  void weightsLoadedFromSafeTensorsMatch() {
    TorchLlavaConfig rc = refConfig(TorchLlavaConfig.Projector.MLP2X_GELU, -2);
    Errors e = runCase(rc, true, null, true, 4242);
    System.out.printf("[parity] via safetensors + loadBase: %s%n", e);
  }
}

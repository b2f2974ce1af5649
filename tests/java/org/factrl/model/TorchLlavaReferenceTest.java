package org.factrl.model;

import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.maxAbsDiff;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.factrl.model.TorchLlavaConfig.Projector;
import org.factrl.model.TorchLlavaReference.Adapter;
import org.factrl.model.TorchLlavaReference.Outputs;
import org.factrl.model.TorchLlavaReference.Precision;
import org.factrl.model.io.PeftAdapter;
import org.factrl.model.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Checks of {@link TorchLlavaReference} that hold for any correct implementation of model.h:
 * an independent forward written as plain Java loops in double (every piece, vision through logp),
 * the zero-B adapter, causality, the image splice's row independence, logp = log_softmax gathered,
 * the hidden_states indexing of vision_feature_layer, which weights get no gradient, gradients by
 * central finite differences in float64, argument errors, the seeded weight generator and the
 * safetensors export.
 *
 * <p>Tolerances: F64 reference vs the plain-Java double forward 1e-10 abs (both exact to ~1e-15;
 * the rest is summation order); F32 reference vs it 2e-5 abs on O(1) logits. Finite differences
 * (F64, h = 2^-12 on weights on a 2^-16 grid so w ± h is exact in float): |fd − g| ≤ 1e-7 + 1e-5·|g|;
 * the truncation error h²·L'''/6 is ≲ 1e-8 here.
 */
class TorchLlavaReferenceTest {

  private static final TorchLlavaConfig CONFIG = TorchLlavaConfig.builder().build();
  private static final int ALL = TorchLlavaConfig.LORA_ALL_DECODER | TorchLlavaConfig.LORA_PROJECTOR;

  // ---- a batch: row 0 holds an image (P tokens from position 1), row 1 is text only ---------

  private static int[][] ids(TorchLlavaConfig c, int s, long seed, boolean imageRow0) {
    SplittableRandom r = new SplittableRandom(seed);
    int[][] ids = new int[2][s];
    for (int b = 0; b < 2; b++) {
      for (int t = 0; t < s; t++) {
        int id;
        do {
          id = r.nextInt(c.vocabSize);
        } while (id == c.imageTokenId);
        ids[b][t] = id;
      }
    }
    if (imageRow0) {
      for (int t = 1; t <= c.patches(); t++) {
        ids[0][t] = c.imageTokenId;
      }
    }
    return ids;
  }

  private static int[][] targets(TorchLlavaConfig c, int[][] ids, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int[][] t = new int[ids.length][ids[0].length];
    for (int[] row : t) {
      for (int i = 0; i < row.length; i++) {
        row[i] = r.nextInt(c.vocabSize);
      }
    }
    return t;
  }

  private static float[] images(TorchLlavaConfig c, int n, long seed) {
    return uniform(seed, n * c.imageChannels * c.imageSize * c.imageSize, 1f);
  }

  private static Outputs run(TorchLlavaConfig c, Map<String, float[]> base, Adapter a, Precision p, int[][] ids,
      float[] images, int[][] targets) {
    try (TorchLlavaReference ref = new TorchLlavaReference(c, base, a, p)) {
      return ref.forward(ids, images, targets);
    }
  }

  // ---- the plain-Java forward ----------------------------------------------------------------

  @ParameterizedTest(name = "projector={0} featureLayer={1} adapter={2}")
  @CsvSource({"MLP2X_GELU,-2,true", "LINEAR,-2,false", "MLP2X_GELU,0,false", "LINEAR,2,true", "MLP2X_GELU,-1,true"})
  void matchesPlainJavaForward(Projector projector, int featureLayer, boolean withAdapter) {
    TorchLlavaConfig c = CONFIG.toBuilder().projector(projector).visionFeatureLayer(featureLayer).build();
    Map<String, float[]> base = TorchLlavaReference.randomBase(c, 11);
    Adapter a = withAdapter ? TorchLlavaReference.randomAdapter(c, 3, 6f, ALL, 12) : null;
    int[][] ids = ids(c, 7, 13, true);
    float[] img = images(c, 1, 14);
    double[][] want = PlainLlava.forward(c, base, a, ids, img);
    Outputs f64 = run(c, base, a, Precision.F64, ids, img, null);
    Outputs f32 = run(c, base, a, Precision.F32, ids, img, null);
    assertClose(toFloat(want[0]), f64.logits(), 1e-10, 0, "F64 logits");
    assertClose(toFloat(want[1]), f64.hidden(), 1e-10, 0, "F64 hidden");
    assertClose(toFloat(want[0]), f32.logits(), 2e-5, 0, "F32 logits");
    assertClose(toFloat(want[1]), f32.hidden(), 2e-5, 0, "F32 hidden");
  }

  @Test
  void logpIsLogSoftmaxOfLogitsAtTargets() {
    Map<String, float[]> base = TorchLlavaReference.randomBase(CONFIG, 21);
    int[][] ids = ids(CONFIG, 6, 22, true);
    int[][] tg = targets(CONFIG, ids, 23);
    Outputs o = run(CONFIG, base, null, Precision.F32, ids, images(CONFIG, 1, 24), tg);
    int v = CONFIG.vocabSize;
    float[] want = new float[2 * 6];
    for (int i = 0; i < want.length; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < v; j++) {
        max = Math.max(max, o.logits()[i * v + j]);
      }
      double sum = 0;
      for (int j = 0; j < v; j++) {
        sum += Math.exp(o.logits()[i * v + j] - max);
      }
      want[i] = (float) (o.logits()[i * v + tg[i / 6][i % 6]] - max - Math.log(sum));
    }
    assertClose(want, o.logp(), 2e-6, 1e-6, "logp");
  }

  // ---- structural properties -----------------------------------------------------------------

  @Test
  void zeroBAdapterIsTheBaseAndANonZeroOneIsNot() {
    Map<String, float[]> base = TorchLlavaReference.randomBase(CONFIG, 31);
    Adapter random = TorchLlavaReference.randomAdapter(CONFIG, 4, 8f, ALL, 32);
    Map<String, float[]> zeroB = new LinkedHashMap<>(random.weights());
    zeroB.replaceAll((name, v) -> name.endsWith(".lora_B.weight") ? new float[v.length] : v);
    Adapter fresh = new Adapter(4, 8f, ALL, zeroB);
    int[][] ids = ids(CONFIG, 7, 33, true);
    float[] img = images(CONFIG, 1, 34);
    int[][] tg = targets(CONFIG, ids, 35);
    Outputs plain = run(CONFIG, base, null, Precision.F32, ids, img, tg);
    Outputs withZero = run(CONFIG, base, fresh, Precision.F32, ids, img, tg);
    Outputs withRandom = run(CONFIG, base, random, Precision.F32, ids, img, tg);
    assertArrayEquals(plain.logits(), withZero.logits(), "B = 0: logits");
    assertArrayEquals(plain.hidden(), withZero.hidden(), "B = 0: hidden");
    assertArrayEquals(plain.logp(), withZero.logp(), "B = 0: logp");
    assertTrue(maxAbsDiff(plain.logits(), withRandom.logits()) > 1e-2, "a non-zero B changes the logits");
  }

  @Test
  void laterTokensDoNotChangeEarlierPositions() {
    Map<String, float[]> base = TorchLlavaReference.randomBase(CONFIG, 41);
    int[][] ids = ids(CONFIG, 9, 42, true);
    float[] img = images(CONFIG, 1, 43);
    int[][] changed = {ids[0].clone(), ids[1].clone()};
    int at = 6;
    changed[0][at] = (ids[0][at] + 1) % CONFIG.imageTokenId;
    changed[1][at] = (ids[1][at] + 1) % CONFIG.imageTokenId;
    Outputs a = run(CONFIG, base, null, Precision.F32, ids, img, null);
    Outputs b = run(CONFIG, base, null, Precision.F32, changed, img, null);
    int v = CONFIG.vocabSize;
    for (int row = 0; row < 2; row++) {
      for (int t = 0; t < 9; t++) {
        float[] x = Arrays.copyOfRange(a.logits(), (row * 9 + t) * v, (row * 9 + t + 1) * v);
        float[] y = Arrays.copyOfRange(b.logits(), (row * 9 + t) * v, (row * 9 + t + 1) * v);
        if (t < at) {
          assertArrayEquals(x, y, 1e-6f, "row " + row + " position " + t + " is before the change");
        } else {
          assertTrue(maxAbsDiff(x, y) > 1e-4, "row " + row + " position " + t + " sees the change");
        }
      }
    }
  }

  @Test
  void aTextRowDoesNotDependOnTheImages() {
    Map<String, float[]> base = TorchLlavaReference.randomBase(CONFIG, 51);
    int[][] ids = ids(CONFIG, 8, 52, true);
    Outputs a = run(CONFIG, base, null, Precision.F32, ids, images(CONFIG, 1, 53), null);
    Outputs b = run(CONFIG, base, null, Precision.F32, ids, images(CONFIG, 1, 54), null);
    int row = 8 * CONFIG.vocabSize;
    assertArrayEquals(Arrays.copyOfRange(a.logits(), row, 2 * row), Arrays.copyOfRange(b.logits(), row, 2 * row),
        "text row 1");
    assertTrue(maxAbsDiff(Arrays.copyOfRange(a.logits(), 0, row), Arrays.copyOfRange(b.logits(), 0, row)) > 1e-3,
        "image row 0 depends on its image");
  }

  @Test
  void imageRowsTakeImagesInRowOrder() {
    // Rows 0 and 2 hold images, row 1 is text: swapping the two images swaps rows 0 and 2.
    Map<String, float[]> base = TorchLlavaReference.randomBase(CONFIG, 55);
    int[][] two = ids(CONFIG, 7, 56, true);
    int[][] ids = {two[0], two[1], two[0].clone()};
    float[] img0 = images(CONFIG, 1, 57);
    float[] img1 = images(CONFIG, 1, 58);
    Outputs a = run(CONFIG, base, null, Precision.F32, ids, concat(img0, img1), null);
    Outputs b = run(CONFIG, base, null, Precision.F32, ids, concat(img1, img0), null);
    int row = 7 * CONFIG.vocabSize;
    // 1e-6, not bit equality: an image's place in the vision batch may change GEMM blocking (1 ulp).
    assertArrayEquals(Arrays.copyOfRange(a.logits(), 0, row), Arrays.copyOfRange(b.logits(), 2 * row, 3 * row), 1e-6f);
    assertArrayEquals(Arrays.copyOfRange(a.logits(), 2 * row, 3 * row), Arrays.copyOfRange(b.logits(), 0, row), 1e-6f);
    assertTrue(maxAbsDiff(Arrays.copyOfRange(a.logits(), 0, row), Arrays.copyOfRange(a.logits(), 2 * row, 3 * row)) > 1e-3);
  }

  @Test
  void featureLayerFollowsHiddenStatesIndexing() {
    Map<String, float[]> base = TorchLlavaReference.randomBase(CONFIG, 61);
    int[][] ids = ids(CONFIG, 6, 62, true);
    float[] img = images(CONFIG, 1, 63);
    int n = CONFIG.visionLayers;
    float[][] byLayer = new float[2 * n + 2][];
    for (int layer = -(n + 1); layer <= n; layer++) {
      TorchLlavaConfig c = CONFIG.toBuilder().visionFeatureLayer(layer).build();
      byLayer[layer + n + 1] = run(c, base, null, Precision.F32, ids, img, null).logits();
    }
    for (int layer = 0; layer <= n; layer++) {
      assertArrayEquals(byLayer[layer + n + 1], byLayer[layer], "layer " + layer + " = layer " + (layer - n - 1));
    }
    for (int layer = 1; layer <= n; layer++) {
      assertTrue(maxAbsDiff(byLayer[layer + n + 1], byLayer[layer + n]) > 1e-4, "block " + (layer - 1) + " matters");
    }
  }

  @Test
  void weightsNotOnThePathGetZeroGradient() {
    Map<String, float[]> base = TorchLlavaReference.randomBase(CONFIG, 71);
    int[][] ids = ids(CONFIG, 7, 72, true);
    int[][] tg = targets(CONFIG, ids, 73);
    try (TorchLlavaReference ref = new TorchLlavaReference(CONFIG, base, null, Precision.F32)) {
      ref.forward(ids, images(CONFIG, 1, 74), tg);
      ref.backward(uniform(75, 14, 1f), uniform(76, 14 * CONFIG.hidden, 1f));
      Map<String, float[]> g = ref.gradients();
      assertEquals(CONFIG.baseShapes().keySet(), g.keySet());
      int d = CONFIG.hidden;
      float[] embed = g.get("language_model.model.embed_tokens.weight");
      float[] imageRow = Arrays.copyOfRange(embed, CONFIG.imageTokenId * d, (CONFIG.imageTokenId + 1) * d);
      assertArrayEquals(new float[d], imageRow, "image token's embedding row: only image positions use it");
      float[] usedRow = Arrays.copyOfRange(embed, ids[1][0] * d, (ids[1][0] + 1) * d);
      assertTrue(maxAbsDiff(new float[d], usedRow) > 0, "a text token's row gets a gradient");
      String last = "vision_tower.vision_model.encoder.layers." + (CONFIG.visionLayers - 1) + ".";
      String first = "vision_tower.vision_model.encoder.layers.0.";
      for (String name : g.keySet()) {
        float[] zero = new float[g.get(name).length];
        if (name.startsWith(last)) {
          assertArrayEquals(zero, g.get(name), name + ": after the feature layer, never run");
        } else if (name.startsWith(first) || name.startsWith("language_model.") || name.startsWith("multi_modal")) {
          assertTrue(maxAbsDiff(zero, g.get(name)) > 0, name + " gets a gradient");
        }
      }
    }
  }

  // ---- gradients -----------------------------------------------------------------------------

  /** Weights on a 2^-16 grid, so that w ± 2^-12 is exact in float. */
  private static Map<String, float[]> onGrid(Map<String, float[]> m) {
    Map<String, float[]> out = new LinkedHashMap<>();
    m.forEach((k, v) -> {
      float[] q = new float[v.length];
      for (int i = 0; i < v.length; i++) {
        q[i] = (float) (Math.rint(v[i] * 65536.0) / 65536.0);
      }
      out.put(k, q);
    });
    return out;
  }

  /**
   * One index of each of 34 weights covering every kind (vision, both projector layers, decoder,
   * heads, LoRA A and B on decoder and projector). The MLP projector only: the linear one is the
   * same code minus a layer, and its forward is checked against plain Java above.
   */
  @Test
  void gradientsMatchFiniteDifferencesInFloat64() {
    Projector projector = Projector.MLP2X_GELU;
    TorchLlavaConfig c = CONFIG.toBuilder().projector(projector).build();
    Map<String, float[]> base = onGrid(TorchLlavaReference.randomBase(c, 81));
    Adapter ra = TorchLlavaReference.randomAdapter(c, 2, 4f, ALL, 82);
    Adapter adapter = new Adapter(ra.rank(), ra.alpha(), ra.targets(), onGrid(ra.weights()));
    int[][] ids = ids(c, 7, 83, true);
    int[][] tg = targets(c, ids, 84);
    float[] img = images(c, 1, 85);
    float[] dLogp = uniform(86, 14, 1f);
    float[] dHidden = uniform(87, 14 * c.hidden, 1f);
    Map<String, float[]> grads;
    try (TorchLlavaReference ref = new TorchLlavaReference(c, base, adapter, Precision.F64)) {
      ref.forward(ids, img, tg);
      ref.backward(dLogp, dHidden);
      grads = ref.gradients();
    }
    List<String> names = new ArrayList<>();
    String v = "vision_tower.vision_model.";
    String l0 = "language_model.model.layers.0.";
    String l1 = "language_model.model.layers.1.";
    names.addAll(List.of(v + "embeddings.patch_embedding.weight", v + "embeddings.class_embedding",
        v + "embeddings.position_embedding.weight", v + "pre_layrnorm.weight", v + "pre_layrnorm.bias",
        v + "encoder.layers.0.layer_norm1.weight", v + "encoder.layers.0.self_attn.q_proj.weight",
        v + "encoder.layers.0.self_attn.k_proj.bias", v + "encoder.layers.0.self_attn.v_proj.weight",
        v + "encoder.layers.0.self_attn.out_proj.bias", v + "encoder.layers.0.mlp.fc1.weight",
        v + "encoder.layers.0.mlp.fc2.bias", "multi_modal_projector.linear_1.weight",
        "multi_modal_projector.linear_1.bias", "language_model.model.embed_tokens.weight",
        l0 + "input_layernorm.weight", l0 + "self_attn.q_proj.weight", l0 + "self_attn.k_proj.weight",
        l1 + "self_attn.v_proj.weight", l1 + "self_attn.o_proj.weight", l1 + "post_attention_layernorm.weight",
        l0 + "mlp.gate_proj.weight", l1 + "mlp.up_proj.weight", l0 + "mlp.down_proj.weight",
        "language_model.model.norm.weight", "language_model.lm_head.weight",
        TorchLlavaConfig.loraA(l0 + "self_attn.q_proj"), TorchLlavaConfig.loraB(l1 + "self_attn.k_proj"),
        TorchLlavaConfig.loraA(l1 + "mlp.down_proj"), TorchLlavaConfig.loraB(l0 + "mlp.gate_proj"),
        TorchLlavaConfig.loraA("multi_modal_projector.linear_1"),
        TorchLlavaConfig.loraB("multi_modal_projector.linear_1")));
    if (projector == Projector.MLP2X_GELU) {
      names.addAll(List.of("multi_modal_projector.linear_2.weight",
          TorchLlavaConfig.loraB("multi_modal_projector.linear_2")));
    }
    SplittableRandom r = new SplittableRandom(88);
    double h = 0x1p-12;
    for (String name : names) {
      boolean isBase = base.containsKey(name);
      float[] w = isBase ? base.get(name) : adapter.weights().get(name);
      {
        int i = r.nextInt(w.length);
        if (name.endsWith("embed_tokens.weight")) {  // a row the batch uses
          i = ids[1][0] * c.hidden + r.nextInt(c.hidden);
        }
        double[] l = new double[2];
        for (int side = 0; side < 2; side++) {
          float[] moved = w.clone();
          moved[i] = (float) (w[i] + (side == 0 ? h : -h));
          Map<String, float[]> b2 = new LinkedHashMap<>(base);
          Map<String, float[]> a2 = new LinkedHashMap<>(adapter.weights());
          (isBase ? b2 : a2).put(name, moved);
          try (TorchLlavaReference ref = new TorchLlavaReference(c, b2, new Adapter(2, 4f, ALL, a2), Precision.F64)) {
            ref.forward(ids, img, tg);
            l[side] = ref.loss(dLogp, dHidden);
          }
        }
        double fd = (l[0] - l[1]) / (2 * h);
        double g = grads.get(name)[i];
        assertTrue(Math.abs(fd - g) <= 1e-7 + 1e-5 * Math.abs(g),
            name + "[" + i + "]: finite difference " + fd + ", backward " + g);
      }
    }
  }

  @Test
  void float32GradientsAgreeWithFloat64() {
    Map<String, float[]> base = TorchLlavaReference.randomBase(CONFIG, 91);
    Adapter a = TorchLlavaReference.randomAdapter(CONFIG, 2, 4f, ALL, 92);
    int[][] ids = ids(CONFIG, 7, 93, true);
    int[][] tg = targets(CONFIG, ids, 94);
    float[] img = images(CONFIG, 1, 95);
    Map<String, float[]>[] g = new Map[2];
    Precision[] ps = {Precision.F32, Precision.F64};
    for (int k = 0; k < 2; k++) {
      try (TorchLlavaReference ref = new TorchLlavaReference(CONFIG, base, a, ps[k])) {
        ref.forward(ids, img, tg);
        ref.backward(uniform(96, 14, 1f), null);
        g[k] = ref.gradients();
      }
    }
    for (String name : g[1].keySet()) {
      assertClose(g[1].get(name), g[0].get(name), 2e-5, 1e-3, name);
    }
  }

  // ---- arguments ------------------------------------------------------------------------------

  @Test
  void badArgumentsSayWhatIsWrong() {
    Map<String, float[]> base = TorchLlavaReference.randomBase(CONFIG, 101);
    int[][] ids = ids(CONFIG, 7, 102, true);
    float[] img = images(CONFIG, 1, 103);
    try (TorchLlavaReference ref = new TorchLlavaReference(CONFIG, base, null, Precision.F32)) {
      assertMessage(IllegalStateException.class, () -> ref.backward(null, null), "forward first");
      int[][] threeImageTokens = {ids[0].clone(), ids[1].clone()};
      threeImageTokens[1][0] = CONFIG.imageTokenId;
      threeImageTokens[1][1] = CONFIG.imageTokenId;
      assertMessage(IllegalArgumentException.class, () -> ref.forward(threeImageTokens, img, null), "row 1 has 2 image tokens");
      assertMessage(IllegalArgumentException.class, () -> ref.forward(ids, null, null), "images holds 0 images");
      assertMessage(IllegalArgumentException.class, () -> ref.forward(ids, concat(img, img), null), "images holds 2");
      int[][] outside = {ids[0].clone(), ids[1].clone()};
      outside[1][3] = CONFIG.vocabSize;
      assertMessage(IllegalArgumentException.class, () -> ref.forward(outside, img, null), "inputIds[1][3] = 32");
      ref.forward(ids, img, null);
      assertMessage(IllegalArgumentException.class, () -> ref.backward(new float[14], null), "no targets");
      assertMessage(IllegalArgumentException.class, () -> ref.backward(null, new float[3]), "dHidden has 3 values");
      assertMessage(IllegalArgumentException.class, () -> ref.gradient("nope"), "'nope'");
    }
    Map<String, float[]> missing = new LinkedHashMap<>(base);
    missing.remove("language_model.model.norm.weight");
    assertMessage(IllegalArgumentException.class,
        () -> new TorchLlavaReference(CONFIG, missing, null, Precision.F32), "missing 'language_model.model.norm.weight'");
    assertMessage(IllegalArgumentException.class, () -> CONFIG.toBuilder().heads(3).build(), "heads 3");
    assertMessage(IllegalArgumentException.class, () -> CONFIG.toBuilder().visionFeatureLayer(-4).build(),
        "visionFeatureLayer -4");
  }

  private static void assertMessage(Class<? extends Throwable> type, org.junit.jupiter.api.function.Executable e,
      String part) {
    Throwable t = assertThrows(type, e);
    assertTrue(t.getMessage().contains(part), "message '" + t.getMessage() + "' should contain '" + part + "'");
  }

  // ---- weights: generator, names, file ---------------------------------------------------

  @Test
  void randomWeightsAreSeededAndShaped() {
    Map<String, float[]> a = TorchLlavaReference.randomBase(CONFIG, 111);
    Map<String, float[]> b = TorchLlavaReference.randomBase(CONFIG, 111);
    Map<String, float[]> other = TorchLlavaReference.randomBase(CONFIG, 112);
    assertEquals(new ArrayList<>(CONFIG.baseShapes().keySet()), new ArrayList<>(a.keySet()));
    for (String name : a.keySet()) {
      assertArrayEquals(a.get(name), b.get(name), name);
      assertEquals(Arrays.stream(CONFIG.baseShapes().get(name)).reduce(1, (x, y) -> x * y), a.get(name).length, name);
      if (!name.endsWith(".bias") || a.get(name).length > 1) {
        assertFalse(Arrays.equals(a.get(name), other.get(name)), name + " depends on the seed");
      }
      if (name.endsWith("norm.weight") || name.endsWith("layernorm.weight") || name.contains("layer_norm")
          && name.endsWith(".weight") || name.contains("layrnorm.weight")) {
        for (float x : a.get(name)) {
          assertTrue(x >= 0.9f && x <= 1.1f, name + " near 1: " + x);
        }
      }
    }
    Adapter ad = TorchLlavaReference.randomAdapter(CONFIG, 3, 6f, ALL, 113);
    assertEquals(new ArrayList<>(CONFIG.adapterShapes(3, ALL).keySet()), new ArrayList<>(ad.weights().keySet()));
    for (Map.Entry<String, float[]> e : ad.weights().entrySet()) {
      assertTrue(maxAbsDiff(new float[e.getValue().length], e.getValue()) > 0, e.getKey() + " is non-zero");
    }
    assertEquals(2.0, ad.scale());
  }

  @Test
  void namesFollowTheHeaderOrder() {
    Map<String, long[]> s = CONFIG.baseShapes();
    int lv = CONFIG.visionLayers;
    int l = CONFIG.layers;
    assertEquals(5 + 16 * lv + 4 + 1 + 9 * l + 2, s.size());
    List<String> names = new ArrayList<>(s.keySet());
    assertEquals("vision_tower.vision_model.embeddings.patch_embedding.weight", names.get(0));
    assertEquals("vision_tower.vision_model.encoder.layers.0.layer_norm1.weight", names.get(5));
    assertEquals("vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.bias", names.get(8));
    assertEquals("multi_modal_projector.linear_1.weight", names.get(5 + 16 * lv));
    assertEquals("language_model.model.embed_tokens.weight", names.get(5 + 16 * lv + 4));
    assertEquals("language_model.lm_head.weight", names.get(names.size() - 1));
    assertArrayEquals(new long[] {CONFIG.patches() + 1, CONFIG.visionHidden},
        s.get("vision_tower.vision_model.embeddings.position_embedding.weight"));
    assertArrayEquals(new long[] {CONFIG.intermediate, CONFIG.hidden}, s.get("language_model.model.layers.1.mlp.up_proj.weight"));
    List<String> lora = new ArrayList<>(CONFIG.adapterShapes(2, TorchLlavaConfig.LORA_Q | TorchLlavaConfig.LORA_DOWN
        | TorchLlavaConfig.LORA_PROJECTOR).keySet());
    assertEquals(List.of(
        "base_model.model.language_model.model.layers.0.self_attn.q_proj.lora_A.weight",
        "base_model.model.language_model.model.layers.0.self_attn.q_proj.lora_B.weight",
        "base_model.model.language_model.model.layers.0.mlp.down_proj.lora_A.weight",
        "base_model.model.language_model.model.layers.0.mlp.down_proj.lora_B.weight",
        "base_model.model.language_model.model.layers.1.self_attn.q_proj.lora_A.weight",
        "base_model.model.language_model.model.layers.1.self_attn.q_proj.lora_B.weight",
        "base_model.model.language_model.model.layers.1.mlp.down_proj.lora_A.weight",
        "base_model.model.language_model.model.layers.1.mlp.down_proj.lora_B.weight",
        "base_model.model.multi_modal_projector.linear_1.lora_A.weight",
        "base_model.model.multi_modal_projector.linear_1.lora_B.weight",
        "base_model.model.multi_modal_projector.linear_2.lora_A.weight",
        "base_model.model.multi_modal_projector.linear_2.lora_B.weight"), lora);
    assertArrayEquals(new long[] {CONFIG.hidden, 2},
        CONFIG.adapterShapes(2, TorchLlavaConfig.LORA_DOWN).get(TorchLlavaConfig.loraB("language_model.model.layers.0.mlp.down_proj")));
    assertArrayEquals(new long[] {2, CONFIG.intermediate},
        CONFIG.adapterShapes(2, TorchLlavaConfig.LORA_DOWN).get(TorchLlavaConfig.loraA("language_model.model.layers.0.mlp.down_proj")));
  }

  @Test
  void exportedSafeTensorsHoldTheWeights(@TempDir Path dir) {
    Map<String, float[]> base = TorchLlavaReference.randomBase(CONFIG, 121);
    Adapter ad = TorchLlavaReference.randomAdapter(CONFIG, 2, 4f, ALL, 122);
    Path baseFile = dir.resolve("model.safetensors");
    Path adapterFile = dir.resolve("adapter_model.safetensors");
    TorchLlavaReference.writeSafeTensors(baseFile, base, CONFIG.baseShapes());
    TorchLlavaReference.writeSafeTensors(adapterFile, ad.weights(), CONFIG.adapterShapes(2, ALL));
    for (Object[] f : new Object[][] {{baseFile, base, CONFIG.baseShapes()}, {adapterFile, ad.weights(),
        CONFIG.adapterShapes(2, ALL)}}) {
      @SuppressWarnings("unchecked") Map<String, float[]> values = (Map<String, float[]>) f[1];
      @SuppressWarnings("unchecked") Map<String, long[]> shapes = (Map<String, long[]>) f[2];
      SafeTensors st = SafeTensors.read((Path) f[0]);
      assertEquals(new ArrayList<>(values.keySet()), st.names());
      for (String name : values.keySet()) {
        assertArrayEquals(shapes.get(name), st.entry(name).shape(), name);
        assertArrayEquals(values.get(name), st.readFloats(name), name);
      }
    }
  }

  @Test
  void exportedPeftAdapterReadsBack(@TempDir Path dir) {
    int targets = TorchLlavaConfig.LORA_Q | TorchLlavaConfig.LORA_V | TorchLlavaConfig.LORA_DOWN
        | TorchLlavaConfig.LORA_PROJECTOR;
    Adapter ad = TorchLlavaReference.randomAdapter(CONFIG, 3, 5f, targets, 131);
    TorchLlavaReference.writePeftAdapter(dir, CONFIG, ad);
    PeftAdapter peft = PeftAdapter.read(dir);
    assertEquals(3, peft.config().r());
    assertEquals(5.0, peft.config().loraAlpha());
    assertEquals(List.of("q_proj", "v_proj", "down_proj", "linear_1", "linear_2"), peft.config().targetModules());
    List<String> names = new ArrayList<>();
    for (String module : peft.modules()) {
      names.add(TorchLlavaConfig.loraA(module));
      names.add(TorchLlavaConfig.loraB(module));
    }
    assertEquals(new ArrayList<>(ad.weights().keySet()), names);
    for (String name : names) {
      assertArrayEquals(ad.weights().get(name), peft.weights().readFloats(name), name);
    }
  }

  // ---- helpers --------------------------------------------------------------------------------

  private static float[] concat(float[] a, float[] b) {
    float[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static float[] toFloat(double[] x) {
    float[] out = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = (float) x[i];
    }
    return out;
  }

  /**
   * The LLaVA forward of model.h as plain loops in double, sharing nothing with the reference but
   * the config and the weight maps: {logits [B·S·V], hidden [B·S·d]}.
   */
  static final class PlainLlava {
    private PlainLlava() {}

    static double[][] forward(TorchLlavaConfig c, Map<String, float[]> w, Adapter a, int[][] ids, float[] images) {
      int b = ids.length, s = ids[0].length, d = c.hidden, p = c.patches();
      int nImages = images == null ? 0 : images.length / (c.imageChannels * c.imageSize * c.imageSize);
      double[] features = nImages == 0 ? null : vision(c, w, a, images, nImages);  // [nImages·P, d]
      double[] x = new double[b * s * d];
      int k = 0;
      float[] embed = w.get("language_model.model.embed_tokens.weight");
      for (int r = 0; r < b; r++) {
        for (int t = 0; t < s; t++) {
          int row = r * s + t;
          for (int j = 0; j < d; j++) {
            x[row * d + j] = ids[r][t] == c.imageTokenId ? features[k * d + j] : embed[ids[r][t] * d + j];
          }
          k += ids[r][t] == c.imageTokenId ? 1 : 0;
        }
      }
      assert k == nImages * p;
      int n = b * s, f = c.intermediate, dh = d / c.heads;
      for (int i = 0; i < c.layers; i++) {
        String l = "language_model.model.layers." + i + ".";
        double[] h = rms(x, n, d, w.get(l + "input_layernorm.weight"), c.rmsNormEps);
        double[] q = proj(h, n, d, d, w, a, l + "self_attn.q_proj", false, TorchLlavaConfig.LORA_Q);
        double[] kk = proj(h, n, d, d, w, a, l + "self_attn.k_proj", false, TorchLlavaConfig.LORA_K);
        double[] v = proj(h, n, d, d, w, a, l + "self_attn.v_proj", false, TorchLlavaConfig.LORA_V);
        rope(q, b, s, c.heads, dh, c.ropeTheta);
        rope(kk, b, s, c.heads, dh, c.ropeTheta);
        add(x, proj(attention(q, kk, v, b, s, c.heads, dh, true), n, d, d, w, a, l + "self_attn.o_proj", false,
            TorchLlavaConfig.LORA_O));
        h = rms(x, n, d, w.get(l + "post_attention_layernorm.weight"), c.rmsNormEps);
        double[] gate = proj(h, n, d, f, w, a, l + "mlp.gate_proj", false, TorchLlavaConfig.LORA_GATE);
        double[] up = proj(h, n, d, f, w, a, l + "mlp.up_proj", false, TorchLlavaConfig.LORA_UP);
        for (int j = 0; j < gate.length; j++) {
          gate[j] = gate[j] / (1 + Math.exp(-gate[j])) * up[j];
        }
        add(x, proj(gate, n, f, d, w, a, l + "mlp.down_proj", false, TorchLlavaConfig.LORA_DOWN));
      }
      double[] hidden = rms(x, n, d, w.get("language_model.model.norm.weight"), c.rmsNormEps);
      double[] logits = linear(hidden, n, d, w.get("language_model.lm_head.weight"), null, c.vocabSize);
      return new double[][] {logits, hidden};
    }

    private static double[] vision(TorchLlavaConfig c, Map<String, float[]> w, Adapter a, float[] img, int nImages) {
      String vm = "vision_tower.vision_model.";
      int dv = c.visionHidden, p = c.patchSize, g = c.imageSize / p, np = c.patches(), tk = np + 1, ch = c.imageChannels;
      int hw = c.imageSize;
      float[] patchW = w.get(vm + "embeddings.patch_embedding.weight");
      float[] cls = w.get(vm + "embeddings.class_embedding");
      float[] pos = w.get(vm + "embeddings.position_embedding.weight");
      double[] x = new double[nImages * tk * dv];
      for (int im = 0; im < nImages; im++) {
        for (int t = 0; t < tk; t++) {
          for (int o = 0; o < dv; o++) {
            double acc;
            if (t == 0) {
              acc = cls[o];
            } else {
              int gy = (t - 1) / g, gx = (t - 1) % g;
              acc = 0;
              for (int cc = 0; cc < ch; cc++) {
                for (int py = 0; py < p; py++) {
                  for (int px = 0; px < p; px++) {
                    acc += (double) patchW[((o * ch + cc) * p + py) * p + px]
                        * img[((im * ch + cc) * hw + gy * p + py) * hw + gx * p + px];
                  }
                }
              }
            }
            x[(im * tk + t) * dv + o] = acc + pos[t * dv + o];
          }
        }
      }
      int n = nImages * tk;
      x = layerNorm(x, n, dv, w, vm + "pre_layrnorm", c.visionLayerNormEps);
      int fv = c.visionIntermediate, heads = c.visionHeads;
      for (int i = 0; i < c.visionBlocksRun(); i++) {
        String l = vm + "encoder.layers." + i + ".";
        double[] h = layerNorm(x, n, dv, w, l + "layer_norm1", c.visionLayerNormEps);
        double[] q = proj(h, n, dv, dv, w, null, l + "self_attn.q_proj", true, 0);
        double[] k = proj(h, n, dv, dv, w, null, l + "self_attn.k_proj", true, 0);
        double[] v = proj(h, n, dv, dv, w, null, l + "self_attn.v_proj", true, 0);
        add(x, proj(attention(q, k, v, nImages, tk, heads, dv / heads, false), n, dv, dv, w, null,
            l + "self_attn.out_proj", true, 0));
        h = layerNorm(x, n, dv, w, l + "layer_norm2", c.visionLayerNormEps);
        double[] mid = proj(h, n, dv, fv, w, null, l + "mlp.fc1", true, 0);
        for (int j = 0; j < mid.length; j++) {
          mid[j] = gelu(mid[j]);
        }
        add(x, proj(mid, n, fv, dv, w, null, l + "mlp.fc2", true, 0));
      }
      double[] feats = new double[nImages * np * dv];
      for (int im = 0; im < nImages; im++) {
        System.arraycopy(x, (im * tk + 1) * dv, feats, im * np * dv, np * dv);
      }
      int d = c.hidden;
      double[] y = proj(feats, nImages * np, dv, d, w, a, "multi_modal_projector.linear_1", true,
          TorchLlavaConfig.LORA_PROJECTOR);
      if (c.projector == Projector.MLP2X_GELU) {
        for (int j = 0; j < y.length; j++) {
          y[j] = gelu(y[j]);
        }
        y = proj(y, nImages * np, d, d, w, a, "multi_modal_projector.linear_2", true, TorchLlavaConfig.LORA_PROJECTOR);
      }
      return y;
    }

    /** y[i][o] = b[o] + Σ_k x[i][k] W[o][k]. */
    private static double[] linear(double[] x, int n, int in, float[] wt, float[] bias, int out) {
      double[] y = new double[n * out];
      for (int i = 0; i < n; i++) {
        for (int o = 0; o < out; o++) {
          double acc = bias == null ? 0 : bias[o];
          for (int k = 0; k < in; k++) {
            acc += x[i * in + k] * wt[o * in + k];
          }
          y[i * out + o] = acc;
        }
      }
      return y;
    }

    /** linear + (alpha/r)·(x Aᵀ) Bᵀ when the adapter targets {@code bit}. */
    private static double[] proj(double[] x, int n, int in, int out, Map<String, float[]> w, Adapter a, String module,
        boolean bias, int bit) {
      double[] y = linear(x, n, in, w.get(module + ".weight"), bias ? w.get(module + ".bias") : null, out);
      if (a != null && (a.targets() & bit) != 0) {
        double[] low = linear(x, n, in, a.weights().get(TorchLlavaConfig.loraA(module)), null, a.rank());
        double[] up = linear(low, n, a.rank(), a.weights().get(TorchLlavaConfig.loraB(module)), null, out);
        for (int j = 0; j < y.length; j++) {
          y[j] += a.scale() * up[j];
        }
      }
      return y;
    }

    private static double[] layerNorm(double[] x, int n, int dim, Map<String, float[]> w, String module, float eps) {
      float[] g = w.get(module + ".weight");
      float[] bb = w.get(module + ".bias");
      double[] y = new double[x.length];
      for (int i = 0; i < n; i++) {
        double mean = 0;
        for (int j = 0; j < dim; j++) {
          mean += x[i * dim + j];
        }
        mean /= dim;
        double var = 0;
        for (int j = 0; j < dim; j++) {
          var += (x[i * dim + j] - mean) * (x[i * dim + j] - mean);
        }
        var /= dim;
        double rstd = 1 / Math.sqrt(var + eps);
        for (int j = 0; j < dim; j++) {
          y[i * dim + j] = (x[i * dim + j] - mean) * rstd * g[j] + bb[j];
        }
      }
      return y;
    }

    private static double[] rms(double[] x, int n, int dim, float[] g, float eps) {
      double[] y = new double[x.length];
      for (int i = 0; i < n; i++) {
        double ms = 0;
        for (int j = 0; j < dim; j++) {
          ms += x[i * dim + j] * x[i * dim + j];
        }
        double r = 1 / Math.sqrt(ms / dim + eps);
        for (int j = 0; j < dim; j++) {
          y[i * dim + j] = x[i * dim + j] * r * g[j];
        }
      }
      return y;
    }

    /** In place, x [N, T, H·dh]: pairs (j, j + dh/2) rotated by t · theta^(−2j/dh). */
    private static void rope(double[] x, int nb, int t, int heads, int dh, float theta) {
      int half = dh / 2;
      for (int bb = 0; bb < nb; bb++) {
        for (int pos = 0; pos < t; pos++) {
          for (int h = 0; h < heads; h++) {
            int o = ((bb * t + pos) * heads + h) * dh;
            for (int j = 0; j < half; j++) {
              double angle = pos * Math.pow(theta, -2.0 * j / dh);
              double x1 = x[o + j], x2 = x[o + j + half];
              x[o + j] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
              x[o + j + half] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
            }
          }
        }
      }
    }

    /** Per sequence and head: softmax(q kᵀ/√dh, causal or not) v; layout [N, T, H·dh]. */
    private static double[] attention(double[] q, double[] k, double[] v, int nb, int t, int heads, int dh,
        boolean causal) {
      int dim = heads * dh;
      double[] out = new double[q.length];
      double[] p = new double[t];
      for (int bb = 0; bb < nb; bb++) {
        for (int h = 0; h < heads; h++) {
          for (int i = 0; i < t; i++) {
            int last = causal ? i : t - 1;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j <= last; j++) {
              double sc = 0;
              for (int e = 0; e < dh; e++) {
                sc += q[(bb * t + i) * dim + h * dh + e] * k[(bb * t + j) * dim + h * dh + e];
              }
              p[j] = sc / Math.sqrt(dh);
              max = Math.max(max, p[j]);
            }
            double sum = 0;
            for (int j = 0; j <= last; j++) {
              p[j] = Math.exp(p[j] - max);
              sum += p[j];
            }
            for (int e = 0; e < dh; e++) {
              double acc = 0;
              for (int j = 0; j <= last; j++) {
                acc += p[j] / sum * v[(bb * t + j) * dim + h * dh + e];
              }
              out[(bb * t + i) * dim + h * dh + e] = acc;
            }
          }
        }
      }
      return out;
    }

    private static void add(double[] x, double[] y) {
      for (int i = 0; i < x.length; i++) {
        x[i] += y[i];
      }
    }

    /** GELU exact: x/2 · (1 + erf(x/√2)). */
    static double gelu(double x) {
      return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    /**
     * erf to ~1e-14: the Maclaurin series for |z| ≤ 3, beyond that 1 − erfc from its continued
     * fraction e^{−z²}/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))).
     */
    static double erf(double z) {
      double az = Math.abs(z);
      double r;
      if (az <= 3) {
        double term = az;
        double sum = az;
        for (int n = 1; n < 100; n++) {
          term *= -az * az / n;
          sum += term / (2 * n + 1);
        }
        r = 2 / Math.sqrt(Math.PI) * sum;
      } else {
        double t = 0;
        for (int k = 80; k >= 1; k--) {
          t = (k / 2.0) / (az + t);
        }
        r = 1 - Math.exp(-az * az) / Math.sqrt(Math.PI) / (az + t);
      }
      return z < 0 ? -r : r;
    }
  }

  @Test
  void plainErfIsRight() {
    // erf(0.5) = 0.5204998778130465, erf(1) = 0.8427007929497149, erf(2) = 0.9953222650189527,
    // erf(3.5) = 0.9999992569016276 (tabulated values).
    assertEquals(0.5204998778130465, PlainLlava.erf(0.5), 1e-14);
    assertEquals(0.8427007929497149, PlainLlava.erf(1), 1e-14);
    assertEquals(-0.9953222650189527, PlainLlava.erf(-2), 1e-14);
    assertEquals(0.9999992569016276, PlainLlava.erf(3.5), 1e-14);
  }
}

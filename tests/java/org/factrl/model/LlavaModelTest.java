package org.factrl.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.model.io.IfExists;
import org.factrl.model.io.LoraAdapterConfig;
import org.factrl.model.io.PeftAdapter;
import org.factrl.model.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java side of the native LLaVA model: the blob layouts equal what ModelConfig computes from
 * model.h (names, shapes, counts), forward outputs have the documented shapes and are finite with
 * logp = log_softmax(logits)[target] (checked here in double), a saved and reloaded base or adapter
 * gives bitwise the same logits, bad files fail naming the tensor and both shapes, the memory plan
 * matches the device's bytes, and a closed model or removed adapter fails clearly.
 */
class LlavaModelTest {
  @TempDir Path dir;

  /** A few-thousand-parameter model with both projector kinds' paths reachable: P = 4 patches. */
  static ModelConfig micro(Projector projector) {
    return ModelConfig.builder()
        .imageSize(16).imageChannels(3).patchSize(8)
        .visionHidden(16).visionLayers(2).visionHeads(2).visionIntermediate(24).visionFeatureLayer(-2)
        .projector(projector)
        .vocabSize(37).hidden(16).layers(2).heads(2).intermediate(40).maxPositions(32)
        .imageTokenId(4)
        .build();
  }

  private static long elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  private static void assertBlobLayout(Map<String, long[]> expected, ParameterBlob blob) {
    assertEquals(List.copyOf(expected.keySet()), blob.names());
    long total = 0;
    for (Map.Entry<String, long[]> e : expected.entrySet()) {
      Tensor t = blob.tensor(e.getKey());
      assertArrayEquals(e.getValue(), t.shape(), e.getKey());
      assertEquals(DType.F32, t.dtype(), e.getKey());
      total += elements(t.shape());
    }
    long counted = 0;
    for (long[] s : expected.values()) {
      counted += elements(s);
    }
    assertEquals(counted, total);
  }

  @Test
  void presetBlobsHoldExactlyTheComputedParameters() {
    try (Device cpu = Device.cpu()) {
      for (ModelConfig c : List.of(ModelConfig.tiny(), ModelConfig.small(), micro(Projector.MLP2X_GELU))) {
        try (LlavaModel m = LlavaModel.create(cpu, c)) {
          assertBlobLayout(c.parameterShapes(), m.params());
          long total = 0;
          for (String n : m.params().names()) {
            total += m.params().tensor(n).numel();
          }
          assertEquals(c.parameterCount(), total, c.toString());
          assertEquals(c, m.nativeConfig());
          assertEquals(c, m.config());
        }
      }
    }
  }

  @Test
  void adapterBlobsFollowPeftNamesAndTheSpec() {
    try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, micro(Projector.MLP2X_GELU))) {
      LoraSpec spec = new LoraSpec(3, 6f, EnumSet.of(LoraTarget.PROJECTOR, LoraTarget.Q, LoraTarget.DOWN));
      ParameterBlob a = m.addAdapter("policy", spec, 7);
      Map<String, long[]> expected = new java.util.LinkedHashMap<>();
      for (Map.Entry<String, long[]> e : m.config().adapterModules(spec.targets()).entrySet()) {
        expected.put(PeftAdapter.aName(e.getKey()), new long[] {3, e.getValue()[0]});
        expected.put(PeftAdapter.bName(e.getKey()), new long[] {e.getValue()[1], 3});
      }
      assertBlobLayout(expected, a);
      assertEquals(spec, m.adapterSpec("policy"));
      assertEquals(Set.of("policy"), m.adapterNames());
      // A ~ U(-1/sqrt(in), 1/sqrt(in)) and not all zero; B = 0
      float[] qa = a.tensor(PeftAdapter.aName("language_model.model.layers.0.self_attn.q_proj")).toFloatArray();
      float bound = (float) (1 / Math.sqrt(16));
      assertTrue(Arrays.stream(box(qa)).allMatch(x -> Math.abs(x) <= bound), Arrays.toString(qa));
      assertTrue(Arrays.stream(box(qa)).anyMatch(x -> x != 0f));
      assertArrayEquals(new float[16 * 3],
          a.tensor(PeftAdapter.bName("language_model.model.layers.0.self_attn.q_proj")).toFloatArray());
      FactRlException dup = assertThrows(FactRlException.class, () -> m.addAdapter("policy", spec, 1));
      assertTrue(dup.getMessage().contains("'policy' already exists"), dup.getMessage());
      FactRlException unknown = assertThrows(FactRlException.class, () -> m.adapter("value"));
      assertTrue(unknown.getMessage().contains("no adapter set 'value'"), unknown.getMessage());
    }
  }

  private static Float[] box(float[] a) {
    Float[] b = new Float[a.length];
    for (int i = 0; i < a.length; i++) {
      b[i] = a[i];
    }
    return b;
  }

  /** Row 0: BOS, P image tokens, text; row 1: text only. Values in [5, V). */
  private static int[] ids(ModelConfig c, int seq, long seed) {
    Random r = new Random(seed);
    int p = c.patchesPerImage();
    int[] ids = new int[2 * seq];
    ids[0] = 1;
    for (int s = 1; s < seq; s++) {
      ids[s] = s <= p ? c.imageTokenId() : 5 + r.nextInt(c.vocabSize() - 5);
    }
    for (int s = 0; s < seq; s++) {
      ids[seq + s] = 5 + r.nextInt(c.vocabSize() - 5);
    }
    return ids;
  }

  private static float[] image(ModelConfig c, long seed) {
    Random r = new Random(seed);
    float[] x = new float[c.imageChannels() * c.imageSize() * c.imageSize()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return x;
  }

  /** The logits of a fixed batch (one image row, one text row) under {@code adapter}. */
  private static float[] logits(LlavaModel m, String adapter, int seq) {
    ModelConfig c = m.config();
    Device dev = m.device();
    try (Tensor ids = dev.fromInts(ids(c, seq, 11), 2, seq);
        Tensor img = dev.fromFloats(image(c, 12), 1, c.imageChannels(), c.imageSize(), c.imageSize());
        Tensor out = dev.zeros(DType.F32, 2, seq, c.vocabSize())) {
      m.forward(adapter, new LlavaModel.Inputs(ids, img, null), LlavaModel.Outputs.logits(out), false);
      return out.toFloatArray();
    }
  }

  private static int[] bits(float[] x) {
    int[] b = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      b[i] = Float.floatToRawIntBits(x[i]);
    }
    return b;
  }

  @Test
  void tinyForwardGivesFiniteOutputsOfTheDocumentedShapes() {
    ModelConfig c = ModelConfig.tiny();
    int seq = c.patchesPerImage() + 12;
    try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, c)) {
      m.initWeights(3, 0.02f);
      m.plan(2, seq, 1, false);
      int[] idArray = ids(c, seq, 5);
      int[] targetArray = new int[idArray.length];
      for (int i = 0; i < idArray.length; i++) {
        targetArray[i] = (idArray[(i + 1) % idArray.length] + 7) % c.vocabSize();
      }
      try (Tensor ids = cpu.fromInts(idArray, 2, seq);
          Tensor targets = cpu.fromInts(targetArray, 2, seq);
          Tensor img = cpu.fromFloats(image(c, 6), 1, 3, 64, 64);
          Tensor logits = cpu.zeros(DType.F32, 2, seq, c.vocabSize());
          Tensor hidden = cpu.zeros(DType.F32, 2, seq, c.hidden());
          Tensor logp = cpu.zeros(DType.F32, 2, seq)) {
        m.forward(null, new LlavaModel.Inputs(ids, img, targets), new LlavaModel.Outputs(logits, hidden, logp), false);
        float[] z = logits.toFloatArray();
        float[] h = hidden.toFloatArray();
        float[] lp = logp.toFloatArray();
        for (float[] a : List.of(z, h, lp)) {
          for (float x : a) {
            assertTrue(Float.isFinite(x), "non-finite output");
          }
        }
        // logp is log_softmax(logits)[target], recomputed here in double
        int v = c.vocabSize();
        for (int row = 0; row < 2 * seq; row++) {
          double max = Double.NEGATIVE_INFINITY;
          for (int k = 0; k < v; k++) {
            max = Math.max(max, z[row * v + k]);
          }
          double sum = 0;
          for (int k = 0; k < v; k++) {
            sum += Math.exp(z[row * v + k] - max);
          }
          double expected = z[row * v + targetArray[row]] - max - Math.log(sum);
          assertEquals(expected, lp[row], 1e-4, "row " + row);
        }
        // the hidden states are RMS-normalised (norm weight 1): mean square about 1 per position
        int d = c.hidden();
        for (int row = 0; row < 2 * seq; row++) {
          double ms = 0;
          for (int k = 0; k < d; k++) {
            ms += (double) h[row * d + k] * h[row * d + k];
          }
          assertEquals(1.0, ms / d, 1e-2, "row " + row);
        }
        // the same call again is bitwise the same
        m.forward(null, new LlavaModel.Inputs(ids, img, targets), LlavaModel.Outputs.logits(logits), false);
        assertArrayEquals(bits(z), bits(logits.toFloatArray()));
      }
    }
  }

  @Test
  void savedAndReloadedBaseGivesBitIdenticalLogits() {
    for (Projector p : Projector.values()) {
      ModelConfig c = micro(p);
      Path ckpt = dir.resolve("base-" + p.jsonName());
      float[] before;
      try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, c)) {
        m.initWeights(21, 0.3f);
        m.plan(2, 12, 1, false);
        before = logits(m, null, 12);
        m.saveBase(ckpt, IfExists.FAIL);
        FactRlException again = assertThrows(FactRlException.class, () -> m.saveBase(ckpt, IfExists.FAIL));
        assertTrue(again.getMessage().contains("already exists"), again.getMessage());
      }
      assertTrue(Files.isRegularFile(ckpt.resolve("model.safetensors")));
      assertEquals(c, ModelConfig.read(ckpt.resolve("config.json")));
      try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.load(cpu, ckpt)) {
        m.plan(2, 12, 1, false);
        float[] after = logits(m, null, 12);
        assertArrayEquals(bits(before), bits(after), p.toString());
        // and a differently initialised model does not (the comparison can fail)
        m.initWeights(22, 0.3f);
        assertFalse(Arrays.equals(bits(before), bits(logits(m, null, 12))));
      }
    }
  }

  @Test
  void savedAndReloadedAdapterGivesBitIdenticalLogits() {
    ModelConfig c = micro(Projector.MLP2X_GELU);
    Path base = dir.resolve("base");
    Path adapterDir = dir.resolve("adapter");
    LoraSpec spec = new LoraSpec(2, 5f, EnumSet.of(LoraTarget.Q, LoraTarget.V, LoraTarget.UP, LoraTarget.PROJECTOR));
    float[] baseLogits;
    float[] adapted;
    try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, c)) {
      m.initWeights(31, 0.3f);
      m.plan(2, 12, 1, false);
      ParameterBlob a = m.addAdapter("policy", spec, 9);
      Random r = new Random(4);
      for (String n : a.names()) { // B starts at 0; give it values so the adapter changes the outputs
        Tensor t = a.tensor(n);
        float[] x = new float[(int) t.numel()];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) r.nextGaussian() * 0.5f;
        }
        t.write(x);
      }
      baseLogits = logits(m, null, 12);
      adapted = logits(m, "policy", 12);
      assertFalse(Arrays.equals(bits(baseLogits), bits(adapted)), "the adapter changes nothing");
      m.saveBase(base, IfExists.FAIL);
      m.saveAdapter("policy", adapterDir, IfExists.FAIL);
    }
    LoraAdapterConfig peft = LoraAdapterConfig.read(adapterDir.resolve("adapter_config.json"));
    assertEquals(2, peft.r());
    assertEquals(5.0, peft.loraAlpha());
    assertEquals(List.of("q_proj", "v_proj", "up_proj", "multi_modal_projector.linear_1",
        "multi_modal_projector.linear_2"), peft.targetModules());
    try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.load(cpu, base)) {
      m.plan(2, 12, 1, false);
      m.loadAdapter("reloaded", adapterDir);
      assertEquals(spec, m.adapterSpec("reloaded"));
      assertArrayEquals(bits(adapted), bits(logits(m, "reloaded", 12)));
      assertArrayEquals(bits(baseLogits), bits(logits(m, null, 12)));
    }
  }

  @Test
  void aBaseFileWithAWrongShapeFailsNamingTheTensorAndBothShapes() {
    ModelConfig c = micro(Projector.LINEAR);
    Path ckpt = dir.resolve("bad");
    String victim = "language_model.model.layers.1.mlp.up_proj.weight";
    try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, c)) {
      m.initWeights(1, 0.1f);
      m.saveBase(ckpt, IfExists.FAIL);
      // the same names with one shape changed, written over the weights
      ParameterBlob.Builder b = ParameterBlob.builder();
      for (Map.Entry<String, long[]> e : c.parameterShapes().entrySet()) {
        b.add(e.getKey(), DType.F32, e.getKey().equals(victim) ? new long[] {41, 16} : e.getValue());
      }
      try (ParameterBlob wrong = b.build(cpu)) {
        SafeTensors.write(ckpt.resolve("model.safetensors"), wrong, Map.of(), IfExists.REPLACE);
      }
      float[] embedBefore = m.params().tensor("language_model.model.embed_tokens.weight").toFloatArray();
      FactRlException e = assertThrows(FactRlException.class, () -> m.loadBase(ckpt));
      assertTrue(e.getMessage().contains("'" + victim + "'") && e.getMessage().contains("[41, 16]")
          && e.getMessage().contains("[40, 16]"), e.getMessage());
      // nothing was loaded
      assertArrayEquals(embedBefore, m.params().tensor("language_model.model.embed_tokens.weight").toFloatArray());
      FactRlException load = assertThrows(FactRlException.class, () -> LlavaModel.load(cpu, ckpt));
      assertTrue(load.getMessage().contains("'" + victim + "'"), load.getMessage());
      // a config.json of another shape is named field by field
      ModelConfig other = c.toBuilder().intermediate(48).build();
      other.write(ckpt.resolve("config.json"), IfExists.REPLACE);
      FactRlException cfg = assertThrows(FactRlException.class, () -> m.loadBase(ckpt));
      assertTrue(cfg.getMessage().contains("intermediate 40 vs 48"), cfg.getMessage());
    }
  }

  @Test
  void anAdapterFileWithAWrongShapeFailsNamingTheTensorAndBothShapes() {
    ModelConfig c = micro(Projector.LINEAR);
    Path adapterDir = dir.resolve("bad-adapter");
    try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, c);
        Tensor a0 = cpu.zeros(DType.F32, 4, 16); Tensor b0 = cpu.zeros(DType.F32, 16, 4);
        Tensor a1 = cpu.zeros(DType.F32, 4, 17); Tensor b1 = cpu.zeros(DType.F32, 16, 4)) {
      String l0 = "language_model.model.layers.0.self_attn.q_proj";
      String l1 = "language_model.model.layers.1.self_attn.q_proj";
      PeftAdapter.write(adapterDir, LoraAdapterConfig.of(4, 8, List.of("q_proj")),
          Map.of(l0, new PeftAdapter.Pair(a0, b0), l1, new PeftAdapter.Pair(a1, b1)), IfExists.FAIL);
      FactRlException e = assertThrows(FactRlException.class, () -> m.loadAdapter("x", adapterDir));
      assertTrue(e.getMessage().contains("'" + PeftAdapter.aName(l1) + "'") && e.getMessage().contains("[4, 17]")
          && e.getMessage().contains("[4, 16]"), e.getMessage());
      assertEquals(Set.of(), m.adapterNames(), "a failed load adds nothing");
      // a module the model does not have
      Path extra = dir.resolve("extra");
      PeftAdapter.write(extra, LoraAdapterConfig.of(4, 8, List.of("q_proj")),
          Map.of(l0, new PeftAdapter.Pair(a0, b0), "language_model.model.layers.5.self_attn.q_proj",
              new PeftAdapter.Pair(a0, b0)), IfExists.FAIL);
      FactRlException x = assertThrows(FactRlException.class, () -> m.loadAdapter("x", extra));
      assertTrue(x.getMessage().contains("layers.5.self_attn.q_proj") && x.getMessage().contains("layers.1"),
          x.getMessage());
      // a target this model cannot adapt
      Path foreign = dir.resolve("foreign");
      PeftAdapter.write(foreign, LoraAdapterConfig.of(4, 8, List.of("fc1")),
          Map.of("vision_tower.vision_model.encoder.layers.0.mlp.fc1", new PeftAdapter.Pair(a0, b0)), IfExists.FAIL);
      FactRlException f = assertThrows(FactRlException.class, () -> m.loadAdapter("x", foreign));
      assertTrue(f.getMessage().contains("target_modules") && f.getMessage().contains("'fc1'"), f.getMessage());
    }
  }

  @Test
  void memoryPlanIsWhatTheDeviceHolds() {
    try (Device cpu = Device.cpu()) {
      long before = cpu.bytesInUse();
      try (LlavaModel m = LlavaModel.create(cpu, ModelConfig.tiny())) {
        MemoryPlan p0 = m.memoryPlan();
        assertEquals(m.params().bytes(), p0.base());
        assertEquals(0, p0.arena());
        assertEquals(0, p0.adapters());
        assertEquals(before + p0.total(), cpu.bytesInUse());
        ParameterBlob a = m.addAdapter("policy", LoraSpec.allDecoder(8, 16f), 1);
        m.plan(2, 96, 2, true);
        MemoryPlan p = m.memoryPlan();
        assertEquals(a.bytes(), p.adapters());
        assertTrue(p.arena() > 0);
        assertEquals(p.base() + p.adapters() + p.arena() + p.workspace(), p.total());
        assertEquals(before + p.total(), cpu.bytesInUse());
        m.plan(1, 16, 0, false); // a smaller plan replaces the arena
        MemoryPlan small = m.memoryPlan();
        assertTrue(small.arena() < p.arena(), small + " vs " + p);
        assertEquals(before + small.total(), cpu.bytesInUse());
        m.removeAdapter("policy");
        assertEquals(0, m.memoryPlan().adapters());
        assertEquals(before + m.memoryPlan().total(), cpu.bytesInUse());
      }
      assertEquals(before, cpu.bytesInUse());
    }
  }

  @Test
  void backwardWritesGradientsOfTheChosenParts() {
    ModelConfig c = micro(Projector.LINEAR);
    int seq = 12;
    try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, c)) {
      m.initWeights(5, 0.3f);
      m.addAdapter("policy", LoraSpec.allDecoder(2, 4f), 3);
      m.plan(2, seq, 1, true);
      int[] idArray = ids(c, seq, 8);
      try (Tensor ids = cpu.fromInts(idArray, 2, seq); Tensor targets = cpu.fromInts(idArray, 2, seq);
          Tensor img = cpu.fromFloats(image(c, 9), 1, 3, 16, 16);
          Tensor logp = cpu.zeros(DType.F32, 2, seq);
          Tensor dLogp = cpu.fromFloats(filled(2 * seq, -1f / (2 * seq)), 2, seq);
          ParameterBlob baseGrads = m.params().likeThis();
          ParameterBlob adapterGrads = m.adapter("policy").likeThis()) {
        m.forward("policy", new LlavaModel.Inputs(ids, img, targets), new LlavaModel.Outputs(null, null, logp), true);
        m.backward(dLogp, null, baseGrads, EnumSet.of(ParamGroup.PROJECTOR), adapterGrads, GradMode.OVERWRITE);
        // projector gradients written, decoder and vision left at zero
        assertTrue(nonZero(baseGrads.tensor("multi_modal_projector.linear_1.weight")));
        assertFalse(nonZero(baseGrads.tensor("language_model.lm_head.weight")));
        assertFalse(nonZero(baseGrads.tensor("vision_tower.vision_model.embeddings.class_embedding")));
        // B = 0 at the start: dB carries the signal (dA is exactly 0)
        String q = "language_model.model.layers.1.self_attn.q_proj";
        assertTrue(nonZero(adapterGrads.tensor(PeftAdapter.bName(q))));
        assertFalse(nonZero(adapterGrads.tensor(PeftAdapter.aName(q))));
        float[] once = adapterGrads.tensor(PeftAdapter.bName(q)).toFloatArray();
        m.backward(dLogp, null, null, EnumSet.noneOf(ParamGroup.class), adapterGrads, GradMode.ACCUMULATE);
        float[] twice = adapterGrads.tensor(PeftAdapter.bName(q)).toFloatArray();
        for (int i = 0; i < once.length; i++) {
          assertEquals(2 * once[i], twice[i], 1e-6f * Math.max(1f, Math.abs(once[i])));
        }
        FactRlException e = assertThrows(FactRlException.class, () -> m.backward(dLogp, null, null,
            EnumSet.of(ParamGroup.VISION), null, GradMode.OVERWRITE));
        assertTrue(e.getMessage().contains("'baseGroups'"), e.getMessage());
      }
    }
  }

  /** Σ c·logp of the fixed batch, in double (the loss whose gradient backward computes with dLogp = c). */
  private static double loss(LlavaModel m, String adapter, Tensor ids, Tensor img, Tensor targets, Tensor logp,
      float[] c) {
    m.forward(adapter, new LlavaModel.Inputs(ids, img, targets), new LlavaModel.Outputs(null, null, logp), false);
    float[] lp = logp.toFloatArray();
    double sum = 0;
    for (int i = 0; i < lp.length; i++) {
      sum += (double) c[i] * lp[i];
    }
    return sum;
  }

  /**
   * Backward through the Java API against central differences of the forward, at the largest
   * gradient of one entry per part (vision block, projector, embeddings, decoder block, heads, both
   * LoRA halves): checks that the groups and blobs are wired to the right native buffers.
   */
  @Test
  void backwardMatchesFiniteDifferencesOfTheForward() {
    ModelConfig c = micro(Projector.MLP2X_GELU);
    int seq = 12;
    try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, c)) {
      m.initWeights(41, 0.3f);
      ParameterBlob adapter = m.addAdapter("policy", new LoraSpec(2, 4f, EnumSet.allOf(LoraTarget.class)), 5);
      Random r = new Random(6);
      for (String n : adapter.names()) {
        if (n.endsWith("lora_B.weight")) {
          Tensor t = adapter.tensor(n);
          float[] x = new float[(int) t.numel()];
          for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian() * 0.3f;
          }
          t.write(x);
        }
      }
      m.plan(2, seq, 1, true);
      int[] idArray = ids(c, seq, 13);
      int[] targetArray = ids(c, seq, 14);
      float[] weights = new float[2 * seq];
      for (int i = 0; i < weights.length; i++) {
        weights[i] = (float) r.nextGaussian();
      }
      try (Tensor ids = cpu.fromInts(idArray, 2, seq); Tensor targets = cpu.fromInts(targetArray, 2, seq);
          Tensor img = cpu.fromFloats(image(c, 15), 1, 3, 16, 16);
          Tensor logp = cpu.zeros(DType.F32, 2, seq);
          Tensor dLogp = cpu.fromFloats(weights, 2, seq);
          ParameterBlob baseGrads = m.params().likeThis();
          ParameterBlob adapterGrads = adapter.likeThis()) {
        m.forward("policy", new LlavaModel.Inputs(ids, img, targets), new LlavaModel.Outputs(null, null, logp), true);
        m.backward(dLogp, null, baseGrads, EnumSet.allOf(ParamGroup.class), adapterGrads, GradMode.OVERWRITE);
        List<String[]> checks = List.of(
            new String[] {"base", "vision_tower.vision_model.embeddings.patch_embedding.weight"},
            new String[] {"base", "vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.weight"},
            new String[] {"base", "vision_tower.vision_model.encoder.layers.0.mlp.fc2.bias"},
            new String[] {"base", "multi_modal_projector.linear_2.weight"},
            new String[] {"base", "language_model.model.embed_tokens.weight"},
            new String[] {"base", "language_model.model.layers.0.self_attn.k_proj.weight"},
            new String[] {"base", "language_model.model.layers.1.mlp.down_proj.weight"},
            new String[] {"base", "language_model.model.norm.weight"},
            new String[] {"base", "language_model.lm_head.weight"},
            new String[] {"adapter", PeftAdapter.aName("language_model.model.layers.0.mlp.gate_proj")},
            new String[] {"adapter", PeftAdapter.bName("language_model.model.layers.1.self_attn.v_proj")},
            new String[] {"adapter", PeftAdapter.aName("multi_modal_projector.linear_1")});
        float h = 1e-2f;
        for (String[] check : checks) {
          boolean base = check[0].equals("base");
          Tensor param = (base ? m.params() : adapter).tensor(check[1]);
          float[] g = (base ? baseGrads : adapterGrads).tensor(check[1]).toFloatArray();
          int at = 0;
          for (int i = 1; i < g.length; i++) {
            at = Math.abs(g[i]) > Math.abs(g[at]) ? i : at;
          }
          float[] theta = param.toFloatArray();
          float keep = theta[at];
          theta[at] = keep + h;
          param.write(theta);
          double plus = loss(m, "policy", ids, img, targets, logp, weights);
          theta[at] = keep - h;
          param.write(theta);
          double minus = loss(m, "policy", ids, img, targets, logp, weights);
          theta[at] = keep;
          param.write(theta);
          double fd = (plus - minus) / (2 * h);
          assertTrue(Math.abs(g[at]) > 1e-3, check[1] + ": gradient " + g[at] + " too small to check");
          assertEquals(fd, g[at], 3e-3 + 2e-2 * Math.abs(fd), check[1] + " at " + at);
        }
      }
    }
  }

  private static float[] filled(int n, float v) {
    float[] x = new float[n];
    Arrays.fill(x, v);
    return x;
  }

  private static boolean nonZero(Tensor t) {
    for (float x : t.toFloatArray()) {
      if (x != 0f) {
        return true;
      }
    }
    return false;
  }

  @Test
  void nativeErrorsArriveWithTheirMessage() {
    ModelConfig c = micro(Projector.LINEAR);
    try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, c)) {
      int[] idArray = ids(c, 12, 1);
      try (Tensor ids = cpu.fromInts(idArray, 2, 12); Tensor out = cpu.zeros(DType.F32, 2, 12, 37)) {
        FactRlException noPlan = assertThrows(FactRlException.class,
            () -> m.forward(null, LlavaModel.Inputs.of(ids), LlavaModel.Outputs.logits(out), false));
        assertTrue(noPlan.getMessage().contains("plan"), noPlan.getMessage());
        m.plan(2, 12, 1, false);
        // row 0 has image tokens, but no image is given
        FactRlException noImage = assertThrows(FactRlException.class,
            () -> m.forward(null, LlavaModel.Inputs.of(ids), LlavaModel.Outputs.logits(out), false));
        assertTrue(noImage.getMessage().contains("inputs->images"), noImage.getMessage());
        FactRlException noAdapter = assertThrows(FactRlException.class,
            () -> m.forward("nope", LlavaModel.Inputs.of(ids), LlavaModel.Outputs.logits(out), false));
        assertTrue(noAdapter.getMessage().contains("'nope'"), noAdapter.getMessage());
        FactRlException big = assertThrows(FactRlException.class, () -> m.plan(2, 33, 1, false));
        assertTrue(big.getMessage().contains("'maxSeq'"), big.getMessage());
      }
    }
  }

  /**
   * model.h on CUDA (runs where a GPU is): the same seed gives the same weights, and the logits of
   * the micro model match the CPU's to the model check's tolerance (bench/gpu/model_gpu.py:
   * 1e-4·max(1, s) + 1e-3·|want|, f32 kernels summing in another order); generation is refused
   * with UNAVAILABLE.
   */
  @Test
  void onCudaTheLogitsMatchTheCpuAndGenerationIsUnavailable() {
    org.junit.jupiter.api.Assumptions.assumeTrue(Device.cudaDeviceCount() > 0, "no CUDA device");
    ModelConfig c = micro(Projector.MLP2X_GELU);
    int seq = c.patchesPerImage() + 4;
    try (Device cpu = Device.cpu(); Device gpu = Device.cuda(0);
        LlavaModel onCpu = LlavaModel.create(cpu, c); LlavaModel onGpu = LlavaModel.create(gpu, c)) {
      for (LlavaModel m : List.of(onCpu, onGpu)) {
        m.initWeights(7, 0.3f);
        m.plan(2, seq, 1, false);
      }
      float[] want = logits(onCpu, null, seq);
      float[] got = logits(onGpu, null, seq);
      float s = 0f;
      for (float x : want) s = Math.max(s, Math.abs(x));
      org.factrl.testing.Numerics.assertClose(want, got, 1e-4 * Math.max(1, s), 1e-3, "logits on CUDA");
      FactRlException e = assertThrows(FactRlException.class, () -> KvCache.create(onGpu, 2, seq));
      assertEquals(FactRlException.Status.UNAVAILABLE, e.status());
      assertTrue(e.getMessage().contains("generation"), e.getMessage());
    }
  }

  @Test
  void aClosedModelAndARemovedAdapterFailClearly() {
    try (Device cpu = Device.cpu()) {
      LlavaModel m = LlavaModel.create(cpu, micro(Projector.LINEAR));
      ParameterBlob params = m.params();
      ParameterBlob a = m.addAdapter("policy", LoraSpec.allDecoder(2, 4f), 1);
      Tensor w = params.tensor("language_model.lm_head.weight");
      // an open view of the weights keeps the model open
      Tensor view = w.reshape(-1);
      FactRlException busy = assertThrows(FactRlException.class, m::close);
      assertTrue(busy.getMessage().contains("live view"), busy.getMessage());
      assertFalse(m.isClosed());
      view.close();
      params.close(); // does nothing: the model owns it
      assertEquals(37 * 16, w.toFloatArray().length);
      m.removeAdapter("policy");
      FactRlException removed = assertThrows(FactRlException.class, () -> a.tensor(a.names().get(0)).toFloatArray());
      assertTrue(removed.getMessage().contains("removed"), removed.getMessage());
      m.close();
      m.close(); // twice is harmless
      assertTrue(m.isClosed());
      FactRlException e = assertThrows(FactRlException.class, () -> m.initWeights(1, 0.1f));
      assertTrue(e.getMessage().contains("LlavaModel") && e.getMessage().contains("closed"), e.getMessage());
      assertThrows(FactRlException.class, m::memoryPlan);
      assertThrows(FactRlException.class, m::params);
      assertThrows(FactRlException.class, () -> m.plan(1, 1, 0, false));
      FactRlException weights = assertThrows(FactRlException.class, w::toFloatArray);
      assertTrue(weights.getMessage().contains("LlavaModel closed"), weights.getMessage());
      assertNotEquals("", m.toString());
    }
  }
}

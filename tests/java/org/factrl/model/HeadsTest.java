package org.factrl.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.DoubleSupplier;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.kernels.RewardHead;
import org.factrl.kernels.ValueHead;
import org.factrl.model.io.IfExists;
import org.factrl.model.io.PeftAdapter;
import org.factrl.model.io.SafeTensors;
import org.factrl.train.AdamW;
import org.factrl.train.AdamWConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Named heads on the model: their layout and zero start, score / values equal to the pooling
 * kernels applied by hand to the model's hidden output (and to w·h + c in double), the head
 * backward (head gradients and d hidden through the model) against central differences, a
 * bit-identical save / load round trip, and trainable sets that change only what they name.
 */
class HeadsTest {
  @TempDir Path dir;

  private static final int SEQ = 10;

  /** Two text rows of random ids in [5, V). */
  private static int[] ids(ModelConfig c, long seed) {
    Random r = new Random(seed);
    int[] ids = new int[2 * SEQ];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = 5 + r.nextInt(c.vocabSize() - 5);
    }
    return ids;
  }

  private static void randomize(Tensor t, Random r, float std) {
    float[] x = new float[(int) t.numel()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian() * std;
    }
    t.write(x);
  }

  /** A micro model with an adapter set whose B is random (so the adapter changes the output). */
  private static LlavaModel model(Device cpu, long seed) {
    LlavaModel m = LlavaModel.create(cpu, LlavaModelTest.micro(Projector.LINEAR));
    m.initWeights(seed, 0.3f);
    ParameterBlob a = m.addAdapter("rm", LoraSpec.allDecoder(2, 4f), seed + 1);
    Random r = new Random(seed + 2);
    for (String n : a.names()) {
      if (n.endsWith("lora_B.weight")) {
        randomize(a.tensor(n), r, 0.3f);
      }
    }
    return m;
  }

  @Test
  void headsStartAtZeroWithHfNames() {
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu, 1)) {
      Head r = m.addHead("reward", HeadKind.REWARD);
      Head v = m.addHead("value", HeadKind.VALUE);
      assertEquals(List.of("score.weight", "score.bias"), r.params().names());
      assertEquals(List.of("v_head.summary.weight", "v_head.summary.bias"), v.params().names());
      assertArrayEquals(new long[] {1, 16}, r.params().tensor("score.weight").shape());
      assertArrayEquals(new long[] {1}, r.params().tensor("score.bias").shape());
      assertArrayEquals(new long[] {16}, r.weight().shape());
      assertArrayEquals(new float[16], r.weight().toFloatArray());
      assertArrayEquals(new float[1], v.bias().toFloatArray());
      assertEquals(Set.of("reward", "value"), m.headNames());
      assertEquals(r, m.head("reward"));
      FactRlException dup = assertThrows(FactRlException.class, () -> m.addHead("reward", HeadKind.VALUE));
      assertTrue(dup.getMessage().contains("'reward' already exists"), dup.getMessage());
      FactRlException none = assertThrows(FactRlException.class, () -> m.head("critic"));
      assertTrue(none.getMessage().contains("no head 'critic'"), none.getMessage());
      FactRlException kind = assertThrows(FactRlException.class, v::rewardHead);
      assertTrue(kind.getMessage().contains("is a VALUE head"), kind.getMessage());
      Head seeded = m.addHead("seeded", HeadKind.REWARD, 5, 0.02f);
      float[] w = seeded.weight().toFloatArray();
      Random expect = new Random(5);
      for (float x : w) {
        assertEquals((float) (expect.nextGaussian() * 0.02f), x);
      }
      assertArrayEquals(new float[1], seeded.bias().toFloatArray());
      m.removeHead("seeded");
      m.removeHead("value");
      assertEquals(Set.of("reward"), m.headNames());
      FactRlException gone = assertThrows(FactRlException.class, v::params);
      assertTrue(gone.getMessage().contains("was removed"), gone.getMessage());
    }
  }

  @Test
  void scoreAndValuesEqualTheKernelsOnTheModelsHiddenOutput() {
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu, 3)) {
      ModelConfig c = m.config();
      Head r = m.addHead("reward", HeadKind.REWARD);
      Head v = m.addHead("value", HeadKind.VALUE);
      Random rnd = new Random(4);
      for (Head h : List.of(r, v)) {
        randomize(h.weight(), rnd, 0.5f);
        randomize(h.bias(), rnd, 0.5f);
      }
      m.plan(2, SEQ, 0, false);
      int[] mask = new int[2 * SEQ];
      for (int i = 0; i < mask.length; i++) {
        mask[i] = (i % SEQ) < (i < SEQ ? 7 : 10) ? 1 : 0;
      }
      try (Tensor ids = cpu.fromInts(ids(c, 5), 2, SEQ); Tensor end = cpu.fromInts(new int[] {6, 9}, 2);
          Tensor maskT = cpu.fromInts(mask, 2, SEQ); Tensor hidden = cpu.zeros(DType.F32, 2, SEQ, 16)) {
        for (String adapter : new String[] {null, "rm"}) {
          m.forward(adapter, LlavaModel.Inputs.of(ids), new LlavaModel.Outputs(null, hidden, null), false);
          float[] h = hidden.toFloatArray();
          try (Tensor want = RewardHead.of(r.weight(), r.bias()).forward(hidden, end);
              Tensor got = m.score(adapter, "reward", LlavaModel.Inputs.of(ids), end, false);
              Tensor wantV = ValueHead.of(v.weight(), v.bias()).forward(hidden, maskT);
              Tensor gotV = m.values(adapter, "value", LlavaModel.Inputs.of(ids), maskT, false)) {
            assertArrayEquals(want.toFloatArray(), got.toFloatArray(), "scores under " + adapter);
            assertArrayEquals(wantV.toFloatArray(), gotV.toFloatArray(), "values under " + adapter);
            // and w·h + c in double, at the pooled positions / every unmasked one
            float[] s = got.toFloatArray();
            float[] vals = gotV.toFloatArray();
            int[] e = {6, 9};
            for (int b = 0; b < 2; b++) {
              assertEquals(dot(r, h, b * SEQ + e[b]), s[b], 1e-5, "score row " + b);
              for (int t = 0; t < SEQ; t++) {
                double expect = mask[b * SEQ + t] == 0 ? 0 : dot(v, h, b * SEQ + t);
                assertEquals(expect, vals[b * SEQ + t], 1e-5, "value " + b + "," + t);
              }
            }
          }
        }
        // the adapter changes the scores (so the null case really is the base alone)
        try (Tensor base = m.score(null, "reward", LlavaModel.Inputs.of(ids), end, false);
            Tensor rm = m.score("rm", "reward", LlavaModel.Inputs.of(ids), end, false)) {
          assertNotEquals(base.toFloatArray()[0], rm.toFloatArray()[0]);
        }
        FactRlException wrongKind = assertThrows(FactRlException.class,
            () -> m.score(null, "value", LlavaModel.Inputs.of(ids), end, false));
        assertTrue(wrongKind.getMessage().contains("needs a REWARD head"), wrongKind.getMessage());
      }
    }
  }

  private static double dot(Head head, float[] hidden, int token) {
    float[] w = head.weight().toFloatArray();
    double s = head.bias().toFloatArray()[0];
    for (int i = 0; i < w.length; i++) {
      s += (double) w[i] * hidden[token * w.length + i];
    }
    return s;
  }

  private static double weighted(Tensor t, float[] c) {
    float[] x = t.toFloatArray();
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      s += (double) c[i] * x[i];
    }
    return s;
  }

  /** Central difference of {@code loss} at the largest-gradient entry of {@code param}, against {@code grad}. */
  private static void checkFd(String what, Tensor param, Tensor grad, DoubleSupplier loss) {
    float[] g = grad.toFloatArray();
    int at = 0;
    for (int i = 1; i < g.length; i++) {
      at = Math.abs(g[i]) > Math.abs(g[at]) ? i : at;
    }
    float h = 1e-2f;
    float[] theta = param.toFloatArray();
    float keep = theta[at];
    theta[at] = keep + h;
    param.write(theta);
    double plus = loss.getAsDouble();
    theta[at] = keep - h;
    param.write(theta);
    double minus = loss.getAsDouble();
    theta[at] = keep;
    param.write(theta);
    double fd = (plus - minus) / (2 * h);
    assertTrue(Math.abs(g[at]) > 1e-3, what + ": gradient " + g[at] + " too small to check");
    assertEquals(fd, g[at], 3e-3 + 2e-2 * Math.abs(fd), what + " at " + at);
  }

  /**
   * loss = Σ c·score (reward) or Σ c·values (value): the head's weight and bias gradients and, through
   * d hidden, the adapter's and the base's, against central differences of the forward.
   */
  @Test
  void headBackwardMatchesFiniteDifferences() {
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu, 7)) {
      ModelConfig c = m.config();
      Random rnd = new Random(8);
      for (HeadKind kind : HeadKind.values()) {
        Head head = m.addHead(kind.name(), kind);
        randomize(head.weight(), rnd, 1f);
        randomize(head.bias(), rnd, 1f);
      }
      m.plan(2, SEQ, 0, true);
      int[] mask = new int[2 * SEQ];
      for (int i = 0; i < mask.length; i++) {
        mask[i] = i % SEQ == 3 ? 0 : 1;
      }
      float[] cScore = {0.7f, -1.3f};
      float[] cValue = new float[2 * SEQ];
      for (int i = 0; i < cValue.length; i++) {
        cValue[i] = (float) rnd.nextGaussian();
      }
      try (Tensor ids = cpu.fromInts(ids(c, 9), 2, SEQ); Tensor end = cpu.fromInts(new int[] {9, 5}, 2);
          Tensor maskT = cpu.fromInts(mask, 2, SEQ); Tensor dScores = cpu.fromFloats(cScore, 2);
          Tensor dValues = cpu.fromFloats(cValue, 2, SEQ); ParameterBlob baseGrads = m.params().likeThis();
          ParameterBlob adapterGrads = m.adapter("rm").likeThis()) {
        LlavaModel.Inputs in = LlavaModel.Inputs.of(ids);
        for (HeadKind kind : HeadKind.values()) {
          Head head = m.head(kind.name());
          boolean reward = kind == HeadKind.REWARD;
          DoubleSupplier loss = () -> {
            try (Tensor out = reward ? m.score("rm", head.name(), in, end, false)
                : m.values("rm", head.name(), in, maskT, false)) {
              return weighted(out, reward ? cScore : cValue);
            }
          };
          try (ParameterBlob headGrads = head.params().likeThis();
              Tensor out = reward ? m.score("rm", head.name(), in, end, true) : m.values("rm", head.name(), in, maskT, true)) {
            m.headBackward(reward ? dScores : dValues, headGrads, baseGrads, EnumSet.allOf(ParamGroup.class),
                adapterGrads, GradMode.OVERWRITE);
            checkFd(kind + " weight", head.params().tensor(kind.weightName()), headGrads.tensor(kind.weightName()), loss);
            checkFd(kind + " bias", head.bias(), headGrads.tensor(kind.biasName()), loss);
            for (String n : List.of("language_model.model.norm.weight", "language_model.model.layers.1.mlp.down_proj.weight",
                "language_model.model.embed_tokens.weight")) {
              checkFd(kind + " " + n, m.params().tensor(n), baseGrads.tensor(n), loss);
            }
            String lora = PeftAdapter.bName("language_model.model.layers.0.self_attn.v_proj");
            checkFd(kind + " " + lora, m.adapter("rm").tensor(lora), adapterGrads.tensor(lora), loss);
            // the LM head is not on the head's path
            assertArrayEquals(new float[(int) baseGrads.tensor("language_model.lm_head.weight").numel()],
                baseGrads.tensor("language_model.lm_head.weight").toFloatArray());
          }
        }
        FactRlException stale = assertThrows(FactRlException.class, () -> m.headBackward(dValues, null, null,
            EnumSet.noneOf(ParamGroup.class), adapterGrads, GradMode.OVERWRITE));
        assertTrue(stale.getMessage().contains("train = true"), stale.getMessage());
        try (Tensor out = m.values("rm", "VALUE", in, maskT, true)) {
          m.forward(null, in, new LlavaModel.Outputs(null, null, null), false);
          FactRlException between = assertThrows(FactRlException.class, () -> m.headBackward(dValues, null, null,
              EnumSet.noneOf(ParamGroup.class), adapterGrads, GradMode.OVERWRITE));
          assertTrue(between.getMessage().contains("ran another forward"), between.getMessage());
        }
      }
    }
  }

  @Test
  void savedAndLoadedHeadsAreBitIdentical() {
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu, 11); LlavaModel fresh = model(cpu, 11)) {
      Random rnd = new Random(12);
      Head r = m.addHead("reward", HeadKind.REWARD);
      Head v = m.addHead("value", HeadKind.VALUE);
      for (Head h : List.of(r, v)) {
        randomize(h.weight(), rnd, 1f);
        randomize(h.bias(), rnd, 1f);
      }
      m.saveHead("reward", dir.resolve("reward_head.safetensors"), IfExists.FAIL);
      m.saveHead("value", dir.resolve("value_head.safetensors"), IfExists.FAIL);
      FactRlException exists = assertThrows(FactRlException.class,
          () -> m.saveHead("reward", dir.resolve("reward_head.safetensors"), IfExists.FAIL));
      assertTrue(exists.getMessage().contains("exists"), exists.getMessage());
      Head r2 = fresh.loadHead("rm head", dir.resolve("reward_head.safetensors"));
      Head v2 = fresh.loadHead("critic", dir.resolve("value_head.safetensors"));
      assertEquals(HeadKind.REWARD, r2.kind());
      assertEquals(HeadKind.VALUE, v2.kind());
      assertArrayEquals(r.params().tensor("score.weight").toFloatArray(), r2.params().tensor("score.weight").toFloatArray());
      assertArrayEquals(v.bias().toFloatArray(), v2.bias().toFloatArray());
      assertEquals("REWARD", SafeTensors.read(dir.resolve("reward_head.safetensors")).metadata().get("factrl.head"));
      m.plan(2, SEQ, 0, false);
      fresh.plan(2, SEQ, 0, false);
      try (Tensor ids = cpu.fromInts(ids(m.config(), 13), 2, SEQ); Tensor end = cpu.fromInts(new int[] {9, 2}, 2);
          Tensor a = m.score("rm", "reward", LlavaModel.Inputs.of(ids), end, false);
          Tensor b = fresh.score("rm", "rm head", LlavaModel.Inputs.of(ids), end, false);
          Tensor va = m.values("rm", "value", LlavaModel.Inputs.of(ids), null, false);
          Tensor vb = fresh.values("rm", "critic", LlavaModel.Inputs.of(ids), null, false)) {
        assertArrayEquals(a.toFloatArray(), b.toFloatArray());
        assertArrayEquals(va.toFloatArray(), vb.toFloatArray());
      }
      // a head of another width fails naming the tensor and both shapes, and adds nothing
      ModelConfig wide = LlavaModelTest.micro(Projector.LINEAR).toBuilder().hidden(8).build();
      try (LlavaModel other = LlavaModel.create(cpu, wide)) {
        FactRlException e = assertThrows(FactRlException.class,
            () -> other.loadHead("reward", dir.resolve("reward_head.safetensors")));
        assertTrue(e.getMessage().contains("score.weight") && e.getMessage().contains("[1, 16]")
            && e.getMessage().contains("[1, 8]"), e.getMessage());
        assertEquals(Set.of(), other.headNames());
      }
    }
  }

  /** Snapshot of every entry of a blob. */
  private static Map<String, float[]> snapshot(ParameterBlob b) {
    Map<String, float[]> out = new java.util.LinkedHashMap<>();
    for (String n : b.names()) {
      out.put(n, b.tensor(n).toFloatArray());
    }
    return out;
  }

  private static void assertSame(Map<String, float[]> before, ParameterBlob b, String what) {
    for (String n : b.names()) {
      assertArrayEquals(before.get(n), b.tensor(n).toFloatArray(), what + " " + n);
    }
  }

  @Test
  void headOnlyTrainingChangesOnlyTheHead() {
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu, 21)) {
      Head r = m.addHead("reward", HeadKind.REWARD);
      m.plan(2, SEQ, 0, true);
      Map<String, float[]> base = snapshot(m.params());
      Map<String, float[]> adapter = snapshot(m.adapter("rm"));
      AdamWConfig config = AdamWConfig.builder().lr(1e-2).weightDecay(0.1).build();
      try (TrainableGrads g = TrainableGrads.allocate(m, TrainableSet.HEAD, null, "reward"); AdamW opt = g.adamW(config);
          Tensor ids = cpu.fromInts(ids(m.config(), 22), 2, SEQ); Tensor end = cpu.fromInts(new int[] {9, 9}, 2);
          Tensor dScores = cpu.fromFloats(new float[] {1f, -1f}, 2)) {
        assertEquals(null, g.baseGrads());
        assertEquals(null, g.adapterGrads());
        assertEquals(r.params().bytes(), g.bytes());
        assertEquals(1, g.trainables().size());
        double first = 0;
        double last = 0;
        for (int step = 0; step < 5; step++) {
          try (Tensor s = m.score("rm", "reward", LlavaModel.Inputs.of(ids), end, true)) {
            float[] x = s.toFloatArray();
            last = x[1] - x[0];
            first = step == 0 ? last : first;
            g.headBackward(dScores, GradMode.OVERWRITE);  // loss s0 - s1: descent raises s1 - s0
            opt.step();
          }
        }
        assertTrue(last > first, "s1 - s0 went from " + first + " to " + last);
        assertFalse(java.util.Arrays.equals(new float[16], r.weight().toFloatArray()));
        assertSame(base, m.params(), "base");
        assertSame(adapter, m.adapter("rm"), "adapter");
      }
    }
  }

  /** PROJECTOR: the base grad blob is whole, but weight decay must not touch the frozen entries. */
  @Test
  void projectorTrainingLeavesTheRestOfTheBaseBitwise() {
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu, 31)) {
      m.plan(2, SEQ, 0, true);
      Map<String, float[]> before = snapshot(m.params());
      AdamWConfig config = AdamWConfig.builder().lr(1e-2).weightDecay(0.1).build();
      try (TrainableGrads g = TrainableGrads.allocate(m, TrainableSet.PROJECTOR, null, null); AdamW opt = g.adamW(config);
          Tensor ids = cpu.fromInts(ids(m.config(), 32), 2, SEQ); Tensor logp = cpu.zeros(DType.F32, 2, SEQ);
          Tensor dLogp = cpu.fromFloats(new float[2 * SEQ], 2, SEQ)) {
        m.forward(null, new LlavaModel.Inputs(ids, null, ids), new LlavaModel.Outputs(null, null, logp), true);
        g.backward(dLogp, null, GradMode.OVERWRITE);
        opt.step();
        for (String n : m.params().names()) {
          float[] now = m.params().tensor(n).toFloatArray();
          if (ParamGroup.of(n) == ParamGroup.PROJECTOR && n.endsWith("weight")) {
            assertFalse(java.util.Arrays.equals(before.get(n), now), n + " should decay");
          } else if (ParamGroup.of(n) != ParamGroup.PROJECTOR) {
            assertArrayEquals(before.get(n), now, n);
          }
        }
      }
    }
  }
}

package org.factrl.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The Java wrapper of generation (Generator, KvCache, GenerateConfig) on the micro LLaVA model of
 * LlavaModelTest with a non-trivial LoRA adapter: greedy tokens equal a naive loop that reruns
 * {@link LlavaModel#forward} over the whole sequence and takes the argmax (exactly); sampled tokens'
 * log-probs equal the forward's logp of the same tokens (|Δ| <= 1e-5); the same seed repeats; the
 * cache's lengths and bytes; checked config fields and the overflow error naming the row.
 */
class GeneratorTest {
  static final String ADAPTER = "policy";
  static final int S = 7;
  static final int[] LENS = {7, 5};
  static final int T = 5;

  /** Row 0: BOS, the P = 4 image tokens, two text tokens; row 1: five text tokens, right-padded. */
  static int[] prompts(ModelConfig c) {
    int img = c.imageTokenId();
    return new int[] {1, img, img, img, img, 9, 12, 3, 15, 6, 8, 10, 0, 0};
  }

  static LlavaModel model(Device cpu) {
    // LlavaModelTest's micro model with the image token at the end of the vocabulary (the naive
    // loop's full forward refuses a generated image token; these weights never emit it).
    ModelConfig c = LlavaModelTest.micro(Projector.MLP2X_GELU).toBuilder().imageTokenId(36).build();
    LlavaModel m = LlavaModel.create(cpu, c);
    m.initWeights(21, 0.3f);
    var blob = m.addAdapter(ADAPTER, LoraSpec.allDecoder(4, 8f), 3);
    Random r = new Random(5);
    for (String name : blob.names()) {  // B != 0: the adapter changes the outputs
      Tensor t = blob.tensor(name);
      float[] x = new float[(int) t.numel()];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (0.2 * (2 * r.nextDouble() - 1));
      }
      t.write(x);
    }
    m.plan(2, 16, 1, false);
    return m;
  }

  static float[] image(ModelConfig c) {
    Random r = new Random(12);
    float[] x = new float[c.imageChannels() * c.imageSize() * c.imageSize()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return x;
  }

  /** Full forward over the rows (right-padded with 0): logits [2][len][V], and logp when targets are given. */
  static float[] forward(LlavaModel m, Tensor img, List<List<Integer>> seqs, List<List<Integer>> targets,
      float[][] logpOut) {
    int sm = Math.max(seqs.get(0).size(), seqs.get(1).size());
    int v = m.config().vocabSize();
    int[] ids = new int[2 * sm];
    int[] tg = new int[2 * sm];
    for (int b = 0; b < 2; b++) {
      for (int s = 0; s < seqs.get(b).size(); s++) {
        ids[b * sm + s] = seqs.get(b).get(s);
        tg[b * sm + s] = targets == null ? 0 : targets.get(b).get(s);
      }
    }
    Device dev = m.device();
    try (Tensor tid = dev.fromInts(ids, 2, sm); Tensor ttg = dev.fromInts(tg, 2, sm);
        Tensor logits = dev.zeros(DType.F32, 2, sm, v); Tensor logp = dev.zeros(DType.F32, 2, sm)) {
      m.forward(ADAPTER, new LlavaModel.Inputs(tid, img, targets == null ? null : ttg),
          new LlavaModel.Outputs(logits, null, targets == null ? null : logp), false);
      if (logpOut != null) {
        logpOut[0] = logp.toFloatArray();
      }
      float[] z = logits.toFloatArray();
      float[] last = new float[2 * v];
      for (int b = 0; b < 2; b++) {
        System.arraycopy(z, (b * sm + seqs.get(b).size() - 1) * v, last, b * v, v);
      }
      return last;
    }
  }

  static List<List<Integer>> promptLists(ModelConfig c) {
    int[] p = prompts(c);
    List<List<Integer>> r = new ArrayList<>();
    for (int b = 0; b < 2; b++) {
      List<Integer> row = new ArrayList<>();
      for (int s = 0; s < LENS[b]; s++) {
        row.add(p[b * S + s]);
      }
      r.add(row);
    }
    return r;
  }

  static int argmax(float[] z, int from, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) {
      if (z[from + i] > z[from + best]) {
        best = i;
      }
    }
    return best;
  }

  @Test
  void greedyEqualsNaiveFullForwardLoopAndLogpEqualsForward() {
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu); Generator gen = new Generator(m);
        KvCache cache = KvCache.create(m, 2, 16);
        Tensor ids = cpu.fromInts(prompts(m.config()), 2, S);
        Tensor img = cpu.fromFloats(image(m.config()), 1, 3, 16, 16)) {
      ModelConfig c = m.config();
      int v = c.vocabSize();
      LlavaModel.Inputs in = new LlavaModel.Inputs(ids, img, null);
      Generator.Generation g = gen.generate(ADAPTER, cache, in, LENS, GenerateConfig.builder().maxNewTokens(T).build());
      List<List<Integer>> naive = promptLists(c);
      for (int t = 0; t < T; t++) {
        float[] last = forward(m, img, naive, null, null);
        for (int b = 0; b < 2; b++) {
          naive.get(b).add(argmax(last, b * v, v));
        }
      }
      for (int b = 0; b < 2; b++) {
        assertEquals(T, g.lengths()[b]);
        for (int t = 0; t < T; t++) {
          assertEquals((int) naive.get(b).get(LENS[b] + t), g.tokens()[b][t], "row " + b + " token " + t);
        }
      }
      assertArrayEquals(new int[] {LENS[0] + T - 1, LENS[1] + T - 1}, cache.lengths());
      assertTrue(cache.bytes() >= 4L * 2 * 2 * 2 * 16 * c.hidden(), "cache bytes " + cache.bytes());

      // Sampled: log-probs equal the forward's logp of the same tokens; the same seed repeats.
      GenerateConfig sampled = GenerateConfig.builder().maxNewTokens(T).temperature(0.9f).topP(0.95f).seed(77).build();
      Generator.Generation s = gen.generate(ADAPTER, cache, in, LENS, sampled);
      Generator.Generation again = gen.generate(ADAPTER, cache, in, LENS, sampled);
      List<List<Integer>> seqs = promptLists(c);
      List<List<Integer>> targets = new ArrayList<>();
      for (int b = 0; b < 2; b++) {
        assertArrayEquals(s.tokens()[b], again.tokens()[b]);
        assertArrayEquals(s.logp()[b], again.logp()[b]);
        for (int t = 0; t < s.lengths()[b]; t++) {
          seqs.get(b).add(s.tokens()[b][t]);
        }
        List<Integer> tg = new ArrayList<>(seqs.get(b).subList(1, seqs.get(b).size()));
        tg.add(0);
        targets.add(tg);
      }
      float[][] logp = new float[1][];
      forward(m, img, seqs, targets, logp);
      int sm = Math.max(seqs.get(0).size(), seqs.get(1).size());
      for (int b = 0; b < 2; b++) {
        for (int t = 0; t < s.lengths()[b]; t++) {
          assertEquals(logp[0][b * sm + LENS[b] - 1 + t], s.logp()[b][t], 1e-5, "row " + b + " logp " + t);
        }
      }
    }
  }

  @Test
  void configFieldsAndOverflowAreNamed() {
    FactRlException e = assertThrows(FactRlException.class, () -> GenerateConfig.builder().temperature(-1f).build());
    assertTrue(e.getMessage().contains("temperature"), e.getMessage());
    e = assertThrows(FactRlException.class, () -> GenerateConfig.builder().topP(0f).build());
    assertTrue(e.getMessage().contains("topP"), e.getMessage());
    e = assertThrows(FactRlException.class, () -> GenerateConfig.builder().maxNewTokens(0).build());
    assertTrue(e.getMessage().contains("maxNewTokens"), e.getMessage());
    GenerateConfig g = GenerateConfig.builder().maxNewTokens(3).temperature(0.5f).seed(9).build();
    assertEquals(g, g.toBuilder().build());
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu); Generator gen = new Generator(m);
        KvCache small = KvCache.create(m, 2, 8);
        Tensor ids = cpu.fromInts(prompts(m.config()), 2, S);
        Tensor img = cpu.fromFloats(image(m.config()), 1, 3, 16, 16)) {
      LlavaModel.Inputs in = new LlavaModel.Inputs(ids, img, null);
      e = assertThrows(FactRlException.class, () -> gen.generate(ADAPTER, small, in, LENS,
          GenerateConfig.builder().maxNewTokens(4).build()));
      assertTrue(e.getMessage().contains("row 0") && e.getMessage().contains("max_len"), e.getMessage());
      e = assertThrows(FactRlException.class, () -> gen.generate(ADAPTER, small, in, LENS,
          GenerateConfig.builder().maxNewTokens(2).eosTokenId(m.config().vocabSize()).build()));
      assertTrue(e.getMessage().contains("eos_token_id"), e.getMessage());
      e = assertThrows(FactRlException.class, () -> KvCache.create(m, 2, m.config().maxPositions() + 1));
      assertTrue(e.getMessage().contains("maxLen"), e.getMessage());
      Generator.Generation two = gen.generate(ADAPTER, small, in, LENS, GenerateConfig.builder().maxNewTokens(2).build());
      assertArrayEquals(new int[] {2, 2}, two.lengths());
      small.close();
      e = assertThrows(FactRlException.class, small::bytes);
      assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }
  }
}

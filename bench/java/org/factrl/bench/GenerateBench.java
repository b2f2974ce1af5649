package org.factrl.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.factrl.model.GenerateConfig;
import org.factrl.model.Generator;
import org.factrl.model.KvCache;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.testing.Torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Issue 10: batched greedy generation on the CPU with a KV cache — FactRL's one native call
 * ({@link Generator#generate}) against a libtorch implementation of the same decoder (the tiny
 * preset's LLaMA: d 192, 4 layers, 4 heads, MLP 512, V 835) with the same weights, written as HF
 * LLaMA runs it: prefill of the whole prompt (causal SDPA), then one token per step with K/V
 * appended to preallocated [B, H, max_len, Dh] caches, rms_norm / linear / silu / RoPE (rotate_half)
 * / SDPA / argmax ops from Java, one op per JNI call. Text prompts of equal length (no image), no
 * EOS: every row emits {@code newTokens}. Time per call; tokens/s = batch · newTokens / time, so the
 * printed ratio (torch time / FactRL time) is the tokens/s ratio (goal >= 2).
 *
 * <p>Setup checks both implementations emit the same greedy tokens (prints how many match).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class GenerateBench {
  @Param({"1", "8"})
  public int batch;

  @Param({"32"})
  public int prompt;

  @Param({"64"})
  public int newTokens;

  private Device cpu;
  private LlavaModel model;
  private Generator generator;
  private KvCache cache;
  private Tensor ids, lens, outTokens, outLengths;
  private LlavaModel.Inputs inputs;
  private GenerateConfig config;

  private PointerScope torchScope;
  private TorchLlama llama;
  private org.bytedeco.pytorch.Tensor tids;

  @Setup(Level.Trial)
  public void setUp() {
    Loader.load(torch.class);
    cpu = Device.cpu();
    int threads = AttentionBench.factrlThreads(cpu);
    torch.set_num_threads(threads);
    System.out.printf("# threads: FactRL %d, libtorch %d%n", threads, torch.get_num_threads());
    ModelConfig c = ModelConfig.tiny();
    model = LlavaModel.create(cpu, c);
    model.initWeights(1, 0.1f);
    model.plan(batch, prompt, 0, false);
    int maxLen = prompt + newTokens;
    cache = KvCache.create(model, batch, maxLen);
    generator = new Generator(model);
    Random r = new Random(3);
    int[] idv = new int[batch * prompt];
    long[] idl = new long[idv.length];
    for (int i = 0; i < idv.length; i++) {
      idv[i] = 100 + r.nextInt(c.vocabSize() - 100);  // plain text tokens, never the image token
      idl[i] = idv[i];
    }
    ids = cpu.fromInts(idv, batch, prompt);
    int[] l = new int[batch];
    java.util.Arrays.fill(l, prompt);
    lens = cpu.fromInts(l, batch);
    outTokens = cpu.zeros(DType.I32, batch, newTokens);
    outLengths = cpu.zeros(DType.I32, batch);
    inputs = LlavaModel.Inputs.of(ids);
    config = GenerateConfig.builder().maxNewTokens(newTokens).build();

    torchScope = new PointerScope();
    llama = new TorchLlama(model, batch, maxLen);
    tids = Torch.longTensor(idl, batch, prompt);

    int[] ours = factrlGenerate().toIntArray();
    long[] theirs = torchTokens();
    int same = 0;
    for (int i = 0; i < ours.length; i++) {
      same += ours[i] == theirs[i] ? 1 : 0;
    }
    System.out.printf("# greedy tokens equal in both implementations: %d of %d%n", same, ours.length);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (Tensor t : new Tensor[] {ids, lens, outTokens, outLengths}) {
      t.close();
    }
    generator.close();
    cache.close();
    model.close();
    cpu.close();
    torchScope.close();
  }

  @Benchmark
  public Tensor factrlGenerate() {
    generator.generate(null, cache, inputs, lens, config, outTokens, null, outLengths);
    return outTokens;
  }

  @Benchmark
  public Object torchGenerate() {
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      return llama.generate(tids, newTokens).data_ptr_long().get(0);
    }
  }

  private long[] torchTokens() {
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      org.bytedeco.pytorch.Tensor t = llama.generate(tids, newTokens).contiguous();
      long[] out = new long[(int) t.numel()];
      t.data_ptr_long().get(out);
      return out;
    }
  }

  /** The tiny model's decoder in libtorch ops, HF LLaMA style, with a KV cache. */
  static final class TorchLlama {
    final int d, heads, dh, layers;
    final double eps;
    final org.bytedeco.pytorch.Tensor embed, norm, lmHead, cos, sin;
    final List<org.bytedeco.pytorch.Tensor[]> w = new ArrayList<>();  // in, q, k, v, o, post, gate, up, down
    final org.bytedeco.pytorch.Tensor[] kc, vc;

    TorchLlama(LlavaModel model, int batch, int maxLen) {
      ModelConfig c = model.config();
      d = c.hidden();
      heads = c.heads();
      dh = d / heads;
      layers = c.layers();
      eps = c.rmsNormEps();
      embed = param(model, "language_model.model.embed_tokens.weight");
      norm = param(model, "language_model.model.norm.weight");
      lmHead = param(model, "language_model.lm_head.weight");
      String[] names = {"input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
          "self_attn.o_proj", "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
      kc = new org.bytedeco.pytorch.Tensor[layers];
      vc = new org.bytedeco.pytorch.Tensor[layers];
      for (int l = 0; l < layers; l++) {
        org.bytedeco.pytorch.Tensor[] p = new org.bytedeco.pytorch.Tensor[names.length];
        for (int i = 0; i < names.length; i++) {
          p[i] = param(model, "language_model.model.layers." + l + "." + names[i] + ".weight");
        }
        w.add(p);
        kc[l] = Torch.tensor(new float[batch * heads * maxLen * dh], batch, heads, maxLen, dh);
        vc[l] = Torch.tensor(new float[batch * heads * maxLen * dh], batch, heads, maxLen, dh);
      }
      // RoPE tables [maxLen, Dh], HF layout: angle p · θ^(−2i/Dh) for i < Dh/2, repeated twice.
      float[] cs = new float[maxLen * dh];
      float[] sn = new float[maxLen * dh];
      for (int p = 0; p < maxLen; p++) {
        for (int i = 0; i < dh / 2; i++) {
          double a = p * Math.pow(c.ropeTheta(), -2.0 * i / dh);
          cs[p * dh + i] = cs[p * dh + i + dh / 2] = (float) Math.cos(a);
          sn[p * dh + i] = sn[p * dh + i + dh / 2] = (float) Math.sin(a);
        }
      }
      cos = Torch.tensor(cs, maxLen, dh);
      sin = Torch.tensor(sn, maxLen, dh);
    }

    static org.bytedeco.pytorch.Tensor param(LlavaModel model, String name) {
      Tensor t = model.params().tensor(name);
      return Torch.tensor(t.toFloatArray(), t.shape());
    }

    private org.bytedeco.pytorch.Tensor rope(org.bytedeco.pytorch.Tensor x, org.bytedeco.pytorch.Tensor c,
        org.bytedeco.pytorch.Tensor s) {
      org.bytedeco.pytorch.Tensor x1 = x.narrow(-1, 0, dh / 2);
      org.bytedeco.pytorch.Tensor x2 = x.narrow(-1, dh / 2, dh / 2);
      org.bytedeco.pytorch.Tensor rot = torch.cat(new TensorVector(x2.neg(), x1), -1);
      return x.mul(c).add(rot.mul(s));
    }

    private org.bytedeco.pytorch.Tensor rms(org.bytedeco.pytorch.Tensor x, org.bytedeco.pytorch.Tensor weight) {
      return torch.rms_norm(x, new long[] {d}, new TensorOptional(weight), new DoubleOptional(eps));
    }

    /** x [B, S, d] of positions p0 .. p0+S−1 → next greedy tokens [B, 1] (int64); caches extended. */
    private org.bytedeco.pytorch.Tensor step(org.bytedeco.pytorch.Tensor x, long p0) {
      long b = x.size(0), s = x.size(1);
      org.bytedeco.pytorch.Tensor c = cos.narrow(0, p0, s), sn = sin.narrow(0, p0, s);
      for (int l = 0; l < layers; l++) {
        org.bytedeco.pytorch.Tensor[] p = w.get(l);
        org.bytedeco.pytorch.Tensor h = rms(x, p[0]);
        org.bytedeco.pytorch.Tensor q = torch.linear(h, p[1]).view(b, s, heads, dh).transpose(1, 2);
        org.bytedeco.pytorch.Tensor k = torch.linear(h, p[2]).view(b, s, heads, dh).transpose(1, 2);
        org.bytedeco.pytorch.Tensor v = torch.linear(h, p[3]).view(b, s, heads, dh).transpose(1, 2);
        q = rope(q, c, sn);
        k = rope(k, c, sn);
        kc[l].narrow(2, p0, s).copy_(k);
        vc[l].narrow(2, p0, s).copy_(v);
        org.bytedeco.pytorch.Tensor att = torch.scaled_dot_product_attention(q, kc[l].narrow(2, 0, p0 + s),
            vc[l].narrow(2, 0, p0 + s), new TensorOptional(), 0.0, s > 1, new DoubleOptional(), false);
        x = x.add(torch.linear(att.transpose(1, 2).reshape(b, s, d), p[4]));
        org.bytedeco.pytorch.Tensor h2 = rms(x, p[5]);
        x = x.add(torch.linear(torch.silu(torch.linear(h2, p[6])).mul(torch.linear(h2, p[7])), p[8]));
      }
      org.bytedeco.pytorch.Tensor logits = torch.linear(rms(x.narrow(1, s - 1, 1), norm), lmHead);
      return logits.argmax(new LongOptional(-1), false);
    }

    /** Greedy: prompt ids [B, S] (int64) → generated tokens [B, n] (int64). */
    org.bytedeco.pytorch.Tensor generate(org.bytedeco.pytorch.Tensor ids, int n) {
      long s = ids.size(1);
      org.bytedeco.pytorch.Tensor next = step(torch.embedding(embed, ids), 0);
      TensorVector out = new TensorVector(next);
      for (int t = 1; t < n; t++) {
        next = step(torch.embedding(embed, next), s + t - 1);
        out.push_back(next);
      }
      return torch.cat(out, 1);
    }
  }
}

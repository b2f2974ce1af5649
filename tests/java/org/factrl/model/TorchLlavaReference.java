package org.factrl.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.factrl.engine.Device;
import org.factrl.model.TorchLlavaConfig.Projector;
import org.factrl.model.io.IfExists;
import org.factrl.model.io.LoraAdapterConfig;
import org.factrl.model.io.PeftAdapter;
import org.factrl.model.io.SafeTensors;
import org.factrl.testing.Torch;

/**
 * An independent libtorch (autograd) reference of the LLaVA model as native/include/factrl/model.h
 * specifies it — CLIP ViT (pre-LN) → projector → LLaMA decoder with the image splice — written from
 * that header's text and the HF / PEFT conventions only, to be the oracle of the native model's
 * parity test.
 *
 * <p>Every base weight (HF name) and adapter weight (PEFT name) is a libtorch leaf tensor that
 * requires grad, in {@link Precision#F32} or {@link Precision#F64}. {@link #forward} runs one batch
 * and returns logits [B, S, V], hidden [B, S, d] (after the final RMSNorm) and logp [B, S];
 * {@link #backward} back-propagates L = Σ dLogp·logp + Σ dHidden·hidden through that forward, and
 * {@link #gradients()} reads every weight's gradient by name.
 *
 * <p>The math, per piece (x rows are tokens):
 * <pre>
 *   vision:   t = cat(cls, conv2d(img, Wpatch, stride p).flatten(2)ᵀ) + pos;  t = LN_pre(t)
 *             block: t += out(attn(q(LN1 t), k(..), v(..)));  t += fc2(gelu_erf(fc1(LN2 t)))
 *             attn: softmax(q kᵀ / √dh) v per head, bidirectional; biases on q, k, v, out, fc1, fc2
 *             features = hidden_states[L][:, 1:]  (L = vision_feature_layer, negative from the end)
 *   projector: linear_1(f)  or  linear_2(gelu_erf(linear_1(f)))
 *   splice:   e = embed_tokens[ids]; the k-th image token of the batch (rows in order, positions in
 *             order) takes projected feature row k (image k / P, patch k % P); e at image positions
 *             is multiplied by 0, so embed_tokens[image_token_id] gets no gradient from them
 *   decoder:  x += o(attn_causal(rope(q(RMS1 x)), rope(k(..)), v(..)));  x += down(silu(gate(h)) * up(h)), h = RMS2 x
 *             RMS(x) = x · rsqrt(mean(x²) + eps) · w;  rope: x·cos + rotate_half(x)·sin, angles
 *             pos · theta^(−2i/dh), pos = 0..S−1, rotate_half(x) = cat(−x[dh/2:], x[:dh/2])
 *   heads:    hidden = RMS_final(x); logits = hidden lm_headᵀ; logp = log_softmax(logits)[target]
 *   LoRA:     y = x Wᵀ (+ b) + (alpha / r) · (x Aᵀ) Bᵀ on each targeted projection
 * </pre>
 * The RoPE cos/sin tables are computed in Java double and cast to the precision: they are inputs,
 * not weights, and this keeps the reference's angles exact to the precision's rounding.
 *
 * <p>Not thread-safe. {@link #close()} frees the native tensors.
 */
public final class TorchLlavaReference implements AutoCloseable {

  /** The scalar type every weight, activation and output is computed in. */
  public enum Precision {
    F32(torch.ScalarType.Float), F64(torch.ScalarType.Double);

    final torch.ScalarType type;

    Precision(torch.ScalarType type) {
      this.type = type;
    }
  }

  /**
   * A LoRA adapter set: rank r, alpha (scale alpha / r), targets (TorchLlavaConfig.LORA_* bits) and
   * its weights by PEFT name, exactly those of {@link TorchLlavaConfig#adapterShapes(int, int)}.
   */
  public record Adapter(int rank, float alpha, int targets, Map<String, float[]> weights) {
    public Adapter {
      Objects.requireNonNull(weights, "weights");
      weights = Collections.unmodifiableMap(new LinkedHashMap<>(weights));
    }

    public double scale() {
      return (double) alpha / rank;
    }
  }

  /**
   * One forward's outputs, row-major float copies: logits [B, S, V], hidden [B, S, d], logp [B, S]
   * (null when no targets were given).
   */
  public record Outputs(int batch, int seq, float[] logits, float[] hidden, float[] logp) {}

  private final TorchLlavaConfig c;
  private final Precision precision;
  private final Adapter adapter;
  /** Every leaf by name: base (header order) then adapter (header order). */
  private final Map<String, Tensor> weights = new LinkedHashMap<>();
  private final Map<String, long[]> shapes = new LinkedHashMap<>();
  /** The latest forward's outputs that carry the graph (kept past its PointerScope). */
  private Tensor lastHidden;
  private Tensor lastLogp;
  private boolean graphAlive;
  private boolean closed;

  /**
   * Builds the leaves from {@code base} (every HF name of {@link TorchLlavaConfig#baseShapes()},
   * no other) and the optional {@code adapter} (null: the base alone).
   */
  public TorchLlavaReference(TorchLlavaConfig config, Map<String, float[]> base, Adapter adapter, Precision precision) {
    this.c = Objects.requireNonNull(config, "config");
    this.precision = Objects.requireNonNull(precision, "precision");
    this.adapter = adapter;
    Objects.requireNonNull(base, "base");
    addLeaves("base", config.baseShapes(), base);
    if (adapter != null) {
      addLeaves("adapter", config.adapterShapes(adapter.rank(), adapter.targets()), adapter.weights());
    }
  }

  private void addLeaves(String what, Map<String, long[]> expected, Map<String, float[]> given) {
    for (String name : given.keySet()) {
      if (!expected.containsKey(name)) {
        throw new IllegalArgumentException(what + " weights: unexpected name '" + name + "'");
      }
    }
    for (Map.Entry<String, long[]> e : expected.entrySet()) {
      float[] v = given.get(e.getKey());
      if (v == null) {
        throw new IllegalArgumentException(what + " weights: missing '" + e.getKey() + "'");
      }
      long n = Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
      if (v.length != n) {
        throw new IllegalArgumentException(what + " weights: '" + e.getKey() + "' has " + v.length
            + " values, its shape " + Arrays.toString(e.getValue()) + " needs " + n);
      }
      Tensor t = constant(v, e.getValue());
      t.requires_grad_(true);
      keep(t);
      weights.put(e.getKey(), t);
      shapes.put(e.getKey(), e.getValue());
    }
  }

  public TorchLlavaConfig config() {
    return c;
  }

  public Precision precision() {
    return precision;
  }

  /** The adapter set in use, or null. */
  public Adapter adapter() {
    return adapter;
  }

  /** Every weight's shape by name: base HF names, then adapter PEFT names (immutable). */
  public Map<String, long[]> shapes() {
    return Collections.unmodifiableMap(shapes);
  }

  /**
   * One batch: inputIds B × S (every row the same length S ≤ maxPositions, ids in [0, V)), images
   * Bi·C·H·W row-major (exactly one image per row holding image tokens; null when none does),
   * targets B × S or null. A row holds 0 or exactly P image tokens.
   */
  public Outputs forward(int[][] inputIds, float[] images, int[][] targets) {
    return forward(inputIds, images, targets, true);
  }

  /**
   * {@link #forward(int[][], float[], int[][])}, copying the outputs into Java arrays only when
   * {@code copyOutputs} (else the returned arrays are null): a benchmark of the step then does not
   * time copies the native model's training step does not make.
   */
  public Outputs forward(int[][] inputIds, float[] images, int[][] targets, boolean copyOutputs) {
    checkOpen();
    int[] bs = checkIds("inputIds", inputIds);
    int b = bs[0], s = bs[1];
    if (targets != null) {
      int[] ts = checkIds("targets", targets);
      if (ts[0] != b || ts[1] != s) {
        throw new IllegalArgumentException("targets is " + ts[0] + " x " + ts[1] + ", inputIds " + b + " x " + s);
      }
    }
    int p = c.patches();
    int imageRows = 0;
    for (int r = 0; r < b; r++) {
      int n = 0;
      for (int id : inputIds[r]) {
        n += id == c.imageTokenId ? 1 : 0;
      }
      if (n != 0 && n != p) {
        throw new IllegalArgumentException("inputIds row " + r + " has " + n + " image tokens (id " + c.imageTokenId
            + "); a row holds 0 or exactly P = " + p);
      }
      imageRows += n == 0 ? 0 : 1;
    }
    long imageSize = (long) c.imageChannels * c.imageSize * c.imageSize;
    int bi = images == null ? 0 : (int) (images.length / imageSize);
    if (images != null && images.length % imageSize != 0) {
      throw new IllegalArgumentException("images has " + images.length + " values, not a multiple of C·H·W = " + imageSize);
    }
    if (bi != imageRows) {
      throw new IllegalArgumentException("images holds " + bi + " images but inputIds has " + imageRows + " image rows");
    }
    releaseLast();
    try (PointerScope scope = new PointerScope()) {
      Tensor x = embedAndSplice(inputIds, b, s, bi == 0 ? null : visionAndProjector(images, bi));
      for (int i = 0; i < c.layers; i++) {
        x = decoderBlock(x, i, b, s);
      }
      Tensor hidden = rmsNorm(x, w("language_model.model.norm.weight"));
      Tensor logits = torch.linear(hidden, w("language_model.lm_head.weight"));
      Tensor logp = null;
      if (targets != null) {
        Tensor t = Torch.longTensor(flatLongs(targets), b, s, 1);
        logp = torch.gather(torch.log_softmax(logits, -1), -1, t).squeeze(-1);
      }
      Outputs out = !copyOutputs ? new Outputs(b, s, null, null, null)
          : new Outputs(b, s, Torch.floats(logits), Torch.floats(hidden), logp == null ? null : Torch.floats(logp));
      lastHidden = keep(hidden);
      lastLogp = logp == null ? null : keep(logp);
      graphAlive = true;
      return out;
    }
  }

  /**
   * L = Σ dLogp·logp + Σ dHidden·hidden of the latest forward, in the model's precision (either
   * array may be null; dLogp [B·S], dHidden [B·S·d]). Runs no backward.
   */
  public double loss(float[] dLogp, float[] dHidden) {
    checkOpen();
    try (PointerScope scope = new PointerScope()) {
      return lossTensor(dLogp, dHidden, true).item_double();
    }
  }

  /**
   * Back-propagates L (see {@link #loss}) through the latest forward, overwriting every weight's
   * gradient (weights L does not reach get zero). One backward per forward.
   */
  public void backward(float[] dLogp, float[] dHidden) {
    checkOpen();
    if (!graphAlive) {
      throw new IllegalStateException("backward needs a forward first (one backward per forward)");
    }
    try (PointerScope scope = new PointerScope()) {
      for (Tensor t : weights.values()) {
        Tensor g = t.grad();
        if (!g.isNull() && g.defined()) {
          g.zero_();
        }
      }
      Tensor loss = lossTensor(dLogp, dHidden, false);
      graphAlive = false;
      if (loss.requires_grad()) {
        loss.backward();
      }
    }
  }

  private Tensor lossTensor(float[] dLogp, float[] dHidden, boolean detached) {
    if (lastHidden == null) {
      throw new IllegalStateException("no forward has run");
    }
    long b = lastHidden.size(0), s = lastHidden.size(1);
    Tensor loss = constant(new float[] {0f});
    loss = loss.sum();
    if (dLogp != null) {
      if (lastLogp == null) {
        throw new IllegalArgumentException("dLogp given but the forward had no targets");
      }
      checkLength("dLogp", dLogp, b * s);
      Tensor lp = detached ? lastLogp.detach() : lastLogp;
      loss = loss.add(lp.mul(constant(dLogp, b, s)).sum());
    }
    if (dHidden != null) {
      checkLength("dHidden", dHidden, b * s * c.hidden);
      Tensor h = detached ? lastHidden.detach() : lastHidden;
      loss = loss.add(h.mul(constant(dHidden, b, s, c.hidden)).sum());
    }
    return loss;
  }

  /**
   * The leaf tensor of weight {@code name} itself (requires grad; owned by this reference), for a
   * libtorch optimizer to update in place between steps.
   */
  public Tensor leaf(String name) {
    checkOpen();
    Tensor t = weights.get(name);
    if (t == null) {
      throw new IllegalArgumentException("no weight '" + name + "'");
    }
    return t;
  }

  /** Every weight's gradient after {@link #backward}, by name in {@link #shapes()} order (zeros where none reached). */
  public Map<String, float[]> gradients() {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (String name : weights.keySet()) {
      out.put(name, gradient(name));
    }
    return out;
  }

  /** One weight's gradient (zeros when L does not reach it or before any backward). */
  public float[] gradient(String name) {
    checkOpen();
    Tensor t = weights.get(name);
    if (t == null) {
      throw new IllegalArgumentException("no weight '" + name + "'");
    }
    try (PointerScope scope = new PointerScope()) {
      Tensor g = t.grad();
      return !g.isNull() && g.defined() ? Torch.floats(g) : new float[(int) t.numel()];
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      releaseLast();
      for (Tensor t : weights.values()) {
        t.close();
      }
    }
  }

  // ---- vision tower and projector ----------------------------------------------------------

  /** images [Bi, C, H, W] → projected features [Bi·P, d]. */
  private Tensor visionAndProjector(float[] images, int bi) {
    String v = TorchLlavaConfig.VISION;
    long dv = c.visionHidden;
    int p = c.patchSize;
    Tensor img = constant(images, bi, c.imageChannels, c.imageSize, c.imageSize);
    Tensor patches = torch.conv2d(img, w(v + "embeddings.patch_embedding.weight"), new TensorOptional(),
        new long[] {p, p}, new long[] {0, 0}, new long[] {1, 1}, 1);  // [Bi, Dv, H/p, W/p]
    Tensor tokens = patches.flatten(2, -1).transpose(1, 2);  // [Bi, P, Dv], patch index = row·(W/p) + col
    Tensor cls = w(v + "embeddings.class_embedding").reshape(1, 1, dv).expand(bi, 1, dv);
    Tensor x = torch.cat(new TensorVector(cls, tokens), 1)
        .add(w(v + "embeddings.position_embedding.weight").unsqueeze(0));
    x = layerNorm(x, v + "pre_layrnorm");  // hidden_states[0]
    for (int i = 0; i < c.visionBlocksRun(); i++) {
      x = visionBlock(x, v + "encoder.layers." + i + ".");
    }
    Tensor features = x.narrow(1, 1, c.patches()).reshape(-1, dv);  // class token dropped
    String m = TorchLlavaConfig.PROJECTOR;
    Tensor y = projection(features, m + "linear_1", true, TorchLlavaConfig.LORA_PROJECTOR);
    if (c.projector == Projector.MLP2X_GELU) {
      y = projection(torch.gelu(y, "none"), m + "linear_2", true, TorchLlavaConfig.LORA_PROJECTOR);
    }
    return y;
  }

  /** CLIP encoder layer (pre-LN): x += out(attn(LN1 x)); x += fc2(gelu(fc1(LN2 x))). */
  private Tensor visionBlock(Tensor x, String l) {
    Tensor h = layerNorm(x, l + "layer_norm1");
    Tensor q = projection(h, l + "self_attn.q_proj", true, 0);
    Tensor k = projection(h, l + "self_attn.k_proj", true, 0);
    Tensor val = projection(h, l + "self_attn.v_proj", true, 0);
    int heads = c.visionHeads;
    Tensor a = attend(splitHeads(q, heads), splitHeads(k, heads), splitHeads(val, heads), false);
    x = x.add(projection(a, l + "self_attn.out_proj", true, 0));
    h = layerNorm(x, l + "layer_norm2");
    h = projection(torch.gelu(projection(h, l + "mlp.fc1", true, 0), "none"), l + "mlp.fc2", true, 0);
    return x.add(h);
  }

  // ---- decoder ------------------------------------------------------------------------------

  /** embed_tokens[ids] with image positions replaced by features (in batch order): [B, S, d]. */
  private Tensor embedAndSplice(int[][] ids, int b, int s, Tensor features) {
    Tensor e = torch.embedding(w("language_model.model.embed_tokens.weight"), Torch.longTensor(flatLongs(ids), b, s));
    if (features == null) {
      return e;
    }
    long[] featureRow = new long[b * s];  // which feature row each position takes (0 for text: masked away)
    float[] isText = new float[b * s];
    float[] isImage = new float[b * s];
    int k = 0;
    for (int r = 0; r < b; r++) {
      for (int t = 0; t < s; t++) {
        boolean image = ids[r][t] == c.imageTokenId;
        featureRow[r * s + t] = image ? k++ : 0;
        isText[r * s + t] = image ? 0f : 1f;
        isImage[r * s + t] = image ? 1f : 0f;
      }
    }
    Tensor picked = features.index_select(0, Torch.longTensor(featureRow, b * s));  // [B·S, d]
    Tensor flat = e.reshape(b * s, c.hidden);
    return flat.mul(constant(isText, b * s, 1)).add(picked.mul(constant(isImage, b * s, 1))).reshape(b, s, c.hidden);
  }

  /** LLaMA layer: x += o(attn_causal(rope q, rope k, v)(RMS1 x)); x += down(silu(gate h) · up h), h = RMS2 x. */
  private Tensor decoderBlock(Tensor x, int i, int b, int s) {
    String l = TorchLlavaConfig.DECODER + "layers." + i + ".";
    Tensor h = rmsNorm(x, w(l + "input_layernorm.weight"));
    Tensor q = splitHeads(projection(h, l + "self_attn.q_proj", false, TorchLlavaConfig.LORA_Q), c.heads);
    Tensor k = splitHeads(projection(h, l + "self_attn.k_proj", false, TorchLlavaConfig.LORA_K), c.heads);
    Tensor v = splitHeads(projection(h, l + "self_attn.v_proj", false, TorchLlavaConfig.LORA_V), c.heads);
    Tensor[] cosSin = ropeTables(s, c.hidden / c.heads);
    Tensor a = attend(rope(q, cosSin), rope(k, cosSin), v, true);
    x = x.add(projection(a, l + "self_attn.o_proj", false, TorchLlavaConfig.LORA_O));
    h = rmsNorm(x, w(l + "post_attention_layernorm.weight"));
    Tensor gate = projection(h, l + "mlp.gate_proj", false, TorchLlavaConfig.LORA_GATE);
    Tensor up = projection(h, l + "mlp.up_proj", false, TorchLlavaConfig.LORA_UP);
    return x.add(projection(torch.silu(gate).mul(up), l + "mlp.down_proj", false, TorchLlavaConfig.LORA_DOWN));
  }

  /** cos and sin [1, 1, S, dh]: angle(t, j) = t · theta^(−2(j mod dh/2)/dh), HF's cat(freqs, freqs). */
  private Tensor[] ropeTables(int s, int dh) {
    float[] cos = new float[s * dh];
    float[] sin = new float[s * dh];
    double[] cosD = new double[s * dh];
    double[] sinD = new double[s * dh];
    for (int t = 0; t < s; t++) {
      for (int j = 0; j < dh; j++) {
        double angle = t / Math.pow(c.ropeTheta, 2.0 * (j % (dh / 2)) / dh);
        cosD[t * dh + j] = Math.cos(angle);
        sinD[t * dh + j] = Math.sin(angle);
        cos[t * dh + j] = (float) cosD[t * dh + j];
        sin[t * dh + j] = (float) sinD[t * dh + j];
      }
    }
    if (precision == Precision.F64) {
      return new Tensor[] {Tensor.create(cosD, 1, 1, s, dh), Tensor.create(sinD, 1, 1, s, dh)};
    }
    return new Tensor[] {Tensor.create(cos, 1, 1, s, dh), Tensor.create(sin, 1, 1, s, dh)};
  }

  /** x [N, H, S, dh] → x·cos + rotate_half(x)·sin, rotate_half(x) = cat(−x2, x1). */
  private static Tensor rope(Tensor x, Tensor[] cosSin) {
    long half = x.size(3) / 2;
    Tensor rotated = torch.cat(new TensorVector(x.narrow(3, half, half).neg(), x.narrow(3, 0, half)), 3);
    return x.mul(cosSin[0]).add(rotated.mul(cosSin[1]));
  }

  // ---- shared pieces ------------------------------------------------------------------------

  /** y = x Wᵀ (+ b) (+ (alpha/r)·(x Aᵀ) Bᵀ when the adapter targets this projection's bit). */
  private Tensor projection(Tensor x, String module, boolean bias, int loraBit) {
    Tensor y = bias ? torch.linear(x, w(module + ".weight"), new TensorOptional(w(module + ".bias")))
        : torch.linear(x, w(module + ".weight"));
    if (adapter != null && (adapter.targets() & loraBit) != 0) {
      Tensor low = torch.linear(torch.linear(x, w(TorchLlavaConfig.loraA(module))), w(TorchLlavaConfig.loraB(module)));
      y = y.add(low.mul(new Scalar(adapter.scale())));
    }
    return y;
  }

  /** [N, T, D] → [N, heads, T, D / heads]. */
  private static Tensor splitHeads(Tensor x, int heads) {
    return x.reshape(x.size(0), x.size(1), heads, x.size(2) / heads).transpose(1, 2);
  }

  /** softmax(q kᵀ / √dh (+ causal −inf above the diagonal)) v, heads merged back: [N, T, D]. */
  private Tensor attend(Tensor q, Tensor k, Tensor v, boolean causal) {
    long n = q.size(0), heads = q.size(1), t = q.size(2), dh = q.size(3);
    Tensor scores = torch.matmul(q, k.transpose(-2, -1)).mul(new Scalar(1.0 / Math.sqrt(dh)));
    if (causal) {
      boolean[] future = new boolean[(int) (t * t)];
      for (int i = 0; i < t; i++) {
        for (int j = i + 1; j < t; j++) {
          future[(int) (i * t + j)] = true;
        }
      }
      scores = scores.masked_fill(Tensor.create(future, t, t), new Scalar(Double.NEGATIVE_INFINITY));
    }
    return torch.matmul(scores.softmax(-1), v).transpose(1, 2).reshape(n, t, heads * dh);
  }

  private Tensor layerNorm(Tensor x, String module) {
    return torch.layer_norm(x, new long[] {x.size(-1)}, new TensorOptional(w(module + ".weight")),
        new TensorOptional(w(module + ".bias")), c.visionLayerNormEps, false);
  }

  /** x · rsqrt(mean(x², last dim) + eps) · w. */
  private Tensor rmsNorm(Tensor x, Tensor weight) {
    Tensor r = x.mul(x).mean(new long[] {-1}, true, new ScalarTypeOptional()).add(new Scalar((double) c.rmsNormEps)).rsqrt();
    return x.mul(r).mul(weight);
  }

  private Tensor w(String name) {
    Tensor t = weights.get(name);
    if (t == null) {
      throw new IllegalStateException("no weight '" + name + "'");
    }
    return t;
  }

  /** A tensor of the model's precision holding {@code v} (no grad). */
  private Tensor constant(float[] v, long... shape) {
    if (precision == Precision.F64) {
      double[] d = new double[v.length];
      for (int i = 0; i < v.length; i++) {
        d[i] = v[i];
      }
      return Tensor.create(d, shape.length == 0 ? new long[] {v.length} : shape);
    }
    return Tensor.create(v, shape.length == 0 ? new long[] {v.length} : shape);
  }

  /**
   * Keeps {@code t} alive past the PointerScope it was made in (one more reference, released by
   * {@code close()}). PointerScope.detach would not do: it releases the scope's reference, which
   * frees a pointer that has no other.
   */
  private static Tensor keep(Tensor t) {
    t.retainReference();
    return t;
  }

  private void releaseLast() {
    if (lastHidden != null) {
      lastHidden.close();
      lastHidden = null;
    }
    if (lastLogp != null) {
      lastLogp.close();
      lastLogp = null;
    }
    graphAlive = false;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("TorchLlavaReference is closed");
    }
  }

  /** Checks a B × S id matrix (rectangular, S ≤ maxPositions, values in [0, V)); returns {B, S}. */
  private int[] checkIds(String what, int[][] ids) {
    Objects.requireNonNull(ids, what);
    if (ids.length == 0 || ids[0] == null || ids[0].length == 0) {
      throw new IllegalArgumentException(what + " must be a non-empty B x S matrix");
    }
    int s = ids[0].length;
    if (s > c.maxPositions) {
      throw new IllegalArgumentException(what + " has S = " + s + " > maxPositions " + c.maxPositions);
    }
    for (int r = 0; r < ids.length; r++) {
      if (ids[r] == null || ids[r].length != s) {
        throw new IllegalArgumentException(what + " row " + r + " is not of length S = " + s);
      }
      for (int t = 0; t < s; t++) {
        if (ids[r][t] < 0 || ids[r][t] >= c.vocabSize) {
          throw new IllegalArgumentException(what + "[" + r + "][" + t + "] = " + ids[r][t] + " is outside [0, "
              + c.vocabSize + ")");
        }
      }
    }
    return new int[] {ids.length, s};
  }

  private static void checkLength(String what, float[] v, long n) {
    if (v.length != n) {
      throw new IllegalArgumentException(what + " has " + v.length + " values, the forward's outputs need " + n);
    }
  }

  private static long[] flatLongs(int[][] m) {
    long[] out = new long[m.length * m[0].length];
    int i = 0;
    for (int[] row : m) {
      for (int v : row) {
        out[i++] = v;
      }
    }
    return out;
  }

  // ---- test weights and files ---------------------------------------------------------------

  /**
   * Deterministic random base weights for {@code config} from {@code seed}: norm weights 1 + U(±0.1),
   * biases and norm biases U(±0.05), embeddings, positions and the class token U(±0.5), every other
   * matrix U(±1/√fan_in) — activations stay O(1) through a few layers.
   */
  public static Map<String, float[]> randomBase(TorchLlavaConfig config, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : config.baseShapes().entrySet()) {
      String name = e.getKey();
      long[] shape = e.getValue();
      int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
      boolean norm = name.contains("norm") || name.contains("layrnorm");
      double center;
      double scale;
      if (norm && name.endsWith(".weight")) {
        center = 1;
        scale = 0.1;
      } else if (name.endsWith(".bias")) {
        center = 0;
        scale = 0.05;
      } else if (name.contains("embed") || name.contains("position") || name.endsWith("class_embedding")) {
        center = 0;
        scale = name.endsWith("patch_embedding.weight") ? 1 / Math.sqrt((double) n / shape[0]) : 0.5;
      } else {
        center = 0;
        scale = 1 / Math.sqrt(shape[shape.length - 1]);
      }
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        v[i] = (float) (center + (rng.nextDouble() * 2 - 1) * scale);
      }
      out.put(name, v);
    }
    return out;
  }

  /**
   * A deterministic random adapter set: A ~ U(±1/√in) as PEFT initialises it, and B ~ U(±0.2) —
   * non-zero, unlike a fresh PEFT set, so that the adapter changes the outputs and gets gradients
   * through both halves.
   */
  public static Adapter randomAdapter(TorchLlavaConfig config, int rank, float alpha, int targets, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : config.adapterShapes(rank, targets).entrySet()) {
      long[] shape = e.getValue();
      int n = (int) (shape[0] * shape[1]);
      double scale = e.getKey().endsWith(".lora_A.weight") ? 1 / Math.sqrt(shape[1]) : 0.2;
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        v[i] = (float) ((rng.nextDouble() * 2 - 1) * scale);
      }
      out.put(e.getKey(), v);
    }
    return new Adapter(rank, alpha, targets, out);
  }

  /**
   * Writes {@code values} (in map order) with their {@code shapes} to a safetensors file as F32
   * (replacing {@code file}), through the engine's {@link SafeTensors} writer: the same weights can
   * then be loaded into the native model by file. Names must match between the two maps.
   */
  public static void writeSafeTensors(Path file, Map<String, float[]> values, Map<String, long[]> shapes) {
    Objects.requireNonNull(file, "file");
    if (!values.keySet().equals(shapes.keySet())) {
      throw new IllegalArgumentException("values and shapes name different tensors");
    }
    try (Device cpu = Device.cpu()) {
      List<org.factrl.engine.Tensor> opened = new ArrayList<>();
      try {
        Map<String, org.factrl.engine.Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : values.entrySet()) {
          org.factrl.engine.Tensor t = cpu.fromFloats(e.getValue(), shapes.get(e.getKey()));
          opened.add(t);
          tensors.put(e.getKey(), t);
        }
        SafeTensors.write(file, tensors, Map.of(), IfExists.REPLACE);
      } finally {
        for (org.factrl.engine.Tensor t : opened) {
          t.close();
        }
      }
    }
  }

  /**
   * Writes {@code adapter} as a PEFT adapter folder ({@code adapter_model.safetensors} + {@code
   * adapter_config.json}, through the engine's {@link PeftAdapter} writer, replacing what is there):
   * target_modules are the projections' short names (q_proj, ..., down_proj, and linear_1 /
   * linear_2 for the projector), lora_alpha and r as given.
   */
  public static void writePeftAdapter(Path dir, TorchLlavaConfig config, Adapter adapter) {
    Objects.requireNonNull(dir, "dir");
    Map<String, long[]> shapes = config.adapterShapes(adapter.rank(), adapter.targets());
    if (!shapes.keySet().equals(adapter.weights().keySet())) {
      throw new IllegalArgumentException("adapter weights do not match rank " + adapter.rank() + " and targets "
          + adapter.targets());
    }
    List<String> targetModules = new ArrayList<>();
    String[] shortNames = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
    for (int t = 0; t < shortNames.length; t++) {
      if ((adapter.targets() & (1 << t)) != 0) {
        targetModules.add(shortNames[t]);
      }
    }
    if ((adapter.targets() & TorchLlavaConfig.LORA_PROJECTOR) != 0) {
      targetModules.add("linear_1");
      if (config.projector == Projector.MLP2X_GELU) {
        targetModules.add("linear_2");
      }
    }
    String prefix = TorchLlavaConfig.PEFT_PREFIX;
    String aSuffix = ".lora_A.weight";
    try (Device cpu = Device.cpu()) {
      List<org.factrl.engine.Tensor> opened = new ArrayList<>();
      try {
        Map<String, PeftAdapter.Pair> modules = new LinkedHashMap<>();
        for (String name : shapes.keySet()) {
          if (name.endsWith(aSuffix)) {
            String module = name.substring(prefix.length(), name.length() - aSuffix.length());
            String bName = TorchLlavaConfig.loraB(module);
            org.factrl.engine.Tensor a = cpu.fromFloats(adapter.weights().get(name), shapes.get(name));
            opened.add(a);
            org.factrl.engine.Tensor b = cpu.fromFloats(adapter.weights().get(bName), shapes.get(bName));
            opened.add(b);
            modules.put(module, new PeftAdapter.Pair(a, b));
          }
        }
        PeftAdapter.write(dir, LoraAdapterConfig.of(adapter.rank(), adapter.alpha(), targetModules), modules,
            IfExists.REPLACE);
      } finally {
        for (org.factrl.engine.Tensor t : opened) {
          t.close();
        }
      }
    }
  }
}

package org.factrl.ppo;

import com.google.gson.JsonObject;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.StrictJson;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;
import org.factrl.kernels.Gae;
import org.factrl.kernels.GaeOptions;
import org.factrl.kernels.GradMode;
import org.factrl.kernels.TensorOps;
import org.factrl.kernels.TokenLogProbs;
import org.factrl.model.GenerateConfig;
import org.factrl.model.Generator;
import org.factrl.model.HeadKind;
import org.factrl.model.KvCache;
import org.factrl.model.LlavaModel;
import org.factrl.model.MemoryReport;
import org.factrl.model.TrainableGrads;
import org.factrl.model.TrainableSet;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;
import org.factrl.train.AdamW;
import org.factrl.train.AdamWConfig;
import org.factrl.train.LearningRateSchedule;
import org.factrl.train.SplitMix64;

/**
 * PPO over the four roles on ONE {@link LlavaModel} (DESIGN.md §4 item 3): policy = base +
 * adapter {@value #POLICY}, reference = the base with no adapter (no copy), reward = the
 * {@link SequenceScorer} (a frozen RM adapter + head on the same base), value = adapter
 * {@value #VALUE} + value head {@value #VALUE_HEAD}.
 *
 * <p>One {@link #step}: sample a response per prompt (temperature / top-p, seed from the step) →
 * a scoring forward under the policy and under the base, whose logits go through the
 * {@link TokenLogProbs} kernel (old log-probs, reference log-probs, entropy) → values (value head
 * over the hidden states; V_t is read at the position before response token t) → rewards
 * ({@link PpoMath}: −β·kl per token, the sequence score on the last token) → {@link Gae} (advantages
 * whitened over valid tokens) → for each epoch, for each minibatch of a seeded shuffle: policy
 * forward + clipped surrogate, backward from d logp into the policy adapter; value pass + clipped
 * value loss × vf_coef, backward through the value head into the value adapter; one AdamW step over
 * policy LoRA + value LoRA + value head (global-norm clip). Everything is seeded from
 * (config seed, step): the same state and step give bitwise the same update on the CPU.
 */
public final class PpoTrainer implements AutoCloseable {
  public static final String POLICY = "ppo";
  public static final String VALUE = "value";
  public static final String VALUE_HEAD = "value";
  public static final String OPTIMIZER_FILE = "optimizer.safetensors";
  public static final String VALUE_OPTIMIZER_FILE = "value_optimizer.safetensors";
  public static final String STATE_FILE = "ppo_state.json";
  public static final String VALUE_HEAD_FILE = "value_head.safetensors";

  private final LlavaModel model;
  private final PpoConfig config;
  private final SequenceScorer scorer;
  private final Function<int[], String> decoder;
  private final ResponseJudge judge;
  private final int eosId;
  private final int padId;
  private final Generator generator;
  private final KvCache cache;
  private final TrainableGrads policyGrads;
  private final TrainableGrads valueGrads;
  // One AdamW update over policy LoRA + value LoRA + value head, held as two state sets because
  // both adapters carry the same PEFT names (AdamW's state names must be unique); the global-norm
  // clip is taken over both together (clipStep), so the update equals one optimizer's.
  private final AdamW adamw;
  private final AdamW valueAdamw;
  private final KlMonitor klMonitor;
  private KlMonitor.Verdict lastKl;
  private double beta;
  private long step;

  /**
   * Adds the policy adapter, the value adapter and the value head when the model does not hold them
   * yet (fresh: LoRA B = 0, head zero; see {@link #initValueFrom} and {@link #loadRoles}), plans the
   * model for the step's shapes and makes the gradients and the optimizer.
   *
   * @param decoder response ids → text, for the symbolic rewards (null when they are off)
   */
  public PpoTrainer(LlavaModel model, PpoConfig config, SequenceScorer scorer, Function<int[], String> decoder,
      int eosId, int padId) {
    this(model, config, scorer, decoder, null, eosId, padId);
  }

  /**
   * As above, with a monitor: {@code judge} (may be null) judges every rollout's decoded response,
   * and each step's metrics carry how many were judged and the hallucinating share. It reads the
   * responses only: rewards, updates and random streams are the same with or without it.
   */
  public PpoTrainer(LlavaModel model, PpoConfig config, SequenceScorer scorer, Function<int[], String> decoder,
      ResponseJudge judge, int eosId, int padId) {
    this.model = java.util.Objects.requireNonNull(model, "model");
    this.config = java.util.Objects.requireNonNull(config, "config");
    this.scorer = java.util.Objects.requireNonNull(scorer, "scorer");
    if (config.symbolicRewards() && decoder == null) {
      throw new FactRlException("argument 'decoder': symbolic rewards are on but no decoder was given");
    }
    if (judge != null && decoder == null) {
      throw new FactRlException("argument 'decoder': a response judge was given but no decoder to read responses");
    }
    this.decoder = decoder;
    this.judge = judge;
    this.eosId = eosId;
    this.padId = padId;
    int maxSeq = config.maxPromptTokens() + config.maxResponseTokens();
    if (maxSeq > model.config().maxPositions()) {
      throw new FactRlException("key 'max_prompt_tokens' + 'max_response_tokens' is " + maxSeq
          + ", above the model's max_positions " + model.config().maxPositions());
    }
    if (!model.adapterNames().contains(POLICY)) {
      model.addAdapter(POLICY, config.loraSpec(), SplitMix64.mix(config.seed() ^ 0x501L));
    }
    if (!model.adapterNames().contains(VALUE)) {
      model.addAdapter(VALUE, config.loraSpec(), SplitMix64.mix(config.seed() ^ 0x7a1L));
    }
    if (!model.headNames().contains(VALUE_HEAD)) {
      model.addHead(VALUE_HEAD, HeadKind.VALUE);
    }
    int b = config.rolloutsPerStep();
    // One plan for every role's pass: rollouts and training at [b, maxSeq], the RM's (longer, with
    // facts) input at [b, scorer.maxLength()].
    model.plan(b, Math.max(maxSeq, Math.min(scorer.maxLength(), model.config().maxPositions())), b, true);
    this.generator = new Generator(model);
    this.cache = KvCache.create(model, b, maxSeq);
    this.policyGrads = TrainableGrads.allocate(model, TrainableSet.LORA, POLICY, null);
    this.valueGrads = TrainableGrads.allocate(model, TrainableSet.LORA_AND_HEAD, VALUE, VALUE_HEAD);
    long updates = config.steps() * updatesPerStep();
    long warmup = Math.min(updates, config.warmupSteps() * updatesPerStep());
    AdamWConfig ac = AdamWConfig.builder()
        .schedule(LearningRateSchedule.warmupCosine(config.lr(), warmup, updates, config.minLrRatio()))
        .weightDecay(config.weightDecay()).maxGradNorm(0).build(); // clipped here, over both roles' grads
    this.adamw = AdamW.over(ac, policyGrads.trainables());
    this.valueAdamw = AdamW.over(ac, valueGrads.trainables());
    this.beta = config.beta();
    this.klMonitor = KlMonitor.of(config);
  }

  /** Optimizer updates per PPO step: epochs × minibatches. */
  public long updatesPerStep() {
    return (long) config.epochs() * ((config.rolloutsPerStep() + config.minibatch() - 1) / config.minibatch());
  }

  /** Copies an RM adapter's weights into the value adapter (the recipe's value start); same spec required. */
  public static void initValueFrom(LlavaModel model, String rmAdapter, PpoConfig config) {
    if (!model.adapterNames().contains(VALUE)) {
      model.addAdapter(VALUE, model.adapterSpec(rmAdapter), 0);
    }
    var src = model.adapter(rmAdapter);
    var dst = model.adapter(VALUE);
    if (!src.names().equals(dst.names())) {
      throw new FactRlException("argument 'rmAdapter': adapter " + rmAdapter + " does not match the value adapter's layout");
    }
    for (String n : src.names()) {
      dst.tensor(n).copyFrom(src.tensor(n));
    }
  }

  /** The memory plan of the four roles over the one base. */
  public MemoryReport memoryReport() {
    return MemoryReport.builder(model)
        .grads("policy", policyGrads).grads("value", valueGrads)
        .optimizer("policy adamw", adamw).optimizer("value adamw", valueAdamw)
        .kvCache("rollouts", cache.bytes())
        .role("policy", POLICY, null, TrainableSet.LORA)
        .role("reference", null, null, null)
        .role("reward", scorer.rewardAdapter(), scorer.rewardHead(), null)
        .role("value", VALUE, VALUE_HEAD, TrainableSet.LORA_AND_HEAD)
        .build();
  }

  public long completedSteps() {
    return step;
  }

  public double beta() {
    return beta;
  }

  /** The KL monitor's verdict on the last step (null before the first). */
  public KlMonitor.Verdict lastKlVerdict() {
    return lastKl;
  }

  public KlMonitor klMonitor() {
    return klMonitor;
  }

  // ---- one step ------------------------------------------------------------------------------

  /** The rollouts of a step as host arrays, positions into the full sequences. */
  private static final class Batch {
    int rows;
    int seq;
    int[] promptLen;
    int[] respLen;
    int[][] resp;
    boolean[] eos;
    int[] ids;      // [rows, seq]
    int[] targets;  // [rows, seq]
  }

  /** Runs PPO step {@link #completedSteps()} + 1 on {@code prompts} (rollouts_per_step of them). */
  public PpoStepMetrics step(List<PpoPrompt> prompts) {
    long t0 = System.nanoTime();
    int b = config.rolloutsPerStep();
    if (prompts.size() != b) {
      throw new FactRlException("argument 'prompts': " + prompts.size() + " prompts, rollouts_per_step is " + b);
    }
    long s = step + 1;
    Device dev = model.device();
    int t = config.maxResponseTokens();
    Batch bt = rollouts(prompts, s);
    // ---- old log-probs, reference log-probs, entropy, values --------------------------------
    int[][] mask = new int[b][t];
    for (int r = 0; r < b; r++) {
      for (int i = 0; i < bt.respLen[r]; i++) {
        mask[r][i] = 1;
      }
    }
    float[][] oldLp = new float[b][t];
    float[][] refLp = new float[b][t];
    float[][] ent = new float[b][t];
    float[][] oldV = new float[b][t];
    int v = model.config().vocabSize();
    int[] posMask = new int[b * bt.seq];
    for (int r = 0; r < b; r++) {
      for (int i = 0; i < bt.respLen[r]; i++) {
        posMask[r * bt.seq + bt.promptLen[r] - 1 + i] = 1;
      }
    }
    try (Tensor ids = dev.fromInts(bt.ids, b, bt.seq); Tensor tg = dev.fromInts(bt.targets, b, bt.seq);
        Tensor images = images(prompts, allRows(b));
        Tensor polLogits = dev.zeros(DType.F32, b, bt.seq, v); Tensor refLogits = dev.zeros(DType.F32, b, bt.seq, v);
        Tensor pm = dev.fromInts(posMask, (long) b * bt.seq);
        Tensor flatTg = tg.view((long) b * bt.seq)) {
      LlavaModel.Inputs in = new LlavaModel.Inputs(ids, images, tg);
      model.forward(POLICY, in, LlavaModel.Outputs.logits(polLogits), false);
      model.forward(null, in, LlavaModel.Outputs.logits(refLogits), false);
      try (Tensor pl = polLogits.view((long) b * bt.seq, v); Tensor rl = refLogits.view((long) b * bt.seq, v);
          TokenLogProbs.Outputs o = TokenLogProbs.compute(pl, rl, flatTg, pm, TokenLogProbs.Quantity.LOGP_POLICY,
              TokenLogProbs.Quantity.LOGP_REF, TokenLogProbs.Quantity.ENTROPY)) {
        float[] lp = o.floats(TokenLogProbs.Quantity.LOGP_POLICY);
        float[] lr = o.floats(TokenLogProbs.Quantity.LOGP_REF);
        float[] en = o.floats(TokenLogProbs.Quantity.ENTROPY);
        gather(lp, bt, oldLp);
        gather(lr, bt, refLp);
        gather(en, bt, ent);
      }
      try (Tensor vals = model.values(VALUE, VALUE_HEAD, new LlavaModel.Inputs(ids, images, null), null, false)) {
        gather(vals.toFloatArray(), bt, oldV);
      }
    }
    // ---- rewards -------------------------------------------------------------------------------
    List<Rollout> rolls = new ArrayList<>(b);
    for (int r = 0; r < b; r++) {
      rolls.add(new Rollout(prompts.get(r), bt.resp[r], bt.eos[r]));
    }
    double[] rm = scorer.score(rolls);
    if (rm.length != b) {
      throw new FactRlException("scorer: returned " + rm.length + " scores for " + b + " rollouts");
    }
    // Decoded once, for the symbolic rewards and the monitor alike.
    List<String> text = null;
    if (decoder != null && (config.symbolicRewards() || judge != null)) {
      text = new ArrayList<>(b);
      for (int r = 0; r < b; r++) {
        text.add(decoder.apply(bt.resp[r]));
      }
    }
    double[] score = new double[b];
    float[][] kl = new float[b][t];
    double[] klSum = new double[b];
    for (int r = 0; r < b; r++) {
      double sym = config.symbolicRewards()
          ? PpoMath.symbolicReward(prompts.get(r).answer(), text.get(r), bt.respLen[r],
              config.maxResponseTokens(), bt.eos[r], config.symbolicWeights())
          : 0.0;
      score[r] = PpoMath.sequenceScore(rm[r], config.rewardScale(), sym, config.rewardClip());
      for (int i = 0; i < bt.respLen[r]; i++) {
        kl[r][i] = (float) PpoMath.kl(config.klEstimator(), oldLp[r][i], refLp[r][i], config.klClamp());
        klSum[r] += kl[r][i];
      }
    }
    float[][] rewards = PpoMath.tokenRewards(kl, mask, beta, score);
    float[][] adv = new float[b][t];
    float[][] ret = new float[b][t];
    try (Tensor rw = dev.fromFloats(flat(rewards), b, t); Tensor vt = dev.fromFloats(flat(oldV), b, t);
        Tensor mk = dev.fromInts(flat(mask), b, t); Tensor at = dev.zeros(DType.F32, b, t);
        Tensor rt = dev.zeros(DType.F32, b, t)) {
      if (config.whitenRewards()) {
        Gae.maskedWhiten(rw, mk, false, 1e-8f, rw);
      }
      Gae.compute(rw, vt, mk, GaeOptions.builder().gamma(config.gamma()).lambda(config.lambda()).whiten(true).build(),
          at, rt);
      unflat(at.toFloatArray(), adv);
      unflat(rt.toFloatArray(), ret);
    }
    // ---- PPO epochs ----------------------------------------------------------------------------
    SplitMix64 rng = new SplitMix64(SplitMix64.mix(config.seed() * 0x9E3779B97F4A7C15L + s));
    double pSum = 0;
    double vSum = 0;
    double clipSum = 0;
    int updates = 0;
    for (int e = 0; e < config.epochs(); e++) {
      int[] perm = allRows(b);
      for (int i = b - 1; i > 0; i--) {
        int j = rng.nextInt(i + 1);
        int x = perm[i];
        perm[i] = perm[j];
        perm[j] = x;
      }
      for (int start = 0; start < b; start += config.minibatch()) {
        int[] rows = java.util.Arrays.copyOfRange(perm, start, Math.min(b, start + config.minibatch()));
        double[] l = update(prompts, bt, rows, oldLp, oldV, adv, ret, mask);
        pSum += l[0];
        vSum += l[1];
        clipSum += l[2];
        updates++;
      }
    }
    step = s;
    // ---- metrics -------------------------------------------------------------------------------
    double[] total = new double[b];
    double[] len = new double[b];
    for (int r = 0; r < b; r++) {
      total[r] = score[r] - beta * klSum[r];
      len[r] = bt.respLen[r];
    }
    double meanKl = mean(klSum);
    lastKl = klMonitor.observe(meanKl);
    ResponseJudge.Summary judged = judge == null ? ResponseJudge.Summary.NONE
        : ResponseJudge.Summary.over(judge, prompts, text);
    PpoStepMetrics m = new PpoStepMetrics(s, mean(total), mean(score), mean(rm), meanKl, mean(len),
        PpoMath.maskedMean(ent, mask), clipSum / updates, vSum / updates, pSum / updates, PpoMath.noEosShare(bt.eos),
        PpoMath.correlation(total, len), lastKl.blowUp(), lastKl.growth(), beta, (System.nanoTime() - t0) / 1e9,
        judged.judged(), judged.hallucinationRate(), judged.informative());
    if (config.adaptiveKl()) {
      beta = PpoMath.adaptiveBeta(beta, meanKl, config.klTarget(), b, config.klHorizon());
    }
    return m;
  }

  private Batch rollouts(List<PpoPrompt> prompts, long s) {
    int b = prompts.size();
    int t = config.maxResponseTokens();
    Batch bt = new Batch();
    bt.rows = b;
    bt.promptLen = new int[b];
    int sp = 0;
    for (int r = 0; r < b; r++) {
      int n = prompts.get(r).tokens().length;
      if (n > config.maxPromptTokens()) {
        throw new FactRlException("prompt " + prompts.get(r).id() + ": " + n + " tokens, above key 'max_prompt_tokens' "
            + config.maxPromptTokens());
      }
      bt.promptLen[r] = n;
      sp = Math.max(sp, n);
    }
    int[] pids = new int[b * sp];
    java.util.Arrays.fill(pids, padId);
    for (int r = 0; r < b; r++) {
      System.arraycopy(prompts.get(r).tokens(), 0, pids, r * sp, bt.promptLen[r]);
    }
    GenerateConfig gc = GenerateConfig.builder().maxNewTokens(t).temperature(config.temperature())
        .topP(config.topP()).eosTokenId(eosId).padTokenId(padId)
        .seed(SplitMix64.mix(config.seed() ^ (s * 0xC2B2AE3D27D4EB4FL))).build();
    Generator.Generation g;
    try (Tensor ids = model.device().fromInts(pids, b, sp); Tensor images = images(prompts, allRows(b))) {
      g = generator.generate(POLICY, cache, new LlavaModel.Inputs(ids, images, null), bt.promptLen, gc);
    }
    bt.respLen = g.lengths();
    bt.resp = new int[b][];
    bt.eos = new boolean[b];
    int seq = 0;
    int imageToken = model.config().imageTokenId();
    for (int r = 0; r < b; r++) {
      // A sampled <image> placeholder cannot be read back as text (a row holds 0 or P of them):
      // it ends the response there, which then counts as cut off (no EOS). Earlier tokens'
      // log-probs are unchanged (causal), so old and new log-probs still agree.
      for (int i = 0; i < bt.respLen[r]; i++) {
        if (g.tokens()[r][i] == imageToken) {
          bt.respLen[r] = i;
          break;
        }
      }
      bt.resp[r] = java.util.Arrays.copyOf(g.tokens()[r], bt.respLen[r]);
      bt.eos[r] = bt.respLen[r] > 0 && bt.resp[r][bt.respLen[r] - 1] == eosId;
      seq = Math.max(seq, bt.promptLen[r] + bt.respLen[r]);
    }
    bt.seq = seq;
    bt.ids = new int[b * seq];
    bt.targets = new int[b * seq];
    java.util.Arrays.fill(bt.ids, padId);
    java.util.Arrays.fill(bt.targets, padId);
    for (int r = 0; r < b; r++) {
      int lp = bt.promptLen[r];
      System.arraycopy(prompts.get(r).tokens(), 0, bt.ids, r * seq, lp);
      System.arraycopy(bt.resp[r], 0, bt.ids, r * seq + lp, bt.respLen[r]);
      for (int i = 0; i + 1 < lp + bt.respLen[r]; i++) {
        bt.targets[r * seq + i] = bt.ids[r * seq + i + 1];
      }
    }
    return bt;
  }

  /** One minibatch update; returns {policy loss, value loss, clip fraction}. */
  private double[] update(List<PpoPrompt> prompts, Batch bt, int[] rows, float[][] oldLp, float[][] oldV,
      float[][] adv, float[][] ret, int[][] mask) {
    Device dev = model.device();
    int n = rows.length;
    int seq = bt.seq;
    int t = config.maxResponseTokens();
    int[] ids = new int[n * seq];
    int[] tg = new int[n * seq];
    Batch sub = new Batch();
    sub.seq = seq;
    sub.rows = n;
    sub.promptLen = new int[n];
    sub.respLen = new int[n];
    float[][] o = new float[n][];
    float[][] ov = new float[n][];
    float[][] a = new float[n][];
    float[][] rt = new float[n][];
    int[][] mk = new int[n][];
    for (int i = 0; i < n; i++) {
      int r = rows[i];
      System.arraycopy(bt.ids, r * seq, ids, i * seq, seq);
      System.arraycopy(bt.targets, r * seq, tg, i * seq, seq);
      sub.promptLen[i] = bt.promptLen[r];
      sub.respLen[i] = bt.respLen[r];
      o[i] = oldLp[r];
      ov[i] = oldV[r];
      a[i] = adv[r];
      rt[i] = ret[r];
      mk[i] = mask[r];
    }
    float[][] lp = new float[n][t];
    float[][] vals = new float[n][t];
    PpoMath.LossAndGrad pl;
    PpoMath.LossAndGrad vl;
    try (Tensor tid = dev.fromInts(ids, n, seq); Tensor ttg = dev.fromInts(tg, n, seq);
        Tensor images = images(prompts, rows); Tensor logp = dev.zeros(DType.F32, n, seq)) {
      model.forward(POLICY, new LlavaModel.Inputs(tid, images, ttg), new LlavaModel.Outputs(null, null, logp), true);
      gather(logp.toFloatArray(), sub, lp);
      pl = PpoMath.policyLoss(lp, o, a, mk, config.clipRange());
      try (Tensor d = dev.fromFloats(scatter(pl.grad(), sub, 1.0), n, seq)) {
        policyGrads.backward(d, null, GradMode.OVERWRITE);
      }
      try (Tensor v = model.values(VALUE, VALUE_HEAD, new LlavaModel.Inputs(tid, images, null), null, true)) {
        gather(v.toFloatArray(), sub, vals);
      }
      vl = PpoMath.valueLoss(vals, ov, rt, mk, config.valueClipRange());
      try (Tensor d = dev.fromFloats(scatter(vl.grad(), sub, config.vfCoef()), n, seq)) {
        valueGrads.headBackward(d, GradMode.OVERWRITE);
      }
    }
    clipStep();
    if (!Double.isFinite(pl.loss()) || !Double.isFinite(vl.loss())) {
      throw new FactRlException("ppo: non-finite loss at step " + (step + 1) + " (policy " + pl.loss() + ", value "
          + vl.loss() + ")");
    }
    return new double[] {pl.loss(), vl.loss(), pl.clipFraction()};
  }

  /** Global-norm clip over all trained blobs (max_grad_norm), then both AdamW steps; returns the norm. */
  private double clipStep() {
    double pn = adamw.gradNorm();
    double vn = valueAdamw.gradNorm();
    double norm = Math.sqrt(pn * pn + vn * vn);
    if (!Double.isFinite(norm)) {
      throw new FactRlException("ppo: the gradient norm is " + norm + " at step " + (step + 1) + "; nothing was updated");
    }
    if (config.maxGradNorm() > 0) {
      double coef = config.maxGradNorm() / (norm + AdamW.CLIP_EPS);
      if (coef < 1.0) {
        for (AdamW.Trainable tr : concat(policyGrads.trainables(), valueGrads.trainables())) {
          try (Tensor g = tr.grads().flat(DType.F32)) {
            TensorOps.scale((float) coef, g, g);
          }
        }
      }
    }
    adamw.step();
    valueAdamw.step();
    return norm;
  }

  private static List<AdamW.Trainable> concat(List<AdamW.Trainable> a, List<AdamW.Trainable> b) {
    List<AdamW.Trainable> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  // ---- checkpoints ---------------------------------------------------------------------------

  /** Writes the trained roles, the optimizer and the trainer state into folder {@code dir} (must not exist). */
  public void save(Path dir) {
    model.saveAdapter(POLICY, dir.resolve("adapters").resolve(POLICY), IfExists.FAIL);
    model.saveAdapter(VALUE, dir.resolve("adapters").resolve(VALUE), IfExists.FAIL);
    model.saveHead(VALUE_HEAD, dir.resolve(VALUE_HEAD_FILE), IfExists.FAIL);
    adamw.saveState(dir.resolve(OPTIMIZER_FILE), IfExists.FAIL);
    valueAdamw.saveState(dir.resolve(VALUE_OPTIMIZER_FILE), IfExists.FAIL);
    JsonObject o = new JsonObject();
    o.addProperty("format", "factrl.ppo.state.v1");
    o.addProperty("step", step);
    o.addProperty("beta_bits", Long.toString(Double.doubleToRawLongBits(beta)));
    com.google.gson.JsonArray kls = new com.google.gson.JsonArray();
    for (double v : klMonitor.history()) {
      kls.add(Long.toString(Double.doubleToRawLongBits(v)));
    }
    o.add("kl_history_bits", kls); // the KL monitor's window, so a resumed run flags the same steps
    AtomicWrite.writeBytes(dir.resolve(STATE_FILE), IfExists.FAIL,
        (JsonRecords.toPrettyJson(o) + "\n").getBytes(StandardCharsets.UTF_8));
    config.write(dir.resolve(PpoConfig.FILE_NAME), IfExists.FAIL);
  }

  /** Adds the trained roles of checkpoint {@code dir} to {@code model} (before constructing the trainer). */
  public static void loadRoles(LlavaModel model, Path dir) {
    model.loadAdapter(POLICY, dir.resolve("adapters").resolve(POLICY));
    model.loadAdapter(VALUE, dir.resolve("adapters").resolve(VALUE));
    model.loadHead(VALUE_HEAD, dir.resolve(VALUE_HEAD_FILE));
  }

  /** Restores the optimizer and the step counter and β of checkpoint {@code dir} (after {@link #loadRoles}). */
  public void restore(Path dir) {
    adamw.loadState(dir.resolve(OPTIMIZER_FILE));
    valueAdamw.loadState(dir.resolve(VALUE_OPTIMIZER_FILE));
    Path f = dir.resolve(STATE_FILE);
    JsonObject o = StrictJson.parse(JsonRecords.readText(f), f.toString()).getAsJsonObject();
    step = o.get("step").getAsLong();
    beta = Double.longBitsToDouble(Long.parseLong(o.get("beta_bits").getAsString()));
    if (o.has("kl_history_bits")) { // absent in checkpoints written before the KL monitor
      var kls = o.getAsJsonArray("kl_history_bits");
      double[] h = new double[kls.size()];
      for (int i = 0; i < h.length; i++) {
        h[i] = Double.longBitsToDouble(Long.parseLong(kls.get(i).getAsString()));
      }
      klMonitor.restore(h);
    }
    if (adamw.steps() != step * updatesPerStep()) {
      throw new FactRlException(f + ": step " + step + " does not fit the optimizer's " + adamw.steps() + " updates");
    }
  }

  /** Prints the memory plan. */
  public void printMemory(PrintStream out) {
    out.println(memoryReport());
  }

  // ---- helpers -------------------------------------------------------------------------------

  private Tensor images(List<PpoPrompt> prompts, int[] rows) {
    int count = 0;
    for (int r : rows) {
      if (prompts.get(r).image() != null) {
        count++;
      }
    }
    if (count == 0) {
      return null;
    }
    var c = model.config();
    int per = c.imageChannels() * c.imageSize() * c.imageSize();
    float[] x = new float[count * per];
    int k = 0;
    for (int r : rows) {
      float[] img = prompts.get(r).image();
      if (img != null) {
        if (img.length != per) {
          throw new FactRlException("prompt " + prompts.get(r).id() + ": image has " + img.length + " values, expected "
              + per);
        }
        System.arraycopy(img, 0, x, k * per, per);
        k++;
      }
    }
    return model.device().fromFloats(x, count, c.imageChannels(), c.imageSize(), c.imageSize());
  }

  private static int[] allRows(int b) {
    int[] r = new int[b];
    for (int i = 0; i < b; i++) {
      r[i] = i;
    }
    return r;
  }

  /** Reads per-position values [rows, seq] at the response positions into [rows][T]. */
  private static void gather(float[] x, Batch bt, float[][] out) {
    for (int r = 0; r < bt.rows; r++) {
      for (int i = 0; i < bt.respLen[r]; i++) {
        out[r][i] = x[r * bt.seq + bt.promptLen[r] - 1 + i];
      }
    }
  }

  /** The inverse of {@link #gather}, times {@code scale}: [rows][T] → [rows, seq] (0 elsewhere). */
  private static float[] scatter(float[][] g, Batch bt, double scale) {
    float[] out = new float[bt.rows * bt.seq];
    for (int r = 0; r < bt.rows; r++) {
      for (int i = 0; i < bt.respLen[r]; i++) {
        out[r * bt.seq + bt.promptLen[r] - 1 + i] = (float) (g[r][i] * scale);
      }
    }
    return out;
  }

  private static float[] flat(float[][] x) {
    float[] out = new float[x.length * x[0].length];
    for (int r = 0; r < x.length; r++) {
      System.arraycopy(x[r], 0, out, r * x[0].length, x[0].length);
    }
    return out;
  }

  private static int[] flat(int[][] x) {
    int[] out = new int[x.length * x[0].length];
    for (int r = 0; r < x.length; r++) {
      System.arraycopy(x[r], 0, out, r * x[0].length, x[0].length);
    }
    return out;
  }

  private static void unflat(float[] x, float[][] out) {
    for (int r = 0; r < out.length; r++) {
      System.arraycopy(x, r * out[r].length, out[r], 0, out[r].length);
    }
  }

  private static double mean(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v;
    }
    return x.length == 0 ? 0 : s / x.length;
  }

  @Override
  public void close() {
    valueAdamw.close();
    adamw.close();
    valueGrads.close();
    policyGrads.close();
    cache.close();
    generator.close();
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "PpoTrainer(step %d, beta %.4g, %d updates per step)", step, beta,
        updatesPerStep());
  }
}

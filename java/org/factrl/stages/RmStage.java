package org.factrl.stages;

import com.google.common.hash.Hashing;
import com.google.common.io.MoreFiles;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.PreferencePair;
import org.factrl.data.format.PreferencePairCodec;
import org.factrl.data.format.StrictJson;
import org.factrl.data.image.ImagePaths;
import org.factrl.data.text.SpecialTokens;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.model.HeadKind;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.model.TrainableGrads;
import org.factrl.model.TrainableSet;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;
import org.factrl.reward.FactTemplate;
import org.factrl.reward.RewardEncoder;
import org.factrl.reward.RmLoss;
import org.factrl.plots.MetricsPlots;
import org.factrl.train.AdamW;
import org.factrl.train.AdamWConfig;
import org.factrl.train.Batch;
import org.factrl.train.CheckpointStore;
import org.factrl.train.DataOrder;
import org.factrl.train.ImageConversationBatcher;
import org.factrl.train.JsonFields;
import org.factrl.train.LearningRateSchedule;
import org.factrl.train.MetricsLog;
import org.factrl.train.ModelCheckpoint;
import org.factrl.train.ModelTokenizer;
import org.factrl.train.ProgressLine;
import org.factrl.train.SplitMix64;
import org.factrl.train.StepMetrics;
import org.factrl.train.TrainerState;
import org.factrl.train.TrainingExample;

/**
 * The reward model (DESIGN.md §4.2): pairwise preferences ({@code preferences.json}, or the file the
 * config's {@code preferences} key names, e.g. judged SFT samples from {@link PrefsStage}) → a scalar
 * score per (image, prompt, response[, facts]).
 *
 * <p><b>Model.</b> The SFT model's weights become the frozen base ({@link SftModel}: a LoRA SFT
 * adapter is merged into its base), saved once as the run's {@code base/}; the RM trains a fresh
 * LoRA adapter set {@value #ADAPTER} on the decoder plus a reward head {@value #HEAD} (linear d→1,
 * zero bias, weight N(0, head_init_std²)) read on the last real token of each row. The vision
 * encoder and the projector stay frozen. This is the simplest sound option: the RM starts from
 * exactly the SFT model, PPO loads the same base + this adapter + head as its reward role, and the
 * value role can start from a copy of this adapter.
 *
 * <p><b>Input.</b> {@link FactTemplate}: the conversation with the response, then (with
 * {@code facts}, the default) the evaluation turn listing the image's captions (shuffled by the
 * trainer's checkpointed generator, one draw per pair, the same order for both responses) and the
 * rationale, ending in the cue. With facts on, a record without facts is an error naming it.
 *
 * <p><b>Step.</b> The next {@code pairs_per_step} training pairs of a seeded order → one batch of
 * 2N rows (preferred, other, preferred, other, ...) → {@link LlavaModel#score} → {@link RmLoss}
 * (−log σ(p − o) + c·|mean(p + o)|) → {@link LlavaModel#headBackward} → AdamW (warm-up + cosine,
 * global-norm clip) over adapter + head.
 *
 * <p><b>Held out.</b> {@code held_out_pairs} pairs (a seeded choice) never train; every
 * {@code eval_every} steps and after the last, their accuracy (share with p &gt; o; ties count as
 * wrong) and mean −log σ(p − o) are logged (captions in a fixed order per pair, so evaluations
 * compare).
 *
 * <p>The run folder:
 *
 * <pre>
 *   run.json            {"format": "factrl.rm.run.v1", "sft": CHECKPOINT, "data": {sha256s}}
 *   rm_config.json      the effective config
 *   tokenizer.json      the data set's tokenizer (the scorer needs it)
 *   base/               the SFT model as a plain base (model.safetensors + config.json + tokenizer.json)
 *   metrics.jsonl       one record per step; eval steps add heldout_accuracy and heldout_loss
 *   checkpoints/step-N/ base.json (→ base/), adapters/rm/ (PEFT), reward_head.safetensors,
 *                       optimizer.safetensors, trainer_state.json, rm_config.json, rm_eval.json (when evaluated)
 * </pre>
 *
 * Checkpoints are atomic ({@link CheckpointStore}); {@link #resume} continues bit for bit on the CPU.
 */
public final class RmStage {
  public static final String STAGE = "rm";
  public static final String ADAPTER = "rm";
  public static final String HEAD = "rm";
  public static final String RUN_FILE = "run.json";
  public static final String RUN_FORMAT = "factrl.rm.run.v1";
  public static final String METRICS_FILE = "metrics.jsonl";
  public static final String CHECKPOINTS_DIR = "checkpoints";
  public static final String BASE_DIR = "base";
  public static final String TOKENIZER_FILE = "tokenizer.json";
  public static final String OPTIMIZER_FILE = "optimizer.safetensors";
  public static final String HEAD_FILE = "reward_head.safetensors";
  public static final String EVAL_FILE = "rm_eval.json";

  private RmStage() {}

  /** A fresh run with {@link SftStage.Options#defaults()}. */
  public static RmResult run(RmConfig config, Path dataDir, Path sftCheckpoint, Path outDir) {
    return run(config, dataDir, sftCheckpoint, outDir, SftStage.Options.defaults());
  }

  /**
   * A fresh run: a reward model on {@code dataDir}'s preferences.json (images/, tokenizer.json),
   * starting from the SFT checkpoint {@code sftCheckpoint} (a checkpoint folder or an SFT run
   * folder: its last checkpoint), writing the run folder {@code outDir} (absent or empty).
   */
  public static RmResult run(RmConfig config, Path dataDir, Path sftCheckpoint, Path outDir,
      SftStage.Options options) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(sftCheckpoint, "sftCheckpoint");
    Objects.requireNonNull(outDir, "outDir");
    Objects.requireNonNull(options, "options");
    Path out = outDir.toAbsolutePath().normalize();
    SftStage.checkFreshOutput(out);
    DataSetFiles files = DataSetFiles.in(dataDir.toAbsolutePath().normalize());
    Path sft = SftModel.resolve(sftCheckpoint);
    JsonObject data = dataFingerprint(files, config);
    ModelTokenizer.check(sft, files.tokenizer()); // before anything is written
    // Everything that can be checked before writing is checked: the data (facts, lengths) and the SFT model.
    try (Device cpu = Device.cpu(); Tokenizer tokenizer = Tokenizer.load(files.tokenizer());
        LlavaModel model = SftModel.open(cpu, sft)) {
      prepare(config, files, tokenizer, model.config());
      JsonObject run = new JsonObject();
      run.addProperty("format", RUN_FORMAT);
      run.addProperty("sft", sft.toString());
      run.add("data", data);
      try {
        Files.createDirectories(out);
      } catch (IOException e) {
        throw new FactRlException(out + ": cannot create the run folder: " + e, e);
      }
      AtomicWrite.writeBytes(out.resolve(RUN_FILE), IfExists.FAIL,
          (JsonRecords.toPrettyJson(run) + "\n").getBytes(StandardCharsets.UTF_8));
      config.write(out.resolve(RmConfig.FILE_NAME), IfExists.FAIL);
      copy(files.tokenizer(), out.resolve(TOKENIZER_FILE));
      model.saveBase(out.resolve(BASE_DIR), IfExists.FAIL);
      ModelTokenizer.copyInto(out.resolve(BASE_DIR), files.tokenizer());
    }
    return train(config, files, out, Optional.empty(), options);
  }

  /** Continues the run in {@code outDir} with {@link SftStage.Options#defaults()}. */
  public static RmResult resume(Path dataDir, Path outDir) {
    return resume(dataDir, outDir, SftStage.Options.defaults());
  }

  /**
   * Continues the run in {@code outDir} from its last complete checkpoint (or from the start when
   * it has none); the data set must be the one it started with (by SHA-256).
   */
  public static RmResult resume(Path dataDir, Path outDir, SftStage.Options options) {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(outDir, "outDir");
    Objects.requireNonNull(options, "options");
    Path out = outDir.toAbsolutePath().normalize();
    JsonObject run = readRunFile(out);
    DataSetFiles files = DataSetFiles.in(dataDir.toAbsolutePath().normalize());
    RmConfig config = runConfig(out);
    JsonObject now = dataFingerprint(files, config);
    JsonObject then = run.getAsJsonObject("data");
    for (String key : then.keySet()) {
      if (!then.get(key).equals(now.get(key))) {
        throw new FactRlException(dataDir + ": not the data set this run started with (" + key + " differs: "
            + now.get(key) + " now, " + then.get(key) + " then)");
      }
    }
    if (!Files.isRegularFile(out.resolve(BASE_DIR).resolve(LlavaModel.WEIGHTS_FILE))) {
      throw new FactRlException(out + ": the run's " + BASE_DIR + "/ is missing; start a new run");
    }
    ModelTokenizer.check(out.resolve(BASE_DIR), files.tokenizer());
    Optional<Path> latest = new CheckpointStore(out.resolve(CHECKPOINTS_DIR)).latest();
    return train(config, files, out, latest, options);
  }

  /** The effective config of the run in {@code outDir}. */
  public static RmConfig runConfig(Path outDir) {
    return RmConfig.read(outDir.toAbsolutePath().normalize().resolve(RmConfig.FILE_NAME));
  }

  /** Whether {@code dir} is a reward-model run folder. */
  public static boolean isRunFolder(Path dir) {
    try {
      readRunFile(dir.toAbsolutePath().normalize());
      return true;
    } catch (FactRlException e) {
      return false;
    }
  }

  private static JsonObject readRunFile(Path out) {
    Path file = out.resolve(RUN_FILE);
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new FactRlException(out + ": not a reward-model run folder (no " + RUN_FILE + "); nothing to resume");
    }
    JsonElement e = StrictJson.parse(JsonRecords.readText(file), file.toString());
    if (!e.isJsonObject() || !e.getAsJsonObject().has("format")
        || !RUN_FORMAT.equals(new JsonFields(e.getAsJsonObject(), file.toString()).string("format"))) {
      throw new FactRlException(file + ": not a reward-model run file (format is not '" + RUN_FORMAT + "')");
    }
    JsonObject o = e.getAsJsonObject();
    if (!o.has("data") || !o.get("data").isJsonObject()) {
      throw new FactRlException(file + ": key 'data' is missing");
    }
    return o;
  }

  private static JsonObject dataFingerprint(DataSetFiles files, RmConfig config) {
    JsonObject o = new JsonObject();
    o.addProperty("preferences_sha256", sha256(config.preferencesFile(files.root())));
    o.addProperty("tokenizer_sha256", sha256(files.tokenizer()));
    return o;
  }

  private static String sha256(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new FactRlException(file + ": missing (not a FactRL data set folder? write one with bin/factrl data)");
    }
    try {
      return MoreFiles.asByteSource(file).hash(Hashing.sha256()).toString();
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot read: " + e, e);
    }
  }

  private static void copy(Path from, Path to) {
    try {
      AtomicWrite.writeBytes(to, IfExists.FAIL, Files.readAllBytes(from));
    } catch (IOException e) {
      throw new FactRlException(from + ": cannot read: " + e, e);
    }
  }

  // ---- data ---------------------------------------------------------------------------------

  /**
   * The pairs split for a run: {@code heldOut} are the first {@code held_out_pairs} of a seeded
   * permutation (sorted by index), {@code train} the rest (in file order).
   */
  record Split(List<PreferencePair> train, List<PreferencePair> heldOut) {}

  static Split split(List<PreferencePair> pairs, RmConfig config, Path file) {
    int h = config.heldOutPairs();
    if (pairs.size() <= h) {
      throw new FactRlException(file + ": " + pairs.size() + " pairs, but held_out_pairs is " + h
          + " (at least one pair must remain for training)");
    }
    int[] perm = DataOrder.permutation(pairs.size(), SplitMix64.mix(config.seed() ^ 0x4e1d0L), 0);
    boolean[] held = new boolean[pairs.size()];
    for (int i = 0; i < h; i++) {
      held[perm[i]] = true;
    }
    List<PreferencePair> train = new ArrayList<>();
    List<PreferencePair> heldOut = new ArrayList<>();
    for (int i = 0; i < pairs.size(); i++) {
      (held[i] ? heldOut : train).add(pairs.get(i));
    }
    return new Split(train, heldOut);
  }

  /** The facts of a record when the config wants them; a record without facts is then an error naming it. */
  static Optional<FactTemplate.Facts> facts(PreferencePair p, RmConfig config, Path file) {
    if (!config.facts()) {
      return Optional.empty();
    }
    if (!p.hasFacts()) {
      throw new FactRlException(file + ": record '" + p.id() + "' has no facts (captions or rationale), but the"
          + " reward model reads facts (facts: true); use a data set with facts, or --no-facts");
    }
    return Optional.of(FactTemplate.Facts.of(p.captions(), p.rationale()));
  }

  /** Reads and checks the pairs; returns the split and the longest row a run will see. */
  private static Prepared prepare(RmConfig config, DataSetFiles files, Tokenizer tokenizer, ModelConfig mc) {
    if (tokenizer.vocabSize() > mc.vocabSize()) {
      throw new FactRlException(files.tokenizer() + ": the tokenizer has " + tokenizer.vocabSize()
          + " ids but the model's vocab_size is " + mc.vocabSize());
    }
    Path file = config.preferencesFile(files.root());
    List<PreferencePair> pairs = PreferencePairCodec.read(file);
    if (pairs.isEmpty()) {
      throw new FactRlException(file + ": holds no preference pairs");
    }
    Split split = split(pairs, config, file);
    RewardEncoder encoder = new RewardEncoder(tokenizer, mc.imageTokenId(), mc.patchesPerImage(),
        Math.min(config.maxLength(), mc.maxPositions()));
    int maxSeq = 0;
    SplitMix64 probe = new SplitMix64(0);
    for (PreferencePair p : pairs) {
      Optional<FactTemplate.Facts> facts = facts(p, config, file);
      Optional<Path> image = image(p, files);
      for (String response : List.of(p.output1(), p.output2())) {
        maxSeq = Math.max(maxSeq, encoder.encode(p.id(), image, p.prompt(), response, facts, probe).length());
      }
    }
    long total = config.totalSteps(split.train().size());
    if (config.warmupSteps() > total) {
      throw new FactRlException("key 'warmup_steps' is " + config.warmupSteps() + ", more than the run's " + total
          + " steps");
    }
    return new Prepared(split, encoder, maxSeq);
  }

  private record Prepared(Split split, RewardEncoder encoder, int maxSeq) {}

  private static Optional<Path> image(PreferencePair p, DataSetFiles files) {
    return p.image().map(i -> ImagePaths.resolve(files.images(), i, "record '" + p.id() + "': field 'image'"));
  }

  // ---- the training loop ----------------------------------------------------------------------

  private static RmResult train(RmConfig config, DataSetFiles files, Path out, Optional<Path> checkpoint,
      SftStage.Options options) {
    Path baseDir = out.resolve(BASE_DIR);
    CheckpointStore store = new CheckpointStore(out.resolve(CHECKPOINTS_DIR));
    try (Device cpu = Device.cpu(); Tokenizer tokenizer = Tokenizer.load(files.tokenizer());
        LlavaModel model = checkpoint.isPresent() ? ModelCheckpoint.read(cpu, checkpoint.get())
            : LlavaModel.load(cpu, baseDir)) {
      ModelConfig mc = model.config();
      Prepared prep = prepare(config, files, tokenizer, mc);
      long total = config.totalSteps(prep.split().train().size());
      if (checkpoint.isPresent()) {
        if (!model.adapterNames().contains(ADAPTER)) {
          throw new FactRlException(checkpoint.get() + ": holds no adapter set '" + ADAPTER + "'");
        }
        model.loadHead(HEAD, checkpoint.get().resolve(HEAD_FILE));
      } else {
        model.addAdapter(ADAPTER, config.loraSpec(), config.seed());
        model.addHead(HEAD, HeadKind.REWARD, SplitMix64.mix(config.seed() ^ 0x4ead), config.headInitStd());
      }
      ImageConversationBatcher batcher = new ImageConversationBatcher(tokenizer.requireTokenId(SpecialTokens.PAD),
          mc.imageSize(), mc.imageChannels());
      AdamWConfig adamConfig = AdamWConfig.builder()
          .schedule(LearningRateSchedule.warmupCosine(config.lr(), config.warmupSteps(), total, config.minLrRatio()))
          .weightDecay(config.weightDecay()).maxGradNorm(config.maxGradNorm())
          .noDecay(AdamWConfig.BIASES_AND_NORMS)
          .build();
      try (TrainableGrads grads = TrainableGrads.allocate(model, TrainableSet.LORA_AND_HEAD, ADAPTER, HEAD);
          AdamW adamw = grads.adamW(adamConfig)) {
        TrainerState state;
        if (checkpoint.isPresent()) {
          Path c = checkpoint.get();
          adamw.loadState(c.resolve(OPTIMIZER_FILE));
          state = TrainerState.read(c);
          if (!state.stage().equals(STAGE) || state.totalSteps() != total || adamw.steps() != state.step()) {
            throw new FactRlException(c + ": trainer state (stage " + state.stage() + ", step " + state.step() + " of "
                + state.totalSteps() + ") does not fit this run (stage " + STAGE + ", " + total + " steps, optimizer at "
                + adamw.steps() + ")");
          }
        } else {
          state = new TrainerState(STAGE, 0, total, config.seed(), 0, 0, SplitMix64.mix(config.seed() ^ 0xfac7L), 0, 0);
        }
        int rows = 2 * config.pairsPerStep();
        model.plan(rows, prep.maxSeq(), rows, true);
        Loop loop = new Loop(config, files, model, grads, adamw, batcher, prep, store, baseDir, state, out, options);
        return loop.run(checkpoint);
      }
    }
  }

  /** A batch and each row's last real position. */
  private record Rows(Batch batch, int[] ends) {}

  /** Held-out accuracy and loss at a step. */
  record Eval(long step, double accuracy, double loss, int pairs) {
    JsonObject toJson() {
      JsonObject o = new JsonObject();
      o.addProperty("step", step);
      o.addProperty("heldout_accuracy", accuracy);
      o.addProperty("heldout_loss", loss);
      o.addProperty("heldout_pairs", pairs);
      return o;
    }
  }

  /** The mutable state of one call's training loop. */
  private static final class Loop {
    private final RmConfig config;
    private final DataSetFiles files;
    private final LlavaModel model;
    private final TrainableGrads grads;
    private final AdamW adamw;
    private final ImageConversationBatcher batcher;
    private final Prepared prep;
    private final CheckpointStore store;
    private final Path baseDir;
    private final TrainerState start;
    private final Path out;
    private final SftStage.Options options;
    private final DataOrder order;
    private final SplitMix64 rng;

    Loop(RmConfig config, DataSetFiles files, LlavaModel model, TrainableGrads grads, AdamW adamw,
        ImageConversationBatcher batcher, Prepared prep, CheckpointStore store, Path baseDir, TrainerState start,
        Path out, SftStage.Options options) {
      this.config = config;
      this.files = files;
      this.model = model;
      this.grads = grads;
      this.adamw = adamw;
      this.batcher = batcher;
      this.prep = prep;
      this.store = store;
      this.baseDir = baseDir;
      this.start = start;
      this.out = out;
      this.options = options;
      this.order = new DataOrder(prep.split().train().size(), start.dataSeed(), start.dataEpoch(), start.dataPosition());
      this.rng = new SplitMix64(start.rngState());
    }

    RmResult run(Optional<Path> checkpoint) {
      long total = start.totalSteps();
      long end = options.stopAfterStep() > 0 ? Math.min(total, options.stopAfterStep()) : total;
      Path lastCheckpoint = checkpoint.orElse(null);
      double lastLoss = Double.NaN;
      Eval lastEval = null;
      long tokens = start.tokens();
      long loopStart = System.nanoTime();
      PrintStream err = options.progress();
      ProgressLine progress = err == null ? null
          : new ProgressLine(err, STAGE, total, options.progressInPlace(), config.logEvery(), start.step());
      if (err != null) {
        err.printf(Locale.ROOT, "rm: %d training pairs, %d held out, %d steps of %d pairs, facts %s, LoRA r %d;"
            + " run folder %s%n", prep.split().train().size(), prep.split().heldOut().size(), total,
            config.pairsPerStep(), config.facts() ? "on" : "off", config.loraSpec().rank(), out);
        if (start.step() > 0) {
          err.println("rm: resuming after step " + start.step() + " from " + lastCheckpoint);
        }
      }
      Path metricsFile = out.resolve(METRICS_FILE);
      MetricsLog.openForResume(metricsFile, start.step()).close(); // drops records after the checkpoint
      try (BufferedWriter metrics = Files.newBufferedWriter(metricsFile, StandardCharsets.UTF_8,
          StandardOpenOption.APPEND)) {
        for (long step = start.step() + 1; step <= end; step++) {
          long t0 = System.nanoTime();
          int[] picked = order.next(config.pairsPerStep());
          List<PreferencePair> pairs = new ArrayList<>(picked.length);
          for (int i : picked) {
            pairs.add(prep.split().train().get(i));
          }
          List<Long> shuffleSeeds = new ArrayList<>(pairs.size());
          for (int i = 0; i < pairs.size(); i++) {
            shuffleSeeds.add(rng.nextLong());
          }
          Rows rows = batch(pairs, shuffleSeeds);
          Batch b = rows.batch();
          RmLoss.Result r = scoreAndLoss(rows, true);
          lastLoss = r.loss();
          AdamW.StepStats stats = adamw.step();
          if (stats.step() != step) {
            throw new AssertionError("optimizer step " + stats.step() + " != trainer step " + step);
          }
          double seconds = (System.nanoTime() - t0) / 1e9;
          tokens += b.realTokens();
          JsonObject rec = new JsonObject();
          rec.addProperty("step", step);
          rec.addProperty("loss", r.loss());
          rec.addProperty("ranking_loss", r.ranking());
          rec.addProperty("centring_loss", r.centring());
          rec.addProperty("batch_accuracy", (double) r.correct() / pairs.size());
          rec.addProperty("mean_score", r.meanScore());
          rec.addProperty("lr", stats.lr());
          rec.addProperty("grad_norm", stats.gradNorm());
          rec.addProperty("pairs", pairs.size());
          rec.addProperty("tokens", b.realTokens());
          rec.addProperty("tokens_per_s", b.realTokens() / Math.max(seconds, 1e-9));
          rec.addProperty("seconds", seconds);
          boolean evalDue = step == end || (config.evalEvery() > 0 && step % config.evalEvery() == 0);
          if (evalDue) {
            lastEval = evaluate(step);
            rec.addProperty("heldout_accuracy", lastEval.accuracy());
            rec.addProperty("heldout_loss", lastEval.loss());
            if (err != null) {
              err.printf(Locale.ROOT, "rm: step %d: held-out accuracy %.4f (%d pairs), loss %.4f%n", step,
                  lastEval.accuracy(), lastEval.pairs(), lastEval.loss());
            }
          }
          metrics.write(rec.toString());
          metrics.write('\n');
          metrics.flush();
          if (progress != null) {
            progress.update(new StepMetrics(step, r.loss(), stats.lr(), stats.gradNorm(), b.realTokens(), pairs.size(),
                b.realTokens() / Math.max(seconds, 1e-9), seconds));
          }
          boolean due = config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0;
          if (due || step == end) {
            double elapsed = start.seconds() + (System.nanoTime() - loopStart) / 1e9;
            Eval e = lastEval != null && lastEval.step() == step ? lastEval : null;
            lastCheckpoint = checkpoint(new TrainerState(STAGE, step, total, order.seed(), order.epoch(),
                order.position(), rng.state(), tokens, elapsed), e);
            MetricsPlots.writeForStage(metricsFile, out.resolve(MetricsPlots.DIR), err);
          }
        }
      } catch (IOException e) {
        throw new FactRlException(metricsFile + ": cannot append to the metrics log: " + e, e);
      }
      double seconds = (System.nanoTime() - loopStart) / 1e9;
      if (err != null && end > start.step()) {
        err.printf(Locale.ROOT, "rm: step %d/%d, loss %.4f, held-out accuracy %.4f, %.1f s; checkpoint %s%n", end,
            total, lastLoss, lastEval.accuracy(), seconds, lastCheckpoint);
      }
      return new RmResult(lastLoss, lastEval == null ? Double.NaN : lastEval.accuracy(),
          lastEval == null ? Double.NaN : lastEval.loss(), prep.split().heldOut().size(), Math.max(end, start.step()),
          Math.max(0, end - start.step()), total, seconds, lastCheckpoint, metricsFile);
    }

    /** Rows preferred_0, other_0, preferred_1, ...; pair i's captions ordered by SplitMix64(seeds[i]). */
    private Rows batch(List<PreferencePair> pairs, List<Long> shuffleSeeds) {
      List<TrainingExample> rows = new ArrayList<>(2 * pairs.size());
      Path file = config.preferencesFile(files.root());
      for (int i = 0; i < pairs.size(); i++) {
        PreferencePair p = pairs.get(i);
        Optional<FactTemplate.Facts> facts = facts(p, config, file);
        Optional<Path> image = image(p, files);
        rows.add(prep.encoder().encode(p.id(), image, p.prompt(), p.preferred(), facts,
            new SplitMix64(shuffleSeeds.get(i))));
        rows.add(prep.encoder().encode(p.id(), image, p.prompt(), p.rejected(), facts,
            new SplitMix64(shuffleSeeds.get(i))));
      }
      int[] ends = new int[rows.size()];
      for (int i = 0; i < ends.length; i++) {
        ends[i] = rows.get(i).length() - 1; // the last real token: the cue's last token (or the closing </s>)
      }
      return new Rows(batcher.batch(rows), ends);
    }

    /** Scores the batch; with {@code train}, also the backward into the gradient blobs. */
    private RmLoss.Result scoreAndLoss(Rows rows, boolean train) {
      Device cpu = model.device();
      ModelConfig mc = model.config();
      Batch b = rows.batch();
      int[] ends = rows.ends();
      int n = b.rows() / 2;
      float[] p = new float[n];
      float[] o = new float[n];
      RmLoss.Result r;
      try (Tensor ids = cpu.fromInts(b.inputIds(), b.rows(), b.seq());
          Tensor images = b.imageRows() == 0 ? null : cpu.fromFloats(b.images(), b.imageRows(), mc.imageChannels(),
              mc.imageSize(), mc.imageSize());
          Tensor endIndex = cpu.fromInts(ends, b.rows());
          Tensor scores = model.score(ADAPTER, HEAD, new LlavaModel.Inputs(ids, images, null), endIndex, train)) {
        float[] s = scores.toFloatArray();
        for (int i = 0; i < n; i++) {
          p[i] = s[2 * i];
          o[i] = s[2 * i + 1];
        }
        r = RmLoss.of(p, o, config.centring());
        if (!Double.isFinite(r.loss())) {
          throw new FactRlException("rm: the loss is " + r.loss() + " at batch " + b.exampleIds());
        }
        if (train) {
          float[] d = new float[b.rows()];
          for (int i = 0; i < n; i++) {
            d[2 * i] = r.dPreferred()[i];
            d[2 * i + 1] = r.dOther()[i];
          }
          try (Tensor dScores = cpu.fromFloats(d, b.rows())) {
            grads.headBackward(dScores, GradMode.OVERWRITE);
          }
        }
      }
      return r;
    }

    /** Accuracy and mean −log σ(p − o) over the held-out pairs; captions of pair j ordered by a fixed seed. */
    private Eval evaluate(long step) {
      List<PreferencePair> held = prep.split().heldOut();
      int correct = 0;
      double loss = 0;
      for (int from = 0; from < held.size(); from += config.pairsPerStep()) {
        int to = Math.min(held.size(), from + config.pairsPerStep());
        List<Long> seeds = new ArrayList<>();
        for (int j = from; j < to; j++) {
          seeds.add(SplitMix64.mix(config.seed() ^ SplitMix64.mix(j + 0x5eedL)));
        }
        RmLoss.Result r = scoreAndLoss(batch(held.subList(from, to), seeds), false);
        correct += r.correct();
        loss += r.ranking() * (to - from);
      }
      return new Eval(step, (double) correct / held.size(), loss / held.size(), held.size());
    }

    private Path checkpoint(TrainerState state, Eval eval) {
      return store.write(state.step(), folder -> {
        ModelCheckpoint.write(folder, model, java.util.Set.of(), baseDir, List.of(ADAPTER), files.tokenizer());
        model.saveHead(HEAD, folder.resolve(HEAD_FILE), IfExists.FAIL);
        adamw.saveState(folder.resolve(OPTIMIZER_FILE), IfExists.FAIL);
        state.write(folder, IfExists.FAIL);
        config.write(folder.resolve(RmConfig.FILE_NAME), IfExists.FAIL);
        if (eval != null) {
          AtomicWrite.writeBytes(folder.resolve(EVAL_FILE), IfExists.FAIL,
              (JsonRecords.toPrettyJson(eval.toJson()) + "\n").getBytes(StandardCharsets.UTF_8));
        }
      });
    }
  }
}

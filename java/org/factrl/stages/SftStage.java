package org.factrl.stages;

import com.google.common.hash.Hashing;
import com.google.common.io.MoreFiles;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.LlavaConversation;
import org.factrl.data.format.LlavaConversationCodec;
import org.factrl.data.format.StrictJson;
import org.factrl.data.text.ChatTemplate;
import org.factrl.data.text.SpecialTokens;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.model.ParamGroup;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;
import org.factrl.plots.MetricsPlots;
import org.factrl.train.AdamW;
import org.factrl.train.AdamWConfig;
import org.factrl.train.Batch;
import org.factrl.train.CheckpointStore;
import org.factrl.train.ConversationEncoder;
import org.factrl.train.DataOrder;
import org.factrl.train.ImageConversationBatcher;
import org.factrl.train.JsonFields;
import org.factrl.train.LearningRateSchedule;
import org.factrl.train.MetricsLog;
import org.factrl.train.NextTokenLoss;
import org.factrl.train.RunFolder;
import org.factrl.train.ModelCheckpoint;
import org.factrl.train.ModelTokenizer;
import org.factrl.train.ProgressLine;
import org.factrl.train.SplitMix64;
import org.factrl.train.StepMetrics;
import org.factrl.train.TrainerState;
import org.factrl.train.TrainingExample;

/**
 * Supervised fine-tuning (DESIGN.md §4.1): next-token cross-entropy on the assistant tokens of the
 * data set's LLaVA conversations ({@code sft.json}), image tokens spliced in by the model, full
 * fine-tuning of chosen base groups or a LoRA adapter set ({@link SftConfig}).
 *
 * <p>Per step: the next {@code batch_size} examples of a seeded order ({@link DataOrder}) →
 * {@link Batch} → one training forward reading {@code logp = log softmax(z)[target]} → loss
 * {@code L = −Σ mask·logp / Σ mask} (a double sum in a fixed order) → backward with
 * {@code dL/dlogp = −mask / Σ mask} → AdamW (global-norm clip, warm-up + cosine).
 * Frozen base groups get no gradient and no weight decay, so they stay bit for bit as they were.
 *
 * <p>The run folder ({@code outDir}):
 *
 * <pre>
 *   run.json            {"format": "factrl.sft.run.v1", "base": ..., "data": {sft/tokenizer sha256}} (first)
 *   sft_config.json     the effective config
 *   metrics.jsonl       one record per step ({@link StepMetrics})
 *   base/               a random base saved once, when LoRA leaves it frozen (checkpoints refer to it)
 *   checkpoints/step-N/ {@link ModelCheckpoint} files, optimizer.safetensors ({@link AdamW#saveState}),
 *                       trainer_state.json ({@link TrainerState}), sft_config.json; atomic ({@link CheckpointStore})
 * </pre>
 *
 * A checkpoint is written every {@code checkpoint_every} steps and after the last. {@link #resume}
 * continues from the last complete one and takes bitwise the same next steps on the CPU as the run
 * that was interrupted would have (same data order, schedule position, moments and weights). A
 * fresh run needs {@code outDir} absent or empty; a resume needs it to be an SFT run folder
 * ({@code run.json}): a user's folder is never written into or replaced.
 */
public final class SftStage {
  public static final String STAGE = "sft";
  /** The adapter set's name in LoRA mode (also its folder under {@code adapters/}). */
  public static final String ADAPTER = "sft";
  public static final String RUN_FILE = "run.json";
  public static final String RUN_FORMAT = "factrl.sft.run.v1";
  public static final String METRICS_FILE = "metrics.jsonl";
  public static final String CHECKPOINTS_DIR = "checkpoints";
  public static final String BASE_DIR = "base";
  public static final String OPTIMIZER_FILE = "optimizer.safetensors";

  /**
   * How a run reports and how far it goes.
   *
   * @param progress where the progress line goes (stderr), or null for none
   * @param progressInPlace rewrite one line (a terminal) rather than print every {@code log_every} steps
   * @param stopAfterStep stop after this step's checkpoint (0: run to the end), e.g. to split a run
   */
  public record Options(PrintStream progress, boolean progressInPlace, long stopAfterStep) {
    public Options {
      if (stopAfterStep < 0) {
        throw new FactRlException("argument 'stopAfterStep': must be >= 0, got " + stopAfterStep);
      }
    }

    /** Progress on stderr, in place when it is a terminal; the whole run. */
    public static Options defaults() {
      return new Options(System.err, System.console() != null, 0);
    }

    public Options stopAfter(long step) {
      return new Options(progress, progressInPlace, step);
    }
  }

  private SftStage() {}

  /** A fresh run with {@link Options#defaults()}. */
  public static SftResult run(SftConfig config, Path dataDir, BaseModel base, Path outDir) {
    return run(config, dataDir, base, outDir, Options.defaults());
  }

  /**
   * A fresh run: trains {@code base} on the data set in {@code dataDir} (sft.json, images/,
   * tokenizer.json) per {@code config}, writing the run folder {@code outDir} (absent or empty).
   */
  public static SftResult run(SftConfig config, Path dataDir, BaseModel base, Path outDir, Options options) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(base, "base");
    Objects.requireNonNull(outDir, "outDir");
    Objects.requireNonNull(options, "options");
    Path out = outDir.toAbsolutePath().normalize();
    RunFolder.checkFresh(out, "an SFT");
    DataSetFiles files = DataSetFiles.in(dataDir.toAbsolutePath().normalize());
    JsonObject run = new JsonObject();
    run.addProperty("format", RUN_FORMAT);
    run.add("base", base.toJson());
    run.add("data", dataFingerprint(files));
    ModelTokenizer.check(base.tokenizer(), files.tokenizer()); // before anything is written
    RunFolder.create(out, run);
    config.write(out.resolve(SftConfig.FILE_NAME), IfExists.FAIL);
    return train(config, files, base, out, Optional.empty(), options);
  }

  /** Continues the run in {@code outDir} with {@link Options#defaults()}. */
  public static SftResult resume(Path dataDir, Path outDir) {
    return resume(dataDir, outDir, Options.defaults());
  }

  /**
   * Continues the run in {@code outDir} (its config and base from {@code run.json} and
   * {@code sft_config.json}) from its last complete checkpoint, or from the start when it has none.
   * The data set must be the one it started with (same sft.json and tokenizer.json, by SHA-256).
   */
  public static SftResult resume(Path dataDir, Path outDir, Options options) {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(outDir, "outDir");
    Objects.requireNonNull(options, "options");
    Path out = outDir.toAbsolutePath().normalize();
    JsonObject run = readRunFile(out);
    DataSetFiles files = DataSetFiles.in(dataDir.toAbsolutePath().normalize());
    RunFolder.checkSameData(run.getAsJsonObject("data"), dataFingerprint(files), files.root(), out);
    SftConfig config = runConfig(out);
    BaseModel base = BaseModel.fromJson(run.getAsJsonObject("base"), out.resolve(RUN_FILE) + ": base");
    ModelTokenizer.check(base.tokenizer(), files.tokenizer());
    Optional<Path> latest = new CheckpointStore(out.resolve(CHECKPOINTS_DIR)).latest();
    return train(config, files, base, out, latest, options);
  }

  /** The effective config of the run in {@code outDir}. */
  public static SftConfig runConfig(Path outDir) {
    return SftConfig.read(outDir.toAbsolutePath().normalize().resolve(SftConfig.FILE_NAME));
  }

  /** Whether {@code dir} is an SFT run folder (its {@code run.json} carries the format marker). */
  public static boolean isRunFolder(Path dir) {
    try {
      readRunFile(dir.toAbsolutePath().normalize());
      return true;
    } catch (FactRlException e) {
      return false;
    }
  }

  private static JsonObject readRunFile(Path out) {
    JsonObject o = RunFolder.read(out, RUN_FORMAT, "an SFT");
    if (!o.has("base") || !o.get("base").isJsonObject() || !o.has("data") || !o.get("data").isJsonObject()) {
      throw new FactRlException(out.resolve(RUN_FILE) + ": key 'base' or 'data' is missing");
    }
    return o;
  }

  /** A fresh run writes only into a folder that does not exist or is empty. */
  static void checkFreshOutput(Path out) {
    RunFolder.checkFresh(out, "an SFT");
  }

  private static JsonObject dataFingerprint(DataSetFiles files) {
    JsonObject o = new JsonObject();
    o.addProperty("sft_sha256", RunFolder.sha256(files.sft()));
    o.addProperty("tokenizer_sha256", RunFolder.sha256(files.tokenizer()));
    return o;
  }

  /** The examples of a data set's sft.json, encoded for {@code model} (fails naming the record). */
  public static List<TrainingExample> examples(DataSetFiles files, Tokenizer tokenizer, ModelConfig model,
      int maxLength) {
    List<LlavaConversation> records = LlavaConversationCodec.read(files.sft());
    if (records.isEmpty()) {
      throw new FactRlException(files.sft() + ": holds no conversations");
    }
    ConversationEncoder encoder = new ConversationEncoder(tokenizer, ChatTemplate.vicunaV1(), model.imageTokenId(),
        model.patchesPerImage(), Math.min(maxLength, model.maxPositions()), files.images());
    List<TrainingExample> out = new ArrayList<>(records.size());
    for (LlavaConversation r : records) {
      out.add(encoder.encode(r));
    }
    return out;
  }

  // ---- the training loop ----------------------------------------------------------------------

  private static SftResult train(SftConfig config, DataSetFiles files, BaseModel base, Path out,
      Optional<Path> checkpoint, Options options) {
    CheckpointStore store = new CheckpointStore(out.resolve(CHECKPOINTS_DIR));
    boolean lora = config.finetune() == FineTuning.LORA;
    Set<ParamGroup> groups = config.trainableGroups();
    String adapterName = lora ? ADAPTER : null;
    try (Device cpu = Device.cpu(); Tokenizer tokenizer = Tokenizer.load(files.tokenizer());
        LlavaModel model = checkpoint.isPresent() ? ModelCheckpoint.read(cpu, checkpoint.get()) : base.open(cpu)) {
      ModelConfig mc = model.config();
      if (tokenizer.vocabSize() > mc.vocabSize()) {
        throw new FactRlException(files.tokenizer() + ": the tokenizer has " + tokenizer.vocabSize()
            + " ids but the model's vocab_size is " + mc.vocabSize());
      }
      List<TrainingExample> examples = examples(files, tokenizer, mc, config.maxLength());
      ImageConversationBatcher batcher = new ImageConversationBatcher(tokenizer.requireTokenId(SpecialTokens.PAD),
          mc.imageSize(), mc.imageChannels());
      long total = config.totalSteps(examples.size());
      if (config.warmupSteps() > total) {
        throw new FactRlException("key 'warmup_steps' is " + config.warmupSteps() + ", more than the run's " + total
            + " steps");
      }
      // A frozen base is referenced, not copied, by each checkpoint: a random one is saved once.
      Path baseDir = base.dir();
      if (groups.isEmpty() && base.isRandom()) {
        baseDir = out.resolve(BASE_DIR);
        if (checkpoint.isEmpty()) {
          model.saveBase(baseDir, IfExists.REPLACE); // ours: a resume before any checkpoint rewrites the same bytes
          ModelTokenizer.copyInto(baseDir, files.tokenizer());
        }
      }
      if (lora && !model.adapterNames().contains(ADAPTER)) {
        model.addAdapter(ADAPTER, config.loraSpec(), config.seed());
      }
      try (ParameterBlob baseGrads = groups.isEmpty() ? null : model.params().likeThis();
          ParameterBlob adapterGrads = lora ? model.adapter(ADAPTER).likeThis() : null) {
        List<AdamW.Trainable> trainables = new ArrayList<>();
        if (lora) {
          trainables.add(new AdamW.Trainable(model.adapter(ADAPTER), adapterGrads));
        }
        if (baseGrads != null) {
          trainables.add(new AdamW.Trainable(model.params(), baseGrads));
        }
        Predicate<String> frozen = name -> !name.startsWith("base_model.") && !groups.contains(ParamGroup.of(name));
        AdamWConfig adamConfig = AdamWConfig.builder()
            .schedule(LearningRateSchedule.warmupCosine(config.lr(), config.warmupSteps(), total, config.minLrRatio()))
            .weightDecay(config.weightDecay()).maxGradNorm(config.maxGradNorm())
            .noDecay(AdamWConfig.BIASES_AND_NORMS.or(frozen))
            .build();
        try (AdamW adamw = AdamW.over(adamConfig, trainables)) {
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
            state = new TrainerState(STAGE, 0, total, config.seed(), 0, 0, SplitMix64.mix(config.seed() ^ 0x5f7L), 0, 0);
          }
          int maxSeq = 0;
          for (TrainingExample e : examples) {
            maxSeq = Math.max(maxSeq, e.length());
          }
          model.plan(config.batchSize(), maxSeq, config.batchSize(), true);
          Loop loop = new Loop(config, model, adapterName, groups, baseGrads, adapterGrads, adamw, batcher, examples,
              store, baseDir, files.tokenizer(), state, out, options);
          return loop.run(checkpoint);
        }
      }
    }
  }

  /** The mutable state of one call's training loop. */
  private static final class Loop {
    private final SftConfig config;
    private final LlavaModel model;
    private final String adapter;
    private final Set<ParamGroup> groups;
    private final ParameterBlob baseGrads;
    private final ParameterBlob adapterGrads;
    private final AdamW adamw;
    private final ImageConversationBatcher batcher;
    private final List<TrainingExample> examples;
    private final CheckpointStore store;
    private final Path baseDir;
    private final Path tokenizer;
    private final TrainerState start;
    private final Path out;
    private final Options options;
    private final DataOrder order;
    private final SplitMix64 rng;

    Loop(SftConfig config, LlavaModel model, String adapter, Set<ParamGroup> groups, ParameterBlob baseGrads,
        ParameterBlob adapterGrads, AdamW adamw, ImageConversationBatcher batcher, List<TrainingExample> examples,
        CheckpointStore store, Path baseDir, Path tokenizer, TrainerState start, Path out, Options options) {
      this.config = config;
      this.model = model;
      this.adapter = adapter;
      this.groups = groups.isEmpty() ? EnumSet.noneOf(ParamGroup.class) : EnumSet.copyOf(groups);
      this.baseGrads = baseGrads;
      this.adapterGrads = adapterGrads;
      this.adamw = adamw;
      this.batcher = batcher;
      this.examples = examples;
      this.store = store;
      this.baseDir = baseDir;
      this.tokenizer = tokenizer;
      this.start = start;
      this.out = out;
      this.options = options;
      this.order = new DataOrder(examples.size(), start.dataSeed(), start.dataEpoch(), start.dataPosition());
      this.rng = new SplitMix64(start.rngState());
    }

    SftResult run(Optional<Path> checkpoint) {
      Device cpu = model.device();
      long total = start.totalSteps();
      long end = options.stopAfterStep() > 0 ? Math.min(total, options.stopAfterStep()) : total;
      Path lastCheckpoint = checkpoint.orElse(null);
      double lastLoss = Double.NaN;
      long tokens = start.tokens();
      long loopStart = System.nanoTime();
      PrintStream err = options.progress();
      ProgressLine progress = err == null ? null
          : new ProgressLine(err, STAGE, total, options.progressInPlace(), config.logEvery(), start.step());
      if (err != null) {
        err.printf(Locale.ROOT, "sft: %d examples, %d steps of %d (%s%s), model %,d parameters; run folder %s%n",
            examples.size(), total, config.batchSize(), config.finetune().jsonName(),
            groups.isEmpty() ? "" : " " + groups.toString().toLowerCase(Locale.ROOT), model.config().parameterCount(),
            out);
        if (start.step() > 0) {
          err.println("sft: resuming after step " + start.step() + " from " + lastCheckpoint);
        }
      }
      try (MetricsLog metrics = MetricsLog.openForResume(out.resolve(METRICS_FILE), start.step())) {
        for (long step = start.step() + 1; step <= end; step++) {
          long t0 = System.nanoTime();
          int[] picked = order.next(config.batchSize());
          List<TrainingExample> rows = new ArrayList<>(picked.length);
          for (int i : picked) {
            rows.add(examples.get(i));
          }
          Batch b = batcher.batch(rows);
          lastLoss = forwardBackward(cpu, b);
          AdamW.StepStats stats = adamw.step();
          if (stats.step() != step) {
            throw new AssertionError("optimizer step " + stats.step() + " != trainer step " + step);
          }
          double seconds = (System.nanoTime() - t0) / 1e9;
          tokens += b.realTokens();
          StepMetrics m = new StepMetrics(step, lastLoss, stats.lr(), stats.gradNorm(), b.realTokens(), b.targetTokens(),
              b.realTokens() / Math.max(seconds, 1e-9), seconds);
          metrics.append(m);
          if (progress != null) {
            progress.update(m);
          }
          boolean due = config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0;
          if (due || step == end) {
            double elapsed = start.seconds() + (System.nanoTime() - loopStart) / 1e9;
            lastCheckpoint = checkpoint(new TrainerState(STAGE, step, total, order.seed(), order.epoch(), order.position(),
                rng.state(), tokens, elapsed));
            MetricsPlots.writeForStage(out.resolve(METRICS_FILE), out.resolve(MetricsPlots.DIR), err);
          }
        }
      }
      double seconds = (System.nanoTime() - loopStart) / 1e9;
      if (err != null && end > start.step()) {
        err.printf(Locale.ROOT, "sft: step %d/%d, loss %.4f, %.1f s; checkpoint %s%n", end, total, lastLoss, seconds,
            lastCheckpoint);
      }
      return new SftResult(lastLoss, Math.max(end, start.step()), Math.max(0, end - start.step()), total, seconds,
          lastCheckpoint, out.resolve(METRICS_FILE));
    }

    /** One forward + backward; returns the loss (mean NLL over the batch's target tokens). */
    private double forwardBackward(Device cpu, Batch b) {
      return NextTokenLoss.forwardBackward(model, adapter, b, baseGrads, groups, adapterGrads, STAGE);
    }

    private Path checkpoint(TrainerState state) {
      return store.write(state.step(), folder -> {
        ModelCheckpoint.write(folder, model, groups, baseDir, adapter == null ? List.of() : List.of(adapter),
            tokenizer);
        adamw.saveState(folder.resolve(OPTIMIZER_FILE), IfExists.FAIL);
        state.write(folder, IfExists.FAIL);
        config.write(folder.resolve(SftConfig.FILE_NAME), IfExists.FAIL);
      });
    }
  }
}

package org.factrl.pretrain;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.format.Conversations;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.LlavaConversation;
import org.factrl.data.format.LlavaConversationCodec;
import org.factrl.data.format.Speaker;
import org.factrl.data.format.Turn;
import org.factrl.data.text.ChatTemplate;
import org.factrl.data.text.SpecialTokens;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.ParameterBlob;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.model.ParamGroup;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;
import org.factrl.stages.BaseModel;
import org.factrl.train.AdamW;
import org.factrl.train.AdamWConfig;
import org.factrl.train.Batch;
import org.factrl.train.CheckpointStore;
import org.factrl.train.ConversationEncoder;
import org.factrl.train.DataOrder;
import org.factrl.train.ImageConversationBatcher;
import org.factrl.train.LearningRateSchedule;
import org.factrl.train.MetricsLog;
import org.factrl.train.ModelCheckpoint;
import org.factrl.train.ModelTokenizer;
import org.factrl.train.NextTokenLoss;
import org.factrl.train.ProgressLine;
import org.factrl.train.RunFolder;
import org.factrl.train.SplitMix64;
import org.factrl.train.StepMetrics;
import org.factrl.train.TrainerState;
import org.factrl.train.TrainingExample;

/**
 * Pretraining of a from-scratch base (issue 12): the phases of {@link PretrainConfig} in order —
 * {@code text} (decoder LM on the world's text), then {@code align} (projector alignment on
 * pretrain.json, curriculum order) — from a random or given base, ending in a base folder that
 * {@link BaseModel#fromDir} reads. The vision phase is reserved ({@code vision_steps}).
 *
 * <p>Steps are numbered globally (text 1..T, align T+1..T+A) in {@code metrics.jsonl}, each record
 * a {@link StepMetrics} plus {@code phase} and {@code phase_step}. Each phase has its own AdamW
 * (fresh moments, warm-up + cosine over its steps) and its own checkpoint store, written every
 * {@code checkpoint_every} phase steps and at the phase's end, atomically ({@link CheckpointStore}).
 * A {@link #resume} continues from the latest complete checkpoint of the latest phase and takes
 * bitwise the same steps on the CPU as an uninterrupted run.
 *
 * <p>The run folder ({@code outDir}):
 *
 * <pre>
 *   run.json                 {"format": "factrl.pretrain.run.v1", "base": ..., "data": {sha256s}} (first)
 *   pretrain_config.json     the effective config
 *   metrics.jsonl            one record per step (global step, phase, phase_step, loss, lr, ...)
 *   checkpoints/PHASE/step-N/ model/ (full base), optimizer.safetensors, trainer_state.json
 *   model/                   the pretrained base: model.safetensors (bf16 when {@code bf16}) + config.json
 *                            + tokenizer.json (the data set's, byte for byte: {@link ModelTokenizer})
 *   pretrain.json            config, seed, seconds and final loss per phase, the image check (last)
 * </pre>
 */
public final class PretrainStage {
  public static final String STAGE = "pretrain";
  public static final String RUN_FORMAT = "factrl.pretrain.run.v1";
  public static final String SUMMARY_FORMAT = "factrl.pretrain.v1";
  public static final String METRICS_FILE = "metrics.jsonl";
  public static final String CHECKPOINTS_DIR = "checkpoints";
  public static final String MODEL_DIR = "model";
  public static final String SUMMARY_FILE = "pretrain.json";
  public static final String OPTIMIZER_FILE = "optimizer.safetensors";
  /** The vision phase's held-out evaluation, in its checkpoint (VisionEval's fields). */
  public static final String VISION_EVAL_FILE = "vision_eval.json";

  /**
   * How a run reports and how far it goes.
   *
   * @param progress where the progress lines go, or null for none
   * @param progressInPlace rewrite one line (a terminal)
   * @param stopAfterStep stop after this global step's checkpoint (0: run to the end)
   */
  public record Options(PrintStream progress, boolean progressInPlace, long stopAfterStep) {
    public Options {
      if (stopAfterStep < 0) {
        throw new FactRlException("argument 'stopAfterStep': must be >= 0, got " + stopAfterStep);
      }
    }

    public static Options defaults() {
      return new Options(System.err, System.console() != null, 0);
    }

    public Options stopAfter(long step) {
      return new Options(progress, progressInPlace, step);
    }
  }

  private PretrainStage() {}

  /**
   * A fresh run from a random base of the config's preset (vocabulary sized to the data set's
   * tokenizer; weights from {@code seed} and {@code init_std}).
   */
  public static PretrainResult run(PretrainConfig config, Path dataDir, Path outDir, Options options) {
    Objects.requireNonNull(config, "config");
    int vocab;
    try (Tokenizer t = Tokenizer.load(DataSetFiles.in(dataDir.toAbsolutePath().normalize()).tokenizer())) {
      vocab = t.vocabSize();
    }
    ModelConfig mc = ModelConfig.preset(config.preset()).toBuilder().vocabSize(vocab).build();
    return run(config, dataDir, BaseModel.random(mc, config.seed(), config.initStd()), outDir, options);
  }

  /** A fresh run from {@code base}, writing the run folder {@code outDir} (absent or empty). */
  public static PretrainResult run(PretrainConfig config, Path dataDir, BaseModel base, Path outDir, Options options) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(base, "base");
    Objects.requireNonNull(outDir, "outDir");
    Objects.requireNonNull(options, "options");
    Path out = outDir.toAbsolutePath().normalize();
    RunFolder.checkFresh(out, "a pretraining");
    DataSetFiles files = DataSetFiles.in(dataDir.toAbsolutePath().normalize());
    JsonObject run = new JsonObject();
    run.addProperty("format", RUN_FORMAT);
    run.add("base", base.toJson());
    run.add("data", fingerprint(files));
    ModelTokenizer.check(base.tokenizer(), files.tokenizer()); // before anything is written
    RunFolder.create(out, run);
    config.write(out.resolve(PretrainConfig.FILE_NAME), IfExists.FAIL);
    return train(config, files, base, out, options);
  }

  /** Continues the run in {@code outDir} from its latest complete checkpoint (same data set required). */
  public static PretrainResult resume(Path dataDir, Path outDir, Options options) {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(outDir, "outDir");
    Objects.requireNonNull(options, "options");
    Path out = outDir.toAbsolutePath().normalize();
    JsonObject run = RunFolder.read(out, RUN_FORMAT, "a pretraining");
    if (!run.has("base") || !run.get("base").isJsonObject() || !run.has("data") || !run.get("data").isJsonObject()) {
      throw new FactRlException(out.resolve(RunFolder.RUN_FILE) + ": key 'base' or 'data' is missing");
    }
    DataSetFiles files = DataSetFiles.in(dataDir.toAbsolutePath().normalize());
    RunFolder.checkSameData(run.getAsJsonObject("data"), fingerprint(files), files.root(), out);
    BaseModel base = BaseModel.fromJson(run.getAsJsonObject("base"), out.resolve(RunFolder.RUN_FILE) + ": base");
    ModelTokenizer.check(base.tokenizer(), files.tokenizer());
    return train(runConfig(out), files, base, out, options);
  }

  /** The effective config of the run in {@code outDir}. */
  public static PretrainConfig runConfig(Path outDir) {
    return PretrainConfig.read(outDir.toAbsolutePath().normalize().resolve(PretrainConfig.FILE_NAME));
  }

  /** Whether {@code dir} is a pretraining run folder. */
  public static boolean isRunFolder(Path dir) {
    try {
      RunFolder.read(dir.toAbsolutePath().normalize(), RUN_FORMAT, "a pretraining");
      return true;
    } catch (FactRlException e) {
      return false;
    }
  }

  /** The checkpoint store of {@code phase} in run folder {@code out}. */
  public static CheckpointStore store(Path out, PretrainPhase phase) {
    return new CheckpointStore(out.resolve(CHECKPOINTS_DIR).resolve(phase.jsonName()));
  }

  private static JsonObject fingerprint(DataSetFiles files) {
    JsonObject o = new JsonObject();
    o.addProperty("pretrain_sha256", RunFolder.sha256(files.pretrain()));
    o.addProperty("sft_sha256", RunFolder.sha256(files.sft()));
    o.addProperty("tokenizer_sha256", RunFolder.sha256(files.tokenizer()));
    return o;
  }

  // ---- data ---------------------------------------------------------------------------------

  /**
   * The text phase's examples: every sft.json conversation with its image removed (the answer
   * formats of every question type; a question about an unseen image teaches the answer prior),
   * then every pretrain.json caption as a text-only answer (the world's descriptive language).
   * The loss falls on the assistant turns, as in SFT: the questions are context, not targets.
   */
  public static List<TrainingExample> textExamples(DataSetFiles files, ConversationEncoder encoder) {
    List<TrainingExample> out = new ArrayList<>();
    for (Path file : List.of(files.sft(), files.pretrain())) {
      for (LlavaConversation r : records(file)) {
        out.add(encoder.encode(withoutImage(r)));
      }
    }
    return out;
  }

  /** The align phase's examples: pretrain.json's image–caption conversations in file order. */
  public static List<TrainingExample> alignExamples(DataSetFiles files, ConversationEncoder encoder) {
    List<TrainingExample> out = new ArrayList<>();
    for (LlavaConversation r : records(files.pretrain())) {
      if (r.image().isEmpty()) {
        throw new FactRlException(files.pretrain() + ": record '" + r.id() + "' has no image (align needs image-caption pairs)");
      }
      out.add(encoder.encode(r));
    }
    return out;
  }

  private static List<LlavaConversation> records(Path file) {
    List<LlavaConversation> records = LlavaConversationCodec.read(file);
    if (records.isEmpty()) {
      throw new FactRlException(file + ": holds no conversations");
    }
    return records;
  }

  /** {@code r} with its image and {@code <image>} placeholder (and the line break beside it) removed. */
  static LlavaConversation withoutImage(LlavaConversation r) {
    if (r.image().isEmpty()) {
      return r;
    }
    List<Turn> turns = new ArrayList<>();
    for (Turn t : r.conversations()) {
      String v = t.value();
      if (t.from() == Speaker.HUMAN && v.contains(Conversations.IMAGE_PLACEHOLDER)) {
        v = v.replace(Conversations.IMAGE_PLACEHOLDER + "\n", "").replace("\n" + Conversations.IMAGE_PLACEHOLDER, "")
            .replace(Conversations.IMAGE_PLACEHOLDER, "").strip();
        if (v.isEmpty()) {
          throw new FactRlException("record '" + r.id() + "': its first turn is only the image placeholder");
        }
      }
      turns.add(new Turn(t.from(), v));
    }
    return LlavaConversation.textOnly(r.id(), turns);
  }

  // ---- the run ------------------------------------------------------------------------------

  private static PretrainResult train(PretrainConfig config, DataSetFiles files, BaseModel base, Path out,
      Options options) {
    long visionSteps = PretrainPhase.VISION.steps(config);
    long textSteps = PretrainPhase.TEXT.steps(config);
    long total = visionSteps + textSteps + PretrainPhase.ALIGN.steps(config);
    Optional<Path> visionCk = store(out, PretrainPhase.VISION).latest();
    Optional<Path> textCk = store(out, PretrainPhase.TEXT).latest();
    Optional<Path> alignCk = store(out, PretrainPhase.ALIGN).latest();
    Optional<Path> start = alignCk.isPresent() ? alignCk : textCk.isPresent() ? textCk : visionCk;
    try (Device cpu = Device.cpu(); Tokenizer tokenizer = Tokenizer.load(files.tokenizer());
        LlavaModel model = start.isPresent() ? ModelCheckpoint.read(cpu, start.get()) : base.open(cpu)) {
      ModelConfig mc = model.config();
      if (tokenizer.vocabSize() > mc.vocabSize()) {
        throw new FactRlException(files.tokenizer() + ": the tokenizer has " + tokenizer.vocabSize()
            + " ids but the model's vocab_size is " + mc.vocabSize());
      }
      ConversationEncoder encoder = new ConversationEncoder(tokenizer, ChatTemplate.vicunaV1(), mc.imageTokenId(),
          mc.patchesPerImage(), Math.min(config.maxLength(), mc.maxPositions()), files.images());
      ImageConversationBatcher batcher = new ImageConversationBatcher(tokenizer.requireTokenId(SpecialTokens.PAD),
          mc.imageSize(), mc.imageChannels());
      List<TrainingExample> text = textExamples(files, encoder);
      List<TrainingExample> align = alignExamples(files, encoder);
      PrintStream err = options.progress();
      try (MetricsLog metrics = MetricsLog.openForResume(out.resolve(METRICS_FILE), globalStep(config, out))) {
        if (start.isEmpty() && visionSteps > 0) {
          runVision(config, model, files, out, metrics, err);
          if (options.stopAfterStep() > 0 && options.stopAfterStep() <= visionSteps) {
            return new PretrainResult(false, visionSteps, total, Double.NaN, Double.NaN, null, out.resolve(METRICS_FILE));
          }
        }
      }
      int rows = Math.max(Math.max(config.textBatchSize(), config.alignBatchSize()), 1);
      int maxSeq = 1;
      for (List<TrainingExample> l : List.of(text, align)) {
        for (TrainingExample e : l) {
          maxSeq = Math.max(maxSeq, e.length());
        }
      }
      model.plan(rows, maxSeq, rows, true);
      if (err != null) {
        err.printf(Locale.ROOT, "pretrain: %d text examples, %d image-caption pairs; %d text + %d align steps; model %,d"
            + " parameters; run folder %s%n", text.size(), align.size(), textSteps, total - visionSteps - textSteps,
            mc.parameterCount(), out);
      }
      double textLoss = Double.NaN;
      double alignLoss = Double.NaN;
      long step = visionSteps;
      try (MetricsLog metrics = MetricsLog.openForResume(out.resolve(METRICS_FILE), globalStep(config, out))) {
        if (alignCk.isEmpty() && textSteps > 0) {
          PhaseRun r = new PhaseRun(PretrainPhase.TEXT, config, model, text, batcher, out,
              PretrainPhase.TEXT.offset(config), metrics, options, files.tokenizer());
          textLoss = r.run(textCk);
          step = r.doneStep;
          if (!r.finished) {
            return new PretrainResult(false, step, total, textLoss, alignLoss, null, out.resolve(METRICS_FILE));
          }
        }
        if (PretrainPhase.ALIGN.steps(config) > 0) {
          PhaseRun r = new PhaseRun(PretrainPhase.ALIGN, config, model, align, batcher, out,
              PretrainPhase.ALIGN.offset(config), metrics, options, files.tokenizer());
          alignLoss = r.run(alignCk);
          step = r.doneStep;
          if (!r.finished) {
            return new PretrainResult(false, step, total, textLoss, alignLoss, null, out.resolve(METRICS_FILE));
          }
        }
      }
      Path modelDir = finish(config, model, text, align, batcher, encoder, files, out, err);
      return new PretrainResult(true, total, total, textLoss, alignLoss, modelDir, out.resolve(METRICS_FILE));
    }
  }

  /** The global step of the latest complete checkpoint (what the metrics log is cut back to). */
  private static long globalStep(PretrainConfig config, Path out) {
    for (PretrainPhase p : List.of(PretrainPhase.ALIGN, PretrainPhase.TEXT, PretrainPhase.VISION)) {
      Optional<Path> c = store(out, p).latest();
      if (c.isPresent()) {
        return p.offset(config) + CheckpointStore.stepOf(c.get());
      }
    }
    return 0;
  }

  /**
   * The vision phase, as one unit: {@link VisionPretrainer} trains the tower in place (its heads are
   * discarded), then one checkpoint of the vision group and the held-out evaluation are written.
   * Interrupted before that checkpoint, a resume runs it again from the base (same seed, same weights).
   */
  private static void runVision(PretrainConfig config, LlavaModel model, DataSetFiles files, Path out,
      MetricsLog metrics, PrintStream err) {
    long steps = config.visionSteps();
    VisionPretrainConfig vc = VisionPretrainConfig.builder().steps((int) steps).batchSize(config.visionBatchSize())
        .lr(config.visionLr()).warmupSteps((int) Math.min(config.warmupSteps(), steps))
        .weightDecay(config.weightDecay()).maxGradNorm(config.maxGradNorm())
        .seed(SplitMix64.mix(config.seed() ^ 0x5649_5349_4f4eL)).evalEvery(0).build();
    long t0 = System.nanoTime();
    VisionPretrainResult r = VisionPretrainer.train(model, files.root(), vc, metrics, err);
    double seconds = (System.nanoTime() - t0) / 1e9;
    VisionEval e = r.last();
    JsonObject eval = new Gson().toJsonTree(e).getAsJsonObject();
    TrainerState s = new TrainerState(PretrainPhase.VISION.stage(), steps, steps, vc.seed(), 0, 0, vc.seed(), 0, seconds);
    store(out, PretrainPhase.VISION).write(steps, folder -> {
      ModelCheckpoint.write(folder, model, PretrainPhase.VISION.groups(config), null, List.of(), files.tokenizer());
      s.write(folder, IfExists.FAIL);
      config.write(folder.resolve(PretrainConfig.FILE_NAME), IfExists.FAIL);
      AtomicWrite.writeBytes(folder.resolve(VISION_EVAL_FILE), IfExists.FAIL,
          (JsonRecords.toPrettyJson(eval) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    });
    if (err != null) {
      err.println("pretrain.vision: done in " + String.format(Locale.ROOT, "%.1f", seconds) + " s; " + e.summary());
    }
  }

  /** Writes model/ and pretrain.json (both ours: a resume after a crash here rewrites them). */
  private static Path finish(PretrainConfig config, LlavaModel model, List<TrainingExample> text,
      List<TrainingExample> align, ImageConversationBatcher batcher, ConversationEncoder encoder, DataSetFiles files,
      Path out, PrintStream err) {
    Path modelDir = out.resolve(MODEL_DIR);
    if (config.bf16()) {
      model.saveBaseBf16(modelDir, IfExists.REPLACE);
    } else {
      model.saveBase(modelDir, IfExists.REPLACE);
    }
    ModelTokenizer.copyInto(modelDir, files.tokenizer()); // the base carries its tokenizer, as an HF model folder
    JsonObject summary = new JsonObject();
    summary.addProperty("format", SUMMARY_FORMAT);
    summary.add("config", config.toJson());
    summary.addProperty("seed", config.seed());
    JsonObject phases = new JsonObject();
    List<JsonObject> records = MetricsLog.read(out.resolve(METRICS_FILE));
    for (PretrainPhase p : PretrainPhase.values()) {
      JsonObject o = new JsonObject();
      o.addProperty("steps", p.steps(config));
      Optional<Path> last = store(out, p).latest();
      o.addProperty("seconds", last.map(c -> TrainerState.read(c).seconds()).orElse(0.0));
      double loss = Double.NaN;
      double first = Double.NaN;
      for (JsonObject r : records) {
        if (r.get("phase").getAsString().equals(p.jsonName())) {
          first = Double.isNaN(first) ? r.get("loss").getAsDouble() : first;
          loss = r.get("loss").getAsDouble();
        }
      }
      if (p.steps(config) > 0) {
        o.addProperty("first_loss", first);
        o.addProperty("final_loss", loss);
      }
      phases.add(p.jsonName(), o);
    }
    summary.add("phases", phases);
    Optional<Path> vision = store(out, PretrainPhase.VISION).latest();
    if (vision.isPresent()) {
      summary.add("vision_eval", JsonRecords.readDocument(vision.get().resolve(VISION_EVAL_FILE)));
    }
    ImageCheck check = ImageCheck.run(model, align.subList(0, Math.min(config.evalExamples(), align.size())), encoder,
        files, batcher, config.alignBatchSize());
    summary.add("image_check", check.toJson());
    summary.addProperty("model_bytes", modelDir.resolve(LlavaModel.WEIGHTS_FILE).toFile().length());
    AtomicWrite.writeBytes(out.resolve(SUMMARY_FILE), IfExists.REPLACE,
        (JsonRecords.toPrettyJson(summary) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    if (err != null) {
      err.printf(Locale.ROOT, "pretrain: base written to %s; image check on %d captions: loss %.4f with their own image,"
          + " %.4f with another scene's, %.4f with no image%n", modelDir, check.examples(), check.ownImage(),
          check.otherImage(), check.noImage());
    }
    return modelDir;
  }

  /** One phase's training loop over a shared model. */
  private static final class PhaseRun {
    private final PretrainPhase phase;
    private final PretrainConfig config;
    private final LlavaModel model;
    private final List<TrainingExample> examples;
    private final ImageConversationBatcher batcher;
    private final CheckpointStore store;
    private final long offset;
    private final MetricsLog metrics;
    private final Options options;
    private final Set<ParamGroup> groups;
    private final Path tokenizer;
    long doneStep;
    boolean finished;

    PhaseRun(PretrainPhase phase, PretrainConfig config, LlavaModel model, List<TrainingExample> examples,
        ImageConversationBatcher batcher, Path out, long offset, MetricsLog metrics, Options options, Path tokenizer) {
      this.phase = phase;
      this.config = config;
      this.model = model;
      this.examples = examples;
      this.batcher = batcher;
      this.store = store(out, phase);
      this.offset = offset;
      this.metrics = metrics;
      this.options = options;
      this.groups = phase.groups(config);
      this.tokenizer = tokenizer;
    }

    /** Runs from {@code checkpoint} (the model already holds its weights) or the phase's start; returns the last loss. */
    double run(Optional<Path> checkpoint) {
      long total = phase.steps(config);
      int batch = phase.batchSize(config);
      try (ParameterBlob grads = model.params().likeThis()) {
        AdamWConfig adamConfig = AdamWConfig.builder()
            .schedule(LearningRateSchedule.warmupCosine(phase.lr(config), config.warmupSteps(), total, config.minLrRatio()))
            .weightDecay(config.weightDecay()).maxGradNorm(config.maxGradNorm())
            .noDecay(AdamWConfig.BIASES_AND_NORMS.or(name -> !groups.contains(ParamGroup.of(name))))
            .build();
        try (AdamW adamw = AdamW.over(adamConfig, List.of(new AdamW.Trainable(model.params(), grads)))) {
          TrainerState state;
          if (checkpoint.isPresent()) {
            Path c = checkpoint.get();
            adamw.loadState(c.resolve(OPTIMIZER_FILE));
            state = TrainerState.read(c);
            if (!state.stage().equals(phase.stage()) || state.totalSteps() != total || adamw.steps() != state.step()) {
              throw new FactRlException(c + ": trainer state (stage " + state.stage() + ", step " + state.step() + " of "
                  + state.totalSteps() + ") does not fit this run (stage " + phase.stage() + ", " + total + " steps)");
            }
          } else {
            long seed = SplitMix64.mix(config.seed() ^ (phase.ordinal() + 1));
            state = new TrainerState(phase.stage(), 0, total, seed, 0, 0, seed, 0, 0);
          }
          return loop(adamw, grads, state, total, batch);
        }
      }
    }

    private double loop(AdamW adamw, ParameterBlob grads, TrainerState start, long total, int batch) {
      long stop = options.stopAfterStep() > 0 ? options.stopAfterStep() - offset : total;
      long end = Math.max(start.step(), Math.min(total, stop));
      // text: a seeded shuffle per epoch; align: the file's order (its curriculum), cycling
      DataOrder order = new DataOrder(examples.size(), start.dataSeed(), start.dataEpoch(), start.dataPosition());
      long epoch = start.dataEpoch();
      int position = start.dataPosition();
      long tokens = start.tokens();
      long loopStart = System.nanoTime();
      double lastLoss = Double.NaN;
      PrintStream err = options.progress();
      ProgressLine progress = err == null || end <= start.step() ? null
          : new ProgressLine(err, phase.stage(), total, options.progressInPlace(), config.logEvery(), start.step());
      if (err != null && start.step() > 0 && end > start.step()) {
        err.println(phase.stage() + ": resuming after step " + start.step());
      }
      for (long step = start.step() + 1; step <= end; step++) {
        long t0 = System.nanoTime();
        List<TrainingExample> rows = new ArrayList<>(batch);
        if (phase == PretrainPhase.TEXT) {
          for (int i : order.next(batch)) {
            rows.add(examples.get(i));
          }
        } else {
          for (int i = 0; i < batch; i++) {
            rows.add(examples.get(position));
            if (++position == examples.size()) {
              position = 0;
              epoch++;
            }
          }
        }
        Batch b = batcher.batch(rows);
        lastLoss = NextTokenLoss.forwardBackward(model, null, b, grads, groups, null, phase.stage());
        AdamW.StepStats stats = adamw.step();
        if (stats.step() != step) {
          throw new AssertionError("optimizer step " + stats.step() + " != trainer step " + step);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        tokens += b.targetTokens();
        StepMetrics m = new StepMetrics(offset + step, lastLoss, stats.lr(), stats.gradNorm(), b.realTokens(),
            b.targetTokens(), b.realTokens() / Math.max(seconds, 1e-9), seconds);
        JsonObject record = m.toJson();
        record.addProperty("phase", phase.jsonName());
        record.addProperty("phase_step", step);
        metrics.append(record);
        if (progress != null) {
          progress.update(new StepMetrics(step, lastLoss, stats.lr(), stats.gradNorm(), b.realTokens(), b.targetTokens(),
              m.tokensPerSecond(), seconds));
        }
        boolean due = config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0;
        if (due || step == end) {
          double elapsed = start.seconds() + (System.nanoTime() - loopStart) / 1e9;
          TrainerState s = phase == PretrainPhase.TEXT
              ? new TrainerState(phase.stage(), step, total, order.seed(), order.epoch(), order.position(), start.rngState(),
                  tokens, elapsed)
              : new TrainerState(phase.stage(), step, total, start.dataSeed(), epoch, position, start.rngState(), tokens,
                  elapsed);
          Path c = store.write(step, folder -> {
            ModelCheckpoint.write(folder, model, groups, null, List.of(), tokenizer);
            adamw.saveState(folder.resolve(OPTIMIZER_FILE), IfExists.FAIL);
            s.write(folder, IfExists.FAIL);
            config.write(folder.resolve(PretrainConfig.FILE_NAME), IfExists.FAIL);
          });
          if (err != null && step == total) {
            err.printf(Locale.ROOT, "%s: done, loss %.4f; checkpoint %s%n", phase.stage(), lastLoss, c);
          }
        }
      }
      doneStep = offset + end;
      finished = end == total;
      return lastLoss;
    }
  }
}

package org.factrl.stages;

import com.google.common.collect.ImmutableSet;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.MmhalCodec;
import org.factrl.data.format.MmhalRecord;
import org.factrl.data.format.StrictJson;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.eval.AnswerSource;
import org.factrl.eval.EvalConfig;
import org.factrl.eval.EvalData;
import org.factrl.eval.EvalReport;
import org.factrl.eval.Evaluator;
import org.factrl.eval.ModelAnswerSource;
import org.factrl.eval.ResultFolder;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.train.CheckpointStore;
import org.factrl.train.JsonFields;
import org.factrl.train.ModelCheckpoint;
import org.factrl.train.ModelTokenizer;

/**
 * Evaluation (DESIGN.md §4.4, issue 12 Deliver 1 {@code eval} and 4): a model checkpoint answers
 * MMHal-format questions, POPE probes and (optionally) detailed-description requests, greedily by
 * default, with the SFT stage's prompt format; the exact judge scores the answers ({@link Evaluator}
 * lists the metrics). The output folder:
 *
 * <pre>
 *   metrics.json            every metric, the settings used and the seconds per phase ({"format": "factrl.eval.v1", ...})
 *   answers.jsonl           one record per question: phase, question, answer, tokens, verdict
 *   response_template.json  the MMHal response template with our answers in model_answer (for an external judge)
 * </pre>
 *
 * The folder must not exist, be empty, or hold exactly an earlier evaluation's three files (which
 * are then replaced); it is checked before the model runs and written whole at the end ({@link
 * ResultFolder}). The model: a base folder ({@code model.safetensors} + {@code config.json}), a
 * checkpoint folder ({@link ModelCheckpoint}: {@code model/} or {@code base.json}, and
 * {@code adapters/}), or a stage's run folder (its latest complete checkpoint).
 */
public final class EvalStage {
  public static final String STAGE = "eval";
  public static final String METRICS_FILE = "metrics.json";
  public static final String ANSWERS_FILE = "answers.jsonl";
  public static final String TEMPLATE_FILE = "response_template.json";
  public static final ImmutableSet<String> FILES = ImmutableSet.of(METRICS_FILE, ANSWERS_FILE, TEMPLATE_FILE);

  /**
   * How a run reports.
   *
   * @param progress where the phase progress lines go (stderr), or null for none
   * @param progressInPlace rewrite one line (a terminal) rather than print a line per batch
   */
  public record Options(PrintStream progress, boolean progressInPlace) {
    /** Progress on stderr, in place when it is a terminal. */
    public static Options defaults() {
      return new Options(System.err, System.console() != null);
    }

    public static Options quiet() {
      return new Options(null, false);
    }
  }

  private EvalStage() {}

  /** The output folder of an evaluation, with its rules. */
  public static ResultFolder outputFolder(Path outDir) {
    return new ResultFolder(outDir, FILES, METRICS_FILE, Evaluator.FORMAT, STAGE);
  }

  /**
   * Evaluates the model in {@code checkpoint} (see the class comment) on {@code data}, prompts
   * tokenised with {@code tokenizer} (the data set's {@code tokenizer.json}), and writes
   * {@code outDir}.
   */
  public static EvalResult run(EvalConfig config, EvalData data, Path checkpoint, Path tokenizer, Path outDir,
      Options options) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(checkpoint, "checkpoint");
    Objects.requireNonNull(tokenizer, "tokenizer");
    Objects.requireNonNull(options, "options");
    long t0 = System.nanoTime();
    ResultFolder folder = outputFolder(Objects.requireNonNull(outDir, "outDir"));
    folder.check();
    Path modelDir = modelFolder(checkpoint);
    ModelTokenizer.check(modelDir, tokenizer);
    try (Device cpu = Device.cpu(); Tokenizer tok = Tokenizer.load(tokenizer);
        LlavaModel model = open(cpu, modelDir)) {
      String adapter = chooseAdapter(model, config.adapter(), modelDir);
      JsonObject info = new JsonObject();
      info.addProperty("checkpoint", modelDir.toString());
      info.addProperty("adapter", adapter == null ? EvalConfig.BASE : adapter);
      info.addProperty("tokenizer", tokenizer.toAbsolutePath().normalize().toString());
      info.addProperty("parameters", model.config().parameterCount());
      info.addProperty("device", cpu.toString());
      double loadSeconds = (System.nanoTime() - t0) / 1e9;
      PrintStream err = options.progress();
      if (err != null) {
        ModelConfig mc = model.config();
        err.printf(Locale.ROOT, "eval: model %s (%,d parameters%s), %d MMHal questions, %d POPE probes%s; output %s%n",
            modelDir, mc.parameterCount(), adapter == null ? "" : ", adapter " + adapter,
            limited(data.mmhal().size(), config.limit()),
            data.pope().values().stream().mapToInt(l -> limited(l.size(), config.limit())).sum(),
            config.chair() ? ", CHAIR descriptions" : "", folder.path());
      }
      try (ModelAnswerSource source = new ModelAnswerSource(model, adapter, tok, config.batchSize(),
          config.generateConfig())) {
        return finish(config, data, source, info, folder, options, t0, loadSeconds);
      }
    }
  }

  /**
   * Evaluates the answers of any {@code source} on {@code data} and writes {@code outDir};
   * {@code modelInfo} (may be empty) is recorded as the metrics' {@code model}.
   */
  public static EvalResult run(EvalConfig config, EvalData data, AnswerSource source, JsonObject modelInfo, Path outDir,
      Options options) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(modelInfo, "modelInfo");
    Objects.requireNonNull(options, "options");
    long t0 = System.nanoTime();
    ResultFolder folder = outputFolder(Objects.requireNonNull(outDir, "outDir"));
    folder.check();
    return finish(config, data, source, modelInfo, folder, options, t0, 0);
  }

  private static int limited(int n, int limit) {
    return limit == 0 ? n : Math.min(n, limit);
  }

  private static EvalResult finish(EvalConfig config, EvalData data, AnswerSource source, JsonObject modelInfo,
      ResultFolder folder, Options options, long t0, double loadSeconds) {
    EvalReport report = new Evaluator(config, options.progress(), options.progressInPlace()).evaluate(data, source);
    JsonObject m = report.metrics();
    JsonObject settings = config.toJson();
    JsonObject sources = new JsonObject();
    data.sources().forEach(sources::addProperty);
    settings.add("data", sources);
    m.add("model", modelInfo);
    m.add("settings", settings);
    JsonObject seconds = m.getAsJsonObject("seconds");
    seconds.addProperty("load", loadSeconds);
    double total = (System.nanoTime() - t0) / 1e9;
    seconds.addProperty("total", total);
    Map<String, String> files = new LinkedHashMap<>();
    files.put(METRICS_FILE, new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create()
        .toJson(m) + "\n");
    StringBuilder lines = new StringBuilder();
    for (JsonObject o : report.answers()) {
      lines.append(new GsonBuilder().disableHtmlEscaping().create().toJson(o)).append('\n');
    }
    files.put(ANSWERS_FILE, lines.toString());
    JsonArray template = new JsonArray();
    for (MmhalRecord r : report.template()) {
      template.add(MmhalCodec.toJson(r));
    }
    files.put(TEMPLATE_FILE, new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(template)
        + "\n");
    folder.publish(files);
    PrintStream err = options.progress();
    if (err != null) {
      err.printf(Locale.ROOT, "eval: hallucination rate %.3f, MMHal score %.2f, POPE F1 %s, CHAIRs %s, CHAIRi %s,"
          + " mean answer %.1f tokens; %.1f s; wrote %s%n", report.hallucinationRate(), report.mmhalScore(),
          fmt(report.popeF1()), fmt(report.chairS()), fmt(report.chairI()), report.meanResponseTokens(), total,
          folder.path());
    }
    return new EvalResult(report, folder.path(), total);
  }

  private static String fmt(java.util.OptionalDouble d) {
    return d.isPresent() ? String.format(Locale.ROOT, "%.3f", d.getAsDouble()) : "-";
  }

  /**
   * The folder whose model to load: {@code path} itself when it is a base or checkpoint folder, the
   * latest complete checkpoint when it is a run folder (holds {@code checkpoints/}).
   */
  public static Path modelFolder(Path path) {
    Path p = path.toAbsolutePath().normalize();
    if (!Files.isDirectory(p)) {
      throw new FactRlException(path + ": no such model folder (give a checkpoint, a base or a run folder)");
    }
    if (isBase(p) || Files.isDirectory(p.resolve(ModelCheckpoint.MODEL_DIR))
        || Files.isRegularFile(p.resolve(ModelCheckpoint.BASE_REFERENCE)) || isPpoCheckpoint(p)) {
      return p;
    }
    Path checkpoints = p.resolve(SftStage.CHECKPOINTS_DIR);
    if (Files.isDirectory(checkpoints)) {
      return new CheckpointStore(checkpoints).latest().orElseThrow(() -> new FactRlException(path
          + ": a run folder without a complete checkpoint (nothing to evaluate yet)"));
    }
    throw new FactRlException(path + ": not a model folder: no " + LlavaModel.WEIGHTS_FILE + " + "
        + ModelConfig.FILE_NAME + " (a base), no " + ModelCheckpoint.MODEL_DIR + "/ or " + ModelCheckpoint.BASE_REFERENCE
        + " (a checkpoint), no " + SftStage.CHECKPOINTS_DIR + "/ (a run)");
  }

  private static boolean isBase(Path p) {
    return Files.isRegularFile(p.resolve(LlavaModel.WEIGHTS_FILE)) && Files.isRegularFile(p.resolve(ModelConfig.FILE_NAME));
  }

  /**
   * A PPO checkpoint holds only its adapters (policy, value): its base is the merged SFT model its
   * run folder's run.json names, two levels up (run/checkpoints/step-N).
   */
  private static boolean isPpoCheckpoint(Path p) {
    return Files.isRegularFile(p.resolve(PPO_STATE_FILE)) && p.getParent() != null && p.getParent().getParent() != null
        && Files.isRegularFile(p.getParent().getParent().resolve(PPO_RUN_FILE));
  }

  private static final String PPO_STATE_FILE = "ppo_state.json";
  private static final String PPO_RUN_FILE = "run.json";
  private static final String PPO_POLICY = "ppo";

  /**
   * The model of {@link #modelFolder}: a base alone, a checkpoint's base with every adapter set, or
   * a PPO checkpoint's SFT model (merged) with its policy adapter only (the value adapter answers nothing).
   */
  public static LlavaModel open(Device device, Path modelFolder) {
    if (isBase(modelFolder)) {
      return LlavaModel.load(device, modelFolder);
    }
    if (!Files.isDirectory(modelFolder.resolve(ModelCheckpoint.MODEL_DIR))
        && !Files.isRegularFile(modelFolder.resolve(ModelCheckpoint.BASE_REFERENCE)) && isPpoCheckpoint(modelFolder)) {
      Path runFile = modelFolder.getParent().getParent().resolve(PPO_RUN_FILE);
      JsonElement e = StrictJson.parse(JsonRecords.readText(runFile), runFile.toString());
      if (!e.isJsonObject()) {
        throw new FactRlException(runFile + ": not a JSON object");
      }
      Path sft = Path.of(new JsonFields(e.getAsJsonObject(), runFile.toString()).string("sft"));
      LlavaModel model = SftModel.open(device, sft);
      try {
        model.loadAdapter(PPO_POLICY, modelFolder.resolve(ModelCheckpoint.ADAPTERS_DIR).resolve(PPO_POLICY));
        return model;
      } catch (RuntimeException ex) {
        model.close();
        throw ex;
      }
    }
    return ModelCheckpoint.read(device, modelFolder);
  }

  /**
   * The adapter to answer with: the one asked for ({@link EvalConfig#BASE}: none), else the model's
   * only adapter set, else none when it has none; several without a choice is an error naming them.
   */
  public static String chooseAdapter(LlavaModel model, Optional<String> asked, Path where) {
    List<String> have = List.copyOf(model.adapterNames());
    if (asked.isPresent()) {
      String a = asked.get();
      if (a.equals(EvalConfig.BASE)) {
        return null;
      }
      if (!have.contains(a)) {
        throw new FactRlException(where + ": no adapter set '" + a + "' (has " + (have.isEmpty() ? "none" : have)
            + "; '" + EvalConfig.BASE + "' evaluates the base alone)");
      }
      return a;
    }
    if (have.size() > 1) {
      throw new FactRlException(where + ": holds several adapter sets " + have + "; choose one (adapter / --adapter),"
          + " or '" + EvalConfig.BASE + "' for the base alone");
    }
    return have.isEmpty() ? null : have.get(0);
  }
}

package org.factrl.pipeline;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableMap;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.DataSetSummary;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.StrictJson;
import org.factrl.engine.FactRlException;
import org.factrl.eval.EvalData;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;
import org.factrl.pipeline.PipelineConfig.Stage;
import org.factrl.pipeline.StageRuns.Outcome;
import org.factrl.stages.BaseModel;
import org.factrl.stages.EvalStage;
import org.factrl.stages.RmConfig;
import org.factrl.stages.SftStage;

/**
 * The Fact-RLHF pipeline (DESIGN.md §4, issue 12 Deliver 2–3) on the built-in shapes world:
 *
 * <pre>
 *   data → base → sft ─┬─ prefs ─┬─ rm with facts ──── ppo fact-rlhf (fact RM + symbolic rewards) ─ eval
 *                      │         └─ rm without facts ─ ppo rlhf (RM without facts, no symbolic rewards) ─ eval
 *                      └──────────────────────────────────────────────────────────────────────────────── eval
 * </pre>
 *
 * {@code prefs} samples two responses per RM prompt from the SFT model and labels them with the
 * exact judge (the paper's preference data, plus a bootstrap supplement); both reward models train
 * on that file. Both PPO runs start from the same SFT model. The three evaluations answer the same seeded subset
 * of the held-out split ({@link EvalSubset}, sized by the eval config's {@code limit}) with CHAIR
 * on. The output folder {@code OUT} holds one folder per stage and the summary:
 *
 * <pre>
 *   data/  base/ (only a pretraining source writes it)  sft/  prefs/  rm-facts/  rm-no-facts/
 *   ppo-rlhf/  ppo-fact-rlhf/  eval-sft/  eval-rlhf/  eval-fact-rlhf/
 *   summary.json  {"format": ..., "sft": {...}, "rlhf": {...}, "fact_rlhf": {...}, "stage_seconds": {...}, ...}
 * </pre>
 *
 * <b>Running again continues.</b> Each stage reuses its finished output, resumes an interrupted
 * run (the stages' own bit-exact resume) and refuses a folder holding anything else — other
 * settings, other inputs, or files it did not write ({@link StageRuns}). The data set is reused
 * when it is the one these settings write; it is written (or replaced, by the data writer's rules:
 * only a data set a run wrote, holding nothing else) only while no later stage folder exists.
 * {@code summary.json} is replaced only when it is a pipeline summary. Nothing else in {@code OUT}
 * is read or written.
 */
public final class Pipeline {
  public static final String DATA_DIR = "data";
  public static final String BASE_DIR = "base";
  public static final String SFT_DIR = "sft";
  public static final String PREFS_DIR = "prefs";
  public static final String RM_FACTS_DIR = "rm-facts";
  public static final String RM_PLAIN_DIR = "rm-no-facts";
  public static final String PPO_RLHF_DIR = "ppo-rlhf";
  public static final String PPO_FACT_DIR = "ppo-fact-rlhf";
  public static final String EVAL_SFT_DIR = "eval-sft";
  public static final String EVAL_RLHF_DIR = "eval-rlhf";
  public static final String EVAL_FACT_DIR = "eval-fact-rlhf";
  public static final String SUMMARY_FILE = "summary.json";
  public static final String SUMMARY_FORMAT = "factrl.pipeline.summary.v1";

  /** Every stage folder after the data, in order (a data set is never rewritten under them). */
  static final List<String> STAGE_DIRS = List.of(BASE_DIR, SFT_DIR, RM_FACTS_DIR, RM_PLAIN_DIR, PPO_RLHF_DIR,
      PPO_FACT_DIR, EVAL_SFT_DIR, EVAL_RLHF_DIR, EVAL_FACT_DIR);

  /**
   * Where a run reports.
   *
   * @param log the pipeline's own lines: what each stage does, reuses or resumes; the table (stdout)
   * @param progress the stages' progress lines (stderr), or null for none
   * @param progressInPlace rewrite one progress line (a terminal) rather than print a line each time
   */
  public record Options(PrintStream log, PrintStream progress, boolean progressInPlace) {
    public Options {
      Preconditions.checkNotNull(log, "log");
    }

    /** Lines on stdout, progress on stderr (in place on a terminal). */
    public static Options defaults() {
      return new Options(System.out, System.err, System.console() != null);
    }

    /** Nothing printed. */
    public static Options quiet() {
      return new Options(new PrintStream(OutputStream.nullOutputStream()), null, false);
    }
  }

  /**
   * What a run did.
   *
   * @param summary summary.json's content; null when the run stopped before the evaluations ({@link Stage})
   * @param table the closing table (empty when stopped early)
   * @param status per stage: ran, resumed or reused
   * @param seconds wall seconds per stage in this call, and {@code total}
   */
  public record Result(JsonObject summary, String table, Map<String, String> status, Map<String, Double> seconds) {}

  private Pipeline() {}

  /** Runs (or continues) the pipeline into {@code outDir}. */
  public static Result run(PipelineConfig config, Path outDir, Options options) {
    Preconditions.checkNotNull(config, "config");
    Preconditions.checkNotNull(outDir, "outDir");
    Preconditions.checkNotNull(options, "options");
    return new Run(config, outDir.toAbsolutePath().normalize(), options).run();
  }

  /** One call's state: the folders, the timings and statuses so far. */
  private static final class Run {
    private final PipelineConfig config;
    private final Path out;
    private final PrintStream log;
    private final Options options;
    private final Map<String, String> status = new LinkedHashMap<>();
    private final Map<String, Double> seconds = new LinkedHashMap<>();
    private final Map<String, Double> cpuSeconds = new LinkedHashMap<>();
    private final long start = System.nanoTime();
    private final double cpuStart = cpuNow();
    private long stageStart;
    private double stageCpuStart;

    Run(PipelineConfig config, Path out, Options options) {
      this.config = config;
      this.out = out;
      this.log = options.log();
      this.options = options;
    }

    Result run() {
      prepareOutput();
      Path data = data();
      if (done(Stage.DATA)) {
        return early();
      }
      begin();
      BaseModel base = config.base().resolve(new BaseModelSource.Context(data, out.resolve(BASE_DIR), config.seed(),
          log));
      end("base", "resolved");
      if (done(Stage.BASE)) {
        return early();
      }
      SftStage.Options train = new SftStage.Options(options.progress(), options.progressInPlace(), 0);

      begin();
      Path sft = end("sft", StageRuns.sft(config.sft(), data, base, out.resolve(SFT_DIR), log, train));
      if (done(Stage.SFT)) {
        return early();
      }
      begin();
      Path prefs = end("prefs", StageRuns.prefs(config.prefs(), data, sft, out.resolve(PREFS_DIR), log));
      if (done(Stage.PREFS)) {
        return early();
      }
      begin();
      Path rmFacts = end("rm_facts", StageRuns.rm(withPrefs(config.rm(true), prefs), data, sft,
          out.resolve(RM_FACTS_DIR), "rm-facts", log, train));
      begin();
      Path rmPlain = end("rm_no_facts", StageRuns.rm(withPrefs(config.rm(false), prefs), data, sft,
          out.resolve(RM_PLAIN_DIR), "rm-no-facts", log, train));
      if (done(Stage.RM)) {
        return early();
      }
      begin();
      Path ppoRlhf = end("ppo_rlhf", StageRuns.ppo(config.ppo().variant("rlhf"), data, sft, rmPlain,
          out.resolve(PPO_RLHF_DIR), "ppo-rlhf", log, options.progress()));
      begin();
      Path ppoFact = end("ppo_fact_rlhf", StageRuns.ppo(config.ppo().variant("fact-rlhf"), data, sft, rmFacts,
          out.resolve(PPO_FACT_DIR), "ppo-fact-rlhf", log, options.progress()));
      if (done(Stage.PPO)) {
        return early();
      }

      DataSetFiles files = DataSetFiles.in(data);
      EvalData evalData = EvalSubset.ordered(EvalData.of(files), config.seed());
      EvalStage.Options evalOptions = new EvalStage.Options(options.progress(), options.progressInPlace());
      begin();
      end("eval_sft", StageRuns.eval(config.eval(), evalData, sft, files.tokenizer(), out.resolve(EVAL_SFT_DIR),
          "eval-sft", log, evalOptions));
      begin();
      end("eval_rlhf", StageRuns.eval(config.eval(), evalData, ppoRlhf, files.tokenizer(), out.resolve(EVAL_RLHF_DIR),
          "eval-rlhf", log, evalOptions));
      begin();
      end("eval_fact_rlhf", StageRuns.eval(config.eval(), evalData, ppoFact, files.tokenizer(),
          out.resolve(EVAL_FACT_DIR), "eval-fact-rlhf", log, evalOptions));

      seconds.put("total", (System.nanoTime() - start) / 1e9);
      cpuSeconds.put("total", cpuNow() - cpuStart);
      String text = new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create()
          .toJson(summary(evalData, rmPlain, rmFacts)) + "\n";
      AtomicWrite.writeBytes(out.resolve(SUMMARY_FILE), IfExists.REPLACE, text.getBytes(StandardCharsets.UTF_8));
      JsonObject summary = StrictJson.parse(text, SUMMARY_FILE).getAsJsonObject(); // as it reads back
      String table = PipelineSummary.table(summary);
      log.println();
      log.print(table);
      log.printf(Locale.ROOT, "[pipeline] %s: %d MMHal questions, %d POPE probes, %d CHAIR descriptions per model;"
          + " %.1f s in all%n", out.resolve(SUMMARY_FILE), evalCount(summary, "mmhal_questions"),
          evalCount(summary, "pope_probes"), evalCount(summary, "chair_images"), seconds.get("total"));
      return new Result(summary, table, ImmutableMap.copyOf(status), ImmutableMap.copyOf(seconds));
    }

    /** OUT: created if absent; a real folder; an existing summary.json must be a pipeline's (checked before any work). */
    private void prepareOutput() {
      if (Files.isSymbolicLink(out)) {
        throw new FactRlException(out + ": is a symbolic link; give a real folder for the pipeline's output");
      }
      if (Files.exists(out) && !Files.isDirectory(out)) {
        throw new FactRlException(out + ": exists and is not a folder");
      }
      Path summary = out.resolve(SUMMARY_FILE);
      if (Files.exists(summary, LinkOption.NOFOLLOW_LINKS)) {
        boolean ours = false;
        if (Files.isRegularFile(summary, LinkOption.NOFOLLOW_LINKS)) {
          try {
            JsonElement e = StrictJson.parse(JsonRecords.readText(summary), summary.toString());
            ours = e.isJsonObject() && e.getAsJsonObject().has("format")
                && SUMMARY_FORMAT.equals(e.getAsJsonObject().get("format").getAsString());
          } catch (FactRlException | IllegalStateException | UnsupportedOperationException e) {
            ours = false;
          }
        }
        if (!ours) {
          throw new FactRlException(summary + ": exists and is not a pipeline summary (no format '" + SUMMARY_FORMAT
              + "'); the pipeline leaves it alone: give another output folder");
        }
      }
      try {
        Files.createDirectories(out);
      } catch (IOException e) {
        throw new FactRlException(out + ": cannot create the output folder: " + e, e);
      }
      log.println("[pipeline] output " + out + "; base: " + config.base().describe());
    }

    private Path data() {
      begin();
      Path data = out.resolve(DATA_DIR);
      ShapesDataSetWriter writer = ShapesDataSetWriter.builder().scenes(config.scenes()).seed(config.seed())
          .imageSize(config.imageSize())
          .overwrite(true) // only ever a data set a run wrote: the writer proves it before replacing
          .notices(line -> log.println("[pipeline] data: " + line))
          .tokenizer(config.base().tokenizer().orElse(null)) // a saved base's own ids, else learnt
          .build();
      if (writer.wroteAlready(data)) {
        log.println("[pipeline] data: reusing " + data + " (same settings)");
        end("data", StageRuns.Status.REUSED.word);
        return data;
      }
      List<Path> later = STAGE_DIRS.stream().map(out::resolve).toList();
      if (StageRuns.anyExists(later)) {
        throw new FactRlException(data + ": is not the data set of these settings (seed " + config.seed() + ", "
            + config.scenes() + " scenes, " + config.imageSize() + " px), and later stages in " + out
            + " were trained on what was there; give a new output folder");
      }
      DataSetSummary summary = writer.write(data);
      log.println("[pipeline] " + summary.describe().replace("\n", "\n[pipeline] "));
      end("data", StageRuns.Status.RAN.word);
      return data;
    }

    private void begin() {
      stageStart = System.nanoTime();
      stageCpuStart = cpuNow();
    }

    /**
     * CPU seconds of this process so far. On a shared machine wall time says little (other jobs take
     * the cores); CPU time / cores is what a stage costs on an idle machine.
     */
    private static double cpuNow() {
      return ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
    }

    private Path end(String stage, Outcome o) {
      end(stage, o.status().word);
      return o.checkpoint();
    }

    private void end(String stage, String what) {
      double s = (System.nanoTime() - stageStart) / 1e9;
      double cpu = cpuNow() - stageCpuStart;
      seconds.put(stage, s);
      cpuSeconds.put(stage, cpu);
      status.put(stage, what);
      log.printf(Locale.ROOT, "[pipeline] %s: %s, %.1f s (CPU %.1f s)%n", stage, what, s, cpu);
    }

    private boolean done(Stage stage) {
      return config.until() == stage;
    }

    /** Both reward models train on the pairs sampled from this run's SFT model. */
    private static RmConfig withPrefs(RmConfig rm, Path prefs) {
      return rm.toBuilder().preferences(prefs.toString()).build();
    }

    private Result early() {
      seconds.put("total", (System.nanoTime() - start) / 1e9);
      log.println("[pipeline] stopped after stage " + config.until().name().toLowerCase(Locale.ROOT)
          + " as asked; no summary written");
      return new Result(null, "", ImmutableMap.copyOf(status), ImmutableMap.copyOf(seconds));
    }

    private JsonObject summary(EvalData evalData, Path rmPlain, Path rmFacts) {
      JsonObject s = new JsonObject();
      s.addProperty("format", SUMMARY_FORMAT);
      s.add("sft", PipelineSummary.variant(StageRuns.evalMetrics(out.resolve(EVAL_SFT_DIR)), Double.NaN));
      s.add("rlhf", PipelineSummary.variant(StageRuns.evalMetrics(out.resolve(EVAL_RLHF_DIR)),
          StageRuns.rmAccuracy(rmPlain)));
      s.add("fact_rlhf", PipelineSummary.variant(StageRuns.evalMetrics(out.resolve(EVAL_FACT_DIR)),
          StageRuns.rmAccuracy(rmFacts)));
      JsonObject sec = new JsonObject();
      seconds.forEach(sec::addProperty);
      s.add("stage_seconds", sec);
      JsonObject cpu = new JsonObject();
      cpuSeconds.forEach((k, v) -> {
        if (Double.isFinite(v)) {
          cpu.addProperty(k, v);
        }
      });
      s.add("stage_cpu_seconds", cpu);
      JsonObject st = new JsonObject();
      status.forEach(st::addProperty);
      s.add("stage_status", st);
      EvalData used = evalData.limit(config.eval().limit());
      JsonObject ev = new JsonObject();
      ev.addProperty("mmhal_questions", used.mmhal().size());
      ev.addProperty("pope_probes", used.pope().values().stream().mapToInt(List::size).sum());
      ev.addProperty("chair_images", used.distinctImages().size());
      ev.addProperty("mmhal_questions_in_split", evalData.mmhal().size());
      ev.addProperty("subset", used.sources().get("subset"));
      s.add("eval", ev);
      JsonObject settings = new JsonObject();
      settings.addProperty("seed", config.seed());
      settings.addProperty("scenes", config.scenes());
      settings.addProperty("image_size", config.imageSize());
      settings.addProperty("base", config.base().describe());
      settings.add("sft", config.sft().toJson());
      settings.add("prefs", config.prefs().toJson());
      settings.add("rm", config.rm().toJson());
      settings.add("ppo", config.ppo().toJson());
      settings.add("eval", config.eval().toJson());
      s.add("settings", settings);
      return s;
    }

    private static long evalCount(JsonObject summary, String key) {
      return summary.getAsJsonObject("eval").get(key).getAsLong();
    }
  }
}

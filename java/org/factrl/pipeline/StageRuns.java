package org.factrl.pipeline;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.StrictJson;
import org.factrl.engine.FactRlException;
import org.factrl.eval.EvalConfig;
import org.factrl.eval.EvalData;
import org.factrl.eval.Evaluator;
import org.factrl.ppo.PpoConfig;
import org.factrl.ppo.PpoStage;
import org.factrl.reward.PreferenceSamplerConfig;
import org.factrl.stages.BaseModel;
import org.factrl.stages.EvalStage;
import org.factrl.stages.PrefsStage;
import org.factrl.stages.RmConfig;
import org.factrl.stages.RmStage;
import org.factrl.stages.SftConfig;
import org.factrl.stages.SftModel;
import org.factrl.stages.SftStage;
import org.factrl.train.CheckpointStore;
import org.factrl.train.TrainerState;

/**
 * One stage of the pipeline in its own folder, run so that running the pipeline again continues
 * it: a folder that is absent or empty gets a fresh run; a run folder of the stage with the same
 * settings and inputs is <b>reused</b> when its last checkpoint is the final step, <b>resumed</b>
 * (the stage's own resume: bitwise the same next steps on the CPU) when it is not; anything else
 * (other settings, other inputs, a folder that is not the stage's) is refused with the folder and
 * the difference named, and nothing in it is touched.
 */
final class StageRuns {
  /** What happened to a stage in this call. */
  enum Status {
    RAN("ran"), RESUMED("resumed"), REUSED("reused");

    final String word;

    Status(String word) {
      this.word = word;
    }
  }

  /** A stage's outcome: its final checkpoint (training stages) and what was done. */
  record Outcome(Path checkpoint, Status status) {}

  static final String PREFS_FILE = "preferences.json";

  private StageRuns() {}

  static Outcome sft(SftConfig config, Path data, BaseModel base, Path dir, PrintStream log,
      SftStage.Options options) {
    if (isAbsentOrEmpty(dir)) {
      log.println("[pipeline] sft: training into " + dir);
      return new Outcome(SftStage.run(config, data, base, dir, options).checkpoint(), Status.RAN);
    }
    if (!SftStage.isRunFolder(dir)) {
      throw notOurs(dir, "an SFT run folder");
    }
    SftConfig saved = SftStage.runConfig(dir);
    if (!saved.equals(config)) {
      throw otherSettings(dir, config.differences(saved));
    }
    JsonElement savedBase = runFile(dir).get("base");
    if (!normalized(base.toJson()).equals(savedBase)) {
      throw new FactRlException(dir + ": was trained from another base (" + savedBase + ", now " + base.toJson()
          + "); give a new output folder");
    }
    return trainerRun(dir, SftStage.CHECKPOINTS_DIR, "sft", log,
        () -> SftStage.resume(data, dir, options).checkpoint());
  }

  /**
   * The preference pairs of {@code dir}/preferences.json: sampled from the SFT model and labelled
   * by the exact judge ({@link PrefsStage}). Reused when its statistics file (written last) names the
   * same settings and SFT model; an interrupted run (pairs without statistics) is sampled again.
   */
  static Outcome prefs(PreferenceSamplerConfig config, Path data, Path sftCheckpoint, Path dir, PrintStream log) {
    Path file = dir.resolve(PREFS_FILE);
    Path stats = PrefsStage.statsFile(file);
    Path sft = SftModel.resolve(sftCheckpoint);
    if (Files.isRegularFile(stats, LinkOption.NOFOLLOW_LINKS)) {
      JsonObject saved = readObject(stats);
      JsonObject now = normalized(config.toJson()).getAsJsonObject();
      if (!now.equals(saved.get("config"))) {
        throw otherSettings(dir, differences(now, saved.getAsJsonObject("config")));
      }
      if (!Path.of(string(saved, "sft", stats)).toAbsolutePath().normalize().equals(sft)) {
        throw new FactRlException(dir + ": pairs were sampled from " + string(saved, "sft", stats) + ", but this run's"
            + " SFT model is " + sft + "; give a new output folder");
      }
      log.println("[pipeline] prefs: reusing " + file);
      return new Outcome(file, Status.REUSED);
    }
    if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      try (Stream<Path> s = Files.list(dir)) {
        List<Path> other = s.filter(p -> !p.equals(file)).toList();
        if (!other.isEmpty()) {
          throw notOurs(dir, "a preference-sampling folder");
        }
      } catch (IOException e) {
        throw new FactRlException(dir + ": cannot list: " + e, e);
      }
      try {
        Files.deleteIfExists(file); // pairs without statistics: an interrupted run of this stage
      } catch (IOException e) {
        throw new FactRlException(file + ": cannot remove the interrupted run's pairs: " + e, e);
      }
    }
    log.println("[pipeline] prefs: sampling " + config.pairs() + " pairs from " + sft + " into " + file);
    PrefsStage.run(config, data, sftCheckpoint, file, log);
    return new Outcome(file, Status.RAN);
  }

  static Outcome rm(RmConfig config, Path data, Path sftCheckpoint, Path dir, String name, PrintStream log,
      SftStage.Options options) {
    if (isAbsentOrEmpty(dir)) {
      log.println("[pipeline] " + name + ": training (facts " + (config.facts() ? "on" : "off") + ") into " + dir);
      return new Outcome(RmStage.run(config, data, sftCheckpoint, dir, options).checkpoint(), Status.RAN);
    }
    if (!RmStage.isRunFolder(dir)) {
      throw notOurs(dir, "a reward-model run folder");
    }
    RmConfig saved = RmStage.runConfig(dir);
    if (!saved.equals(config)) {
      throw otherSettings(dir, config.differences(saved));
    }
    checkInput(dir, "sft", SftModel.resolve(sftCheckpoint));
    return trainerRun(dir, RmStage.CHECKPOINTS_DIR, name, log,
        () -> RmStage.resume(data, dir, options).checkpoint());
  }

  static Outcome ppo(PpoConfig config, Path data, Path sftCheckpoint, Path rmCheckpoint, Path dir, String name,
      PrintStream log, PrintStream progress) {
    if (isAbsentOrEmpty(dir)) {
      log.println("[pipeline] " + name + ": " + config.steps() + " PPO steps (facts " + config.facts()
          + ", symbolic rewards " + config.symbolicRewards() + ") into " + dir);
      return new Outcome(PpoStage.run(config, data, sftCheckpoint, rmCheckpoint, dir, progress, 0).lastCheckpoint(),
          Status.RAN);
    }
    Path runFile = dir.resolve(PpoStage.RUN_FILE);
    JsonObject run = runFile(dir);
    if (!run.has("format") || !PpoStage.RUN_FORMAT.equals(string(run, "format", runFile))) {
      throw notOurs(dir, "a PPO run folder");
    }
    PpoConfig saved = PpoConfig.read(dir.resolve(PpoConfig.FILE_NAME));
    if (!saved.equals(config)) {
      throw otherSettings(dir, differences(config.toJson(), saved.toJson()));
    }
    checkInput(dir, "sft", sftCheckpoint.toAbsolutePath().normalize());
    checkInput(dir, "rm", rmCheckpoint.toAbsolutePath().normalize());
    Optional<Path> latest = new CheckpointStore(dir.resolve(PpoStage.CHECKPOINTS_DIR)).latest();
    if (latest.isPresent() && CheckpointStore.stepOf(latest.get()) >= config.steps()) {
      log.println("[pipeline] " + name + ": reusing " + latest.get() + " (finished: step " + config.steps() + ")");
      return new Outcome(latest.get(), Status.REUSED);
    }
    log.println("[pipeline] " + name + ": resuming " + dir + " after step "
        + latest.map(CheckpointStore::stepOf).orElse(0L) + " of " + config.steps());
    return new Outcome(PpoStage.resume(data, dir, progress, 0).lastCheckpoint(), Status.RESUMED);
  }

  /**
   * An evaluation: reused when {@code dir} holds an evaluation of the same checkpoint with the same
   * settings and data; otherwise (absent, empty, or an earlier evaluation of something else) it
   * runs — an evaluation writes its folder whole at the end, so an interrupted one left nothing.
   */
  static Outcome eval(EvalConfig config, EvalData data, Path checkpoint, Path tokenizer, Path dir, String name,
      PrintStream log, EvalStage.Options options) {
    Path model = EvalStage.modelFolder(checkpoint);
    Path metrics = dir.resolve(EvalStage.METRICS_FILE);
    EvalStage.outputFolder(dir).check(); // refuses a folder that is not an evaluation's, naming the first foreign file
    if (Files.isRegularFile(metrics, LinkOption.NOFOLLOW_LINKS)) {
      JsonObject m = readObject(metrics);
      JsonObject settings = config.toJson();
      JsonObject sources = new JsonObject();
      data.sources().forEach(sources::addProperty);
      settings.add("data", sources);
      boolean same = m.has("settings") && normalized(settings).equals(m.get("settings")) && m.has("model")
          && m.get("model").isJsonObject() && m.getAsJsonObject("model").has("checkpoint")
          && model.toString().equals(m.getAsJsonObject("model").get("checkpoint").getAsString());
      if (same) {
        log.println("[pipeline] " + name + ": reusing " + dir + " (same model and settings)");
        return new Outcome(model, Status.REUSED);
      }
      log.println("[pipeline] " + name + ": " + dir + " holds an evaluation of another model or settings;"
          + " evaluating again (it is replaced)");
    } else {
      log.println("[pipeline] " + name + ": evaluating " + model + " into " + dir);
    }
    EvalStage.run(config, data, checkpoint, tokenizer, dir, options);
    return new Outcome(model, Status.RAN);
  }

  /** The metrics an evaluation folder holds (its {@code metrics.json}, format checked). */
  static JsonObject evalMetrics(Path dir) {
    Path f = dir.resolve(EvalStage.METRICS_FILE);
    JsonObject m = readObject(f);
    if (!m.has("format") || !Evaluator.FORMAT.equals(string(m, "format", f))) {
      throw new FactRlException(f + ": not an evaluation's metrics (format is not '" + Evaluator.FORMAT + "')");
    }
    return m;
  }

  /** The held-out accuracy recorded in a reward-model checkpoint ({@code rm_eval.json}, written at the last step). */
  static double rmAccuracy(Path rmCheckpoint) {
    Path f = rmCheckpoint.resolve(RmStage.EVAL_FILE);
    if (!Files.isRegularFile(f)) {
      throw new FactRlException(rmCheckpoint + ": no " + RmStage.EVAL_FILE + " (the held-out accuracy of the last step)");
    }
    JsonObject o = readObject(f);
    if (!o.has("heldout_accuracy") || !o.get("heldout_accuracy").isJsonPrimitive()) {
      throw new FactRlException(f + ": key 'heldout_accuracy' is missing");
    }
    return o.get("heldout_accuracy").getAsDouble();
  }

  /** Whether a data set folder is one a later stage might already depend on: any stage folder beside it. */
  static boolean anyExists(List<Path> dirs) {
    return dirs.stream().anyMatch(d -> Files.exists(d, LinkOption.NOFOLLOW_LINKS));
  }

  static boolean isAbsentOrEmpty(Path dir) {
    if (Files.isSymbolicLink(dir)) {
      throw new FactRlException(dir + ": is a symbolic link; the pipeline writes only real folders it made");
    }
    if (!Files.exists(dir)) {
      return true;
    }
    if (!Files.isDirectory(dir)) {
      throw new FactRlException(dir + ": exists and is not a folder; refusing to write there");
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.findAny().isEmpty();
    } catch (IOException e) {
      throw new FactRlException(dir + ": cannot list: " + e, e);
    }
  }

  /** Reuses a finished SFT / RM run folder, or resumes it (trainer_state.json: step vs total). */
  private static Outcome trainerRun(Path dir, String checkpoints, String name, PrintStream log,
      java.util.function.Supplier<Path> resume) {
    Optional<Path> latest = new CheckpointStore(dir.resolve(checkpoints)).latest();
    if (latest.isPresent()) {
      TrainerState s = TrainerState.read(latest.get());
      if (s.step() >= s.totalSteps()) {
        log.println("[pipeline] " + name + ": reusing " + latest.get() + " (finished: step " + s.step() + " of "
            + s.totalSteps() + ")");
        return new Outcome(latest.get(), Status.REUSED);
      }
      log.println("[pipeline] " + name + ": resuming " + dir + " after step " + s.step() + " of " + s.totalSteps());
    } else {
      log.println("[pipeline] " + name + ": resuming " + dir + " from its start (no complete checkpoint yet)");
    }
    return new Outcome(resume.get(), Status.RESUMED);
  }

  /** The run folder's run.json must name {@code expected} under {@code key}: the stage's input. */
  private static void checkInput(Path dir, String key, Path expected) {
    Path f = dir.resolve("run.json");
    String was = string(runFile(dir), key, f);
    if (!Path.of(was).toAbsolutePath().normalize().equals(expected)) {
      throw new FactRlException(dir + ": was trained from " + key + " " + was + ", but this run's " + key + " is "
          + expected + "; give a new output folder");
    }
  }

  /**
   * {@code e} as it reads back from a file: a float setting (0.02f) is written as "0.02" and read
   * back as the double 0.02, so an in-memory config and a saved one compare only after this.
   */
  static JsonElement normalized(JsonElement e) {
    return StrictJson.parse(e.toString(), "settings");
  }

  private static JsonObject runFile(Path dir) {
    Path f = dir.resolve("run.json");
    if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
      throw new FactRlException(dir + ": is not empty and has no run.json; not a stage folder the pipeline wrote"
          + " (give a new output folder)");
    }
    return readObject(f);
  }

  private static JsonObject readObject(Path f) {
    JsonElement e = StrictJson.parse(JsonRecords.readText(f), f.toString());
    if (!e.isJsonObject()) {
      throw new FactRlException(f + ": not a JSON object");
    }
    return e.getAsJsonObject();
  }

  private static String string(JsonObject o, String key, Path file) {
    JsonElement e = o.get(key);
    if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw new FactRlException(file + ": key '" + key + "' is missing or not a string");
    }
    return e.getAsString();
  }

  private static FactRlException notOurs(Path dir, String what) {
    return new FactRlException(dir + ": is not empty and is not " + what + "; the pipeline leaves it alone"
        + " (give a new output folder)");
  }

  private static FactRlException otherSettings(Path dir, String differences) {
    return new FactRlException(dir + ": a run with other settings (" + differences + "); the pipeline continues only"
        + " its own runs: give a new output folder");
  }

  private static String differences(JsonObject now, JsonObject then) {
    List<String> out = new ArrayList<>();
    TreeSet<String> keys = new TreeSet<>(now.keySet());
    keys.addAll(then.keySet());
    for (String k : keys) {
      if (!java.util.Objects.equals(now.get(k), then.get(k))) {
        out.add(k + ": " + now.get(k) + " vs " + then.get(k));
      }
    }
    return String.join(", ", out);
  }
}

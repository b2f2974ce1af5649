package org.factrl.ppo;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.factrl.data.dataset.AnnotatedJudge;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.RlPrompt;
import org.factrl.data.format.RlPromptCodec;
import org.factrl.data.format.StrictJson;
import org.factrl.data.image.ImagePaths;
import org.factrl.data.image.ImagePreprocessor;
import org.factrl.data.image.ResizeMode;
import org.factrl.data.text.ChatTemplate;
import org.factrl.data.text.SpecialTokens;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;
import org.factrl.plots.MetricsPlots;
import org.factrl.reward.RewardScorer;
import org.factrl.stages.RmConfig;
import org.factrl.stages.SftModel;
import org.factrl.train.CheckpointStore;
import org.factrl.train.ModelTokenizer;
import org.factrl.train.SplitMix64;

/**
 * The PPO stage (DESIGN.md §4 item 3) as a Java API: the SFT model of {@code sft} as the one base,
 * the RM of {@code rm} loaded into it (adapter and head {@value #RM}), the value adapter initialised
 * from the RM's, a {@link PpoTrainer} over the data set's {@code rl_prompts.json} (first question,
 * chat template's generation prompt, image tokens expanded). Run folder: {@code run.json},
 * {@value PpoConfig#FILE_NAME}, {@code metrics.jsonl} (one {@link PpoStepMetrics} per line),
 * {@code checkpoints/step-N/} ({@link PpoTrainer#save}, atomic). Prompts per step are a pure
 * function of (seed, step) — a seeded permutation per pass over the prompts — so {@link #resume}
 * needs no data-order state and takes bitwise the same next step on the CPU. When the data set has
 * {@code annotations.json}, each step's metrics also carry the exact judge's hallucination rate on
 * its rollouts ({@link #judgeOf}; a monitor: the rewards do not read it).
 *
 * <p>Status: compiled and wired; the end-to-end run on a real data set is not yet tested (the
 * trainer it drives is: PpoTrainerTest).
 */
public final class PpoStage {
  public static final String RM = "rm";
  public static final String RUN_FILE = "run.json";
  public static final String RUN_FORMAT = "factrl.ppo.run.v1";
  public static final String METRICS_FILE = "metrics.jsonl";
  public static final String CHECKPOINTS_DIR = "checkpoints";

  /** What a call did: steps done in all, the last checkpoint, the last step's metrics (null when none ran). */
  public record Result(long steps, Path lastCheckpoint, PpoStepMetrics last) {}

  private PpoStage() {}

  /** A fresh run into {@code outDir} (absent or empty); {@code stopAfterStep} 0 = to the end. */
  public static Result run(PpoConfig config, Path dataDir, Path sft, Path rm, Path outDir, PrintStream progress,
      long stopAfterStep) {
    Objects.requireNonNull(config, "config");
    Path out = outDir.toAbsolutePath().normalize();
    checkTokenizers(DataSetFiles.in(dataDir.toAbsolutePath().normalize()), sft, rm); // before anything is written
    try {
      if (Files.exists(out)) {
        try (var s = Files.list(out)) {
          if (s.findAny().isPresent()) {
            throw new FactRlException(out + ": is not empty; give a new or empty folder, or resume (--resume)");
          }
        }
      }
      Files.createDirectories(out);
    } catch (IOException e) {
      throw new FactRlException(out + ": cannot create the run folder: " + e, e);
    }
    JsonObject run = new JsonObject();
    run.addProperty("format", RUN_FORMAT);
    run.addProperty("sft", sft.toAbsolutePath().normalize().toString());
    run.addProperty("rm", rm.toAbsolutePath().normalize().toString());
    AtomicWrite.writeBytes(out.resolve(RUN_FILE), IfExists.FAIL,
        (JsonRecords.toPrettyJson(run) + "\n").getBytes(StandardCharsets.UTF_8));
    config.write(out.resolve(PpoConfig.FILE_NAME), IfExists.FAIL);
    return train(config, dataDir, Path.of(run.get("sft").getAsString()), Path.of(run.get("rm").getAsString()), out,
        Optional.empty(), progress, stopAfterStep);
  }

  /** Continues the run in {@code outDir} from its last complete checkpoint (or from the start). */
  public static Result resume(Path dataDir, Path outDir, PrintStream progress, long stopAfterStep) {
    Path out = outDir.toAbsolutePath().normalize();
    Path f = out.resolve(RUN_FILE);
    if (!Files.isRegularFile(f)) {
      throw new FactRlException(out + ": not a PPO run folder (no " + RUN_FILE + "); nothing to resume");
    }
    JsonObject run = StrictJson.parse(JsonRecords.readText(f), f.toString()).getAsJsonObject();
    if (!run.has("format") || !RUN_FORMAT.equals(run.get("format").getAsString())) {
      throw new FactRlException(f + ": not a PPO run file (format is not '" + RUN_FORMAT + "')");
    }
    PpoConfig config = PpoConfig.read(out.resolve(PpoConfig.FILE_NAME));
    Optional<Path> latest = new CheckpointStore(out.resolve(CHECKPOINTS_DIR)).latest();
    return train(config, dataDir, Path.of(run.get("sft").getAsString()), Path.of(run.get("rm").getAsString()), out,
        latest, progress, stopAfterStep);
  }

  /** The prompts of step {@code step}: positions (step−1)·B .. step·B−1 of seeded per-pass permutations. */
  static <T> List<T> promptsOf(List<T> all, long seed, long step, int b) {
    int n = all.size();
    List<T> out = new ArrayList<>(b);
    long epochCached = -1;
    int[] perm = null;
    for (int i = 0; i < b; i++) {
      long k = (step - 1) * b + i;
      long epoch = k / n;
      if (epoch != epochCached) {
        perm = new int[n];
        for (int j = 0; j < n; j++) {
          perm[j] = j;
        }
        SplitMix64 rng = new SplitMix64(SplitMix64.mix(seed ^ SplitMix64.mix(epoch + 0x33L)));
        for (int j = n - 1; j > 0; j--) {
          int r = rng.nextInt(j + 1);
          int x = perm[j];
          perm[j] = perm[r];
          perm[r] = x;
        }
        epochCached = epoch;
      }
      out.add(all.get(perm[(int) (k % n)]));
    }
    return out;
  }

  /**
   * The RL prompts encoded for generation: the first question, the generation prompt, image tokens expanded.
   * Image fields are relative to {@code imageDir} (a data set's images/, as for SFT and the reward model).
   */
  public static List<PpoPrompt> encode(List<RlPrompt> records, Tokenizer tokenizer, ModelConfig mc, Path imageDir,
      int maxPromptTokens) {
    ChatTemplate template = ChatTemplate.vicunaV1();
    ImagePreprocessor images = ImagePreprocessor.builder().size(mc.imageSize())
        .resizeMode(ResizeMode.SHORTEST_SIDE_CENTER_CROP)
        .mean(ImagePreprocessor.CLIP_MEAN[0], ImagePreprocessor.CLIP_MEAN[1], ImagePreprocessor.CLIP_MEAN[2])
        .std(ImagePreprocessor.CLIP_STD[0], ImagePreprocessor.CLIP_STD[1], ImagePreprocessor.CLIP_STD[2])
        .build();
    int img = mc.imageTokenId();
    List<PpoPrompt> out = new ArrayList<>(records.size());
    for (RlPrompt r : records) {
      int[] ids = tokenizer.encode(template.promptForGeneration(List.of(r.conversations().get(0))));
      int placeholders = 0;
      for (int id : ids) {
        placeholders += id == img ? 1 : 0;
      }
      if (placeholders != (r.image().isPresent() ? 1 : 0)) {
        throw new FactRlException("prompt '" + r.id() + "': " + placeholders + " " + SpecialTokens.IMAGE
            + " tokens after tokenising, expected " + (r.image().isPresent() ? 1 : 0));
      }
      int[] x = new int[ids.length + placeholders * (mc.patchesPerImage() - 1)];
      for (int i = 0, o = 0; i < ids.length; i++) {
        if (ids[i] == img) {
          for (int k = 0; k < mc.patchesPerImage(); k++) {
            x[o++] = img;
          }
        } else {
          x[o++] = ids[i];
        }
      }
      if (x.length > maxPromptTokens) {
        throw new FactRlException("prompt '" + r.id() + "': " + x.length + " tokens, above key 'max_prompt_tokens' "
            + maxPromptTokens);
      }
      float[] pixels = r.image().isPresent()
          ? images.load(ImagePaths.resolve(imageDir, r.image().get(), "prompt '" + r.id() + "': field 'image'"))
          : null;
      out.add(new PpoPrompt(r.id(), x, pixels, r.answer(), r));
    }
    return out;
  }

  private static Result train(PpoConfig config, Path dataDir, Path sft, Path rm, Path out, Optional<Path> checkpoint,
      PrintStream progress, long stopAfterStep) {
    DataSetFiles files = DataSetFiles.in(dataDir.toAbsolutePath().normalize());
    checkTokenizers(files, sft, rm);
    CheckpointStore store = new CheckpointStore(out.resolve(CHECKPOINTS_DIR));
    try (Device cpu = Device.cpu(); Tokenizer tok = Tokenizer.load(files.tokenizer());
        LlavaModel model = SftModel.open(cpu, sft)) {
      RmConfig rc = RewardScorer.loadInto(model, rm, RM, RM);
      if (rc.facts() != config.facts()) {
        throw new FactRlException("key 'facts' is " + config.facts() + " but the reward model " + rm + " was trained "
            + (rc.facts() ? "with" : "without") + " facts; use an RM of the variant (rlhf: without, fact-rlhf: with)");
      }
      List<PpoPrompt> prompts = encode(RlPromptCodec.read(files.rlPrompts()), tok, model.config(),
          files.images(), config.maxPromptTokens());
      if (prompts.isEmpty()) {
        throw new FactRlException(files.rlPrompts() + ": holds no prompts");
      }
      if (checkpoint.isPresent()) {
        PpoTrainer.loadRoles(model, checkpoint.get());
      } else {
        PpoTrainer.initValueFrom(model, RM, config);
      }
      RewardScorer rs = RewardScorer.over(model, tok, RM, RM, rc, config.rolloutsPerStep());
      RmSequenceScorer scorer = new RmSequenceScorer(rs, tok, files.images(), RM, RM, config.seed());
      int eos = tok.requireTokenId(SpecialTokens.EOS);
      int pad = tok.requireTokenId(SpecialTokens.PAD);
      // A data set without annotations.json (not the shapes world's) has nothing to judge against.
      Optional<AnnotatedJudge> annotated = Files.isRegularFile(files.annotations())
          ? Optional.of(AnnotatedJudge.read(files.annotations())) : Optional.empty();
      ResponseJudge judge = annotated.map(PpoStage::judgeOf).orElse(null);
      try (PpoTrainer tr = new PpoTrainer(model, config, scorer, ids -> tok.decode(ids, true), judge, eos, pad)) {
        if (checkpoint.isPresent()) {
          tr.restore(checkpoint.get());
        }
        if (progress != null) {
          progress.println(tr.memoryReport());
          progress.println(judge == null ? "ppo: no " + files.annotations().getFileName()
              + " in the data set; hallucination is not monitored"
              : "ppo: hallucination monitor: the exact judge reads rollouts of " + judgeable(prompts, annotated.get())
                  + " of " + prompts.size() + " prompts (images annotated in " + files.annotations().getFileName() + ")");
        }
        long end = stopAfterStep > 0 ? Math.min(config.steps(), stopAfterStep) : config.steps();
        Path metrics = out.resolve(METRICS_FILE);
        keepMetricsUpTo(metrics, tr.completedSteps());
        Path last = checkpoint.orElse(null);
        PpoStepMetrics m = null;
        for (long s = tr.completedSteps() + 1; s <= end; s++) {
          m = tr.step(promptsOf(prompts, config.seed(), s, config.rolloutsPerStep()));
          appendLine(metrics, m.toJson().toString());
          if (progress != null && (s % config.logEvery() == 0 || s == end)) {
            progress.printf(Locale.ROOT, "ppo: step %d/%d reward %.3f score %.3f kl %.3f len %.1f entropy %.3f clip %.3f"
                + " vloss %.4f corr(reward,len) %+.2f no-eos %.2f%s%s%n", s, config.steps(), m.reward(), m.score(), m.kl(),
                m.length(), m.entropy(), m.clipFraction(), m.valueLoss(), m.rewardLengthCorrelation(), m.noEosShare(),
                m.judged() > 0 ? String.format(Locale.ROOT, " halluc %.2f (%d judged)", m.hallucinationRate(), m.judged())
                    : "",
                m.klBlowUp() ? " KL-BLOW-UP" : "");
          }
          if (m.klBlowUp()) { // every flagged step, whatever log_every says
            KlMonitor km = tr.klMonitor();
            (progress != null ? progress : System.err).println("ppo: WARNING step " + s + ": "
                + tr.lastKlVerdict().reason(km.threshold(), km.factor(), km.window()));
          }
          if ((config.checkpointEvery() > 0 && s % config.checkpointEvery() == 0) || s == end) {
            last = store.write(s, folder -> {
              tr.save(folder);
              ModelTokenizer.copyInto(folder, files.tokenizer()); // eval and the API read it with the checkpoint
            });
            MetricsPlots.writeForStage(metrics, out.resolve(MetricsPlots.DIR), progress);
          }
        }
        return new Result(Math.max(end, tr.completedSteps()), last, m);
      }
    }
  }

  /**
   * The hallucination monitor over a data set's annotations: a rollout of an RL prompt whose image
   * is annotated is judged by the exact judge against that scene, as the prefs stage labels its
   * samples ({@link AnnotatedJudge}); other rollouts are not judged.
   */
  static ResponseJudge judgeOf(AnnotatedJudge judge) {
    return (prompt, response) -> prompt.source() instanceof RlPrompt r && r.image().isPresent()
        ? judge.judge(r.image().get(), r.firstQuestion(), response)
            .map(j -> new ResponseJudge.Verdict(j.hallucinationCount(), j.informativeCount()))
        : Optional.empty();
  }

  /** How many of {@code prompts} the monitor can judge (for the start line). */
  private static long judgeable(List<PpoPrompt> prompts, AnnotatedJudge judge) {
    return prompts.stream().filter(p -> p.source() instanceof RlPrompt r && r.image().isPresent()
        && judge.scene(r.image().get()).isPresent()).count();
  }

  /** The SFT and reward models must have been trained with the data set's tokenizer, when they carry one. */
  private static void checkTokenizers(DataSetFiles files, Path sft, Path rm) {
    ModelTokenizer.check(SftModel.resolve(sft), files.tokenizer());
    ModelTokenizer.check(rm.toAbsolutePath().normalize(), files.tokenizer());
  }

  /** Drops metric lines after {@code step} (a resumed run rewrites them). */
  private static void keepMetricsUpTo(Path file, long step) {
    if (!Files.exists(file)) {
      return;
    }
    List<String> kept = new ArrayList<>();
    for (String line : JsonRecords.readText(file).split("\n")) {
      if (!line.isBlank() && StrictJson.parse(line, file.toString()).getAsJsonObject().get("step").getAsLong() <= step) {
        kept.add(line);
      }
    }
    AtomicWrite.writeBytes(file, IfExists.REPLACE,
        (kept.isEmpty() ? "" : String.join("\n", kept) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  private static void appendLine(Path file, String line) {
    try {
      Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot append: " + e, e);
    }
  }
}

package org.factrl.stages;

import com.google.common.collect.ImmutableList;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.factrl.data.dataset.AnnotatedJudge;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.format.AtomicFiles;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.PreferencePair;
import org.factrl.data.format.PreferencePairCodec;
import org.factrl.data.shapes.Scene;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.eval.ModelAnswerSource;
import org.factrl.model.GenerateConfig;
import org.factrl.model.LlavaModel;
import org.factrl.reward.PreferenceSampler;
import org.factrl.reward.PreferenceSamplerConfig;
import org.factrl.reward.PreferenceStats;
import org.factrl.train.ModelTokenizer;

/**
 * The {@code prefs} stage: the reward model's preference data as in LLaVA-RLHF (issue 12) — two
 * responses per reward-model prompt sampled from the SFT model, labelled by the exact judge
 * ({@link PreferenceSampler}), plus a share of the data set's bootstrap pairs as a supplement —
 * written as one preferences file {@link RmStage} trains on (its {@code preferences} key).
 *
 * <p>Reads {@code dataDir}'s {@code preferences.json} (the RM split's prompts, their facts and the
 * bootstrap pairs), {@code annotations.json} (what the judge checks against), {@code images/} and
 * {@code tokenizer.json}. The SFT model is the one the reward model starts from ({@link SftModel}:
 * a LoRA adapter merged), sampled without adapters. Writes {@code outFile} (sampled pairs first,
 * then bootstrap; each record's {@code source} says which) and {@link #statsFile} beside it:
 * the effective config, prompt / response / drop counts, seconds, and {@link PreferenceStats} of
 * the sampled pairs, the bootstrap pairs and all together. Neither file may exist already.
 */
public final class PrefsStage {
  public static final String STATS_FORMAT = "factrl.prefs.stats.v1";

  private PrefsStage() {}

  /** The statistics file beside {@code outFile}: {@code X.json} → {@code X.stats.json}. */
  public static Path statsFile(Path outFile) {
    String name = outFile.getFileName().toString();
    String stem = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
    return outFile.resolveSibling(stem + ".stats.json");
  }

  /**
   * Samples, labels and writes (see the class comment); {@code progress} (may be null) gets a line
   * per round and a summary.
   */
  public static PrefsResult run(PreferenceSamplerConfig config, Path dataDir, Path sftCheckpoint, Path outFile,
      PrintStream progress) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(sftCheckpoint, "sftCheckpoint");
    Objects.requireNonNull(outFile, "outFile");
    long t0 = System.nanoTime();
    Path out = outFile.toAbsolutePath().normalize();
    Path stats = statsFile(out);
    for (Path p : List.of(out, stats)) {
      if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        throw new FactRlException(p + ": already exists; the prefs stage writes only new files");
      }
    }
    DataSetFiles files = DataSetFiles.in(dataDir.toAbsolutePath().normalize());
    Path source = files.preferences();
    if (!Files.isRegularFile(source)) {
      throw new FactRlException(source + ": missing (not a FactRL data set folder? write one with bin/factrl data)");
    }
    List<PreferencePair> bootstrap = PreferencePairCodec.read(source);
    Map<String, Scene> scenes = AnnotatedJudge.scenesByImage(files.annotations());
    ImmutableList<PreferenceSampler.Prompt> prompts = PreferenceSampler.prompts(bootstrap, scenes, files.images(),
        source);
    Path sft = SftModel.resolve(sftCheckpoint);
    ModelTokenizer.check(sft, files.tokenizer());
    PreferenceSampler sampler = new PreferenceSampler(config);
    PreferenceSampler.Result r;
    try (Device cpu = Device.cpu(); Tokenizer tokenizer = Tokenizer.load(files.tokenizer());
        LlavaModel model = SftModel.open(cpu, sft)) {
      GenerateConfig generate = GenerateConfig.builder().maxNewTokens(config.maxNewTokens())
          .temperature(config.temperature()).topP(config.topP()).build();
      if (progress != null) {
        progress.printf(Locale.ROOT, "prefs: %d prompts, %d sampled pairs wanted (+%.0f%% bootstrap), SFT model %s%n",
            prompts.size(), config.sampledPairs(), 100 * config.bootstrapShare(), sft);
      }
      r = sampler.sample(prompts, (questions, seed) -> {
        try (ModelAnswerSource answers = new ModelAnswerSource(model, null, tokenizer, questions.size(),
            generate.toBuilder().seed(seed).build())) {
          return answers.answer(questions, n -> { });
        }
      }, progress);
    }
    if (r.pairs().isEmpty()) {
      throw new FactRlException("prefs: no pair of " + r.responses() + " responses was decisive (dropped: "
          + r.dropped() + "); the SFT model's samples are all tied, identical or empty");
    }
    ImmutableList<PreferenceSampler.LabelledPair> extra = sampler.bootstrap(bootstrap, r.pairs().size());
    List<PreferenceSampler.LabelledPair> all = new ArrayList<>(r.pairs());
    all.addAll(extra);
    try {
      Files.createDirectories(out.getParent());
    } catch (IOException e) {
      throw new FactRlException(out.getParent() + ": cannot create the output folder: " + e, e);
    }
    PreferenceSampler.write(out, all);
    double seconds = (System.nanoTime() - t0) / 1e9;
    double sampling = r.generateSeconds() + r.judgeSeconds();
    JsonObject o = new JsonObject();
    o.addProperty("format", STATS_FORMAT);
    o.add("config", config.toJson());
    o.addProperty("sft", sft.toString());
    o.addProperty("prompts_file", source.toString());
    o.addProperty("prompts", prompts.size());
    o.addProperty("rounds", r.rounds());
    o.addProperty("responses", r.responses());
    o.addProperty("responses_cut_off", r.cutOff());
    JsonObject drops = new JsonObject();
    r.dropped().forEach((k, v) -> drops.addProperty(k.name().toLowerCase(Locale.ROOT), v));
    o.add("dropped", drops);
    if (r.pairs().size() < config.sampledPairs()) {
      o.addProperty("shortfall", config.sampledPairs() - r.pairs().size());
    }
    o.add("sampled", PreferenceStats.of(r.pairs()));
    o.add("bootstrap", PreferenceStats.of(extra));
    o.add("all", PreferenceStats.of(all));
    JsonObject secs = new JsonObject();
    secs.addProperty("generate", r.generateSeconds());
    secs.addProperty("judge", r.judgeSeconds());
    secs.addProperty("per_100_sampled_pairs", 100 * sampling / r.pairs().size());
    secs.addProperty("total", seconds);
    o.add("seconds", secs);
    AtomicFiles.writeString(stats, JsonRecords.toPrettyJson(o) + "\n");
    if (progress != null) {
      progress.printf(Locale.ROOT, "prefs: %d sampled + %d bootstrap pairs -> %s (%.1f s; %.1f s per 100 sampled"
          + " pairs)%n", r.pairs().size(), extra.size(), out, seconds, 100 * sampling / r.pairs().size());
      if (r.pairs().size() < config.sampledPairs()) {
        progress.printf(Locale.ROOT, "prefs: only %d of %d sampled pairs after %d rounds (raise max_rounds)%n",
            r.pairs().size(), config.sampledPairs(), r.rounds());
      }
    }
    return new PrefsResult(out, stats, r.pairs().size(), extra.size(), prompts.size(), r.responses(), seconds,
        sampling);
  }
}

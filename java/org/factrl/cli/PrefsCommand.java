package org.factrl.cli;

import java.nio.file.Path;
import java.util.Locale;
import org.factrl.reward.PreferenceSamplerConfig;
import org.factrl.stages.PrefsResult;
import org.factrl.stages.PrefsStage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/factrl prefs}: the reward model's preference pairs as in LLaVA-RLHF ({@link PrefsStage}):
 * two responses per reward-model prompt sampled from an SFT checkpoint, labelled by the exact judge,
 * plus a share of the data set's bootstrap pairs. A thin wrapper: the stage does the work.
 */
@Command(name = "prefs",
    description = "sample SFT responses and label them with the exact judge (reward-model preferences)",
    footer = "train a reward model on it: bin/factrl rm --config C.json with {\"preferences\": \"/abs/FILE\"}")
final class PrefsCommand extends FactrlCommand {
  @Option(names = "--model", paramLabel = "CKPT", required = true, description = "the SFT checkpoint to sample from "
      + "(checkpoints/step-N of an sft run, or the run folder: its last checkpoint); a LoRA SFT adapter is merged "
      + "into its base")
  Path model;

  @Option(names = "--data", paramLabel = "DIR", required = true, description = "a data set written by bin/factrl "
      + "data: its preferences.json gives the reward-model prompts, their facts and the bootstrap pairs; "
      + "annotations.json what the judge checks")
  Path data;

  @Option(names = "--out", paramLabel = "FILE", required = true, description = "the preferences file to write (must "
      + "not exist); FILE's .stats.json beside it gets the label statistics (share where the longer response wins, "
      + "hallucination counts)")
  Path file;

  @Option(names = "--pairs", paramLabel = "N",
      description = "pairs in the file, sampled and bootstrap together (default 1000)")
  Integer pairs; // null: the config's

  @Option(names = "--seed", paramLabel = "S", description = "prompt order, sampling and bootstrap choice (default 0)")
  Long seed; // null: the config's

  @Option(names = "--config", paramLabel = "FILE", description = "settings as JSON (pairs, bootstrap_share, "
      + "temperature, top_p, max_new_tokens, prompts_per_batch, max_rounds, seed); --pairs and --seed override it")
  Path config; // null: defaults

  @Override
  int run() {
    PreferenceSamplerConfig base = config != null ? PreferenceSamplerConfig.read(config)
        : PreferenceSamplerConfig.defaults();
    PreferenceSamplerConfig.Builder b = base.toBuilder();
    if (pairs != null) {
      b.pairs((int) range("--pairs", pairs, 1, 1 << 24));
    }
    if (seed != null) {
      b.seed(seed);
    }
    PrefsResult r = PrefsStage.run(b.build(), data, model, file, err);
    out.printf(Locale.ROOT, "prefs: %d sampled + %d bootstrap pairs from %d prompts (%d responses), %.1f s%n",
        r.sampledPairs(), r.bootstrapPairs(), r.prompts(), r.responses(), r.seconds());
    out.println("pairs: " + r.file());
    out.println("stats: " + r.statsFile());
    return 0;
  }
}

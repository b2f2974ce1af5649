package org.factrl.cli;

import com.google.common.collect.ImmutableSet;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import org.factrl.reward.PreferenceSamplerConfig;
import org.factrl.stages.PrefsResult;
import org.factrl.stages.PrefsStage;

/**
 * {@code bin/factrl prefs}: the reward model's preference pairs as in LLaVA-RLHF ({@link PrefsStage}):
 * two responses per reward-model prompt sampled from an SFT checkpoint, labelled by the exact judge,
 * plus a share of the data set's bootstrap pairs. A thin wrapper: the stage does the work.
 */
final class PrefsCommand implements Command {
  static final String USAGE = """
      usage: bin/factrl prefs --model SFT_CKPT --data DIR --out FILE [--pairs N] [--seed S] [--config FILE]
        --model CKPT   the SFT checkpoint to sample from (checkpoints/step-N of an sft run, or the run
                       folder: its last checkpoint); a LoRA SFT adapter is merged into its base
        --data DIR     a data set written by bin/factrl data: its preferences.json gives the reward-model
                       prompts, their facts and the bootstrap pairs; annotations.json what the judge checks
        --out FILE     the preferences file to write (must not exist); FILE's .stats.json beside it gets
                       the label statistics (share where the longer response wins, hallucination counts)
        --pairs N      pairs in the file, sampled and bootstrap together (default 1000)
        --seed S       prompt order, sampling and bootstrap choice (default 0)
        --config FILE  settings as JSON (pairs, bootstrap_share, temperature, top_p, max_new_tokens,
                       prompts_per_batch, max_rounds, seed); --pairs and --seed override it
      train a reward model on it: bin/factrl rm --config C.json with {"preferences": "/abs/FILE"}""";

  @Override
  public String name() {
    return "prefs";
  }

  @Override
  public String summary() {
    return "sample SFT responses and label them with the exact judge (reward-model preferences)";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public ImmutableSet<String> valuedOptions() {
    return ImmutableSet.of("model", "data", "out", "pairs", "seed", "config");
  }

  @Override
  public int run(Options o, PrintStream out, PrintStream err) {
    Path model = Path.of(o.required("model"));
    Path data = Path.of(o.required("data"));
    Path file = Path.of(o.required("out"));
    PreferenceSamplerConfig base = o.value("config").map(f -> PreferenceSamplerConfig.read(Path.of(f)))
        .orElse(PreferenceSamplerConfig.defaults());
    PreferenceSamplerConfig.Builder b = base.toBuilder();
    if (o.value("pairs").isPresent()) {
      b.pairs((int) o.integer("pairs", 0, 1, 1 << 24));
    }
    if (o.value("seed").isPresent()) {
      b.seed(o.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE));
    }
    PrefsResult r = PrefsStage.run(b.build(), data, model, file, err);
    out.printf(Locale.ROOT, "prefs: %d sampled + %d bootstrap pairs from %d prompts (%d responses), %.1f s%n",
        r.sampledPairs(), r.bootstrapPairs(), r.prompts(), r.responses(), r.seconds());
    out.println("pairs: " + r.file());
    out.println("stats: " + r.statsFile());
    return 0;
  }
}

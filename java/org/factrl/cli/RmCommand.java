package org.factrl.cli;

import com.google.common.collect.ImmutableSet;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.factrl.engine.FactRlException;
import org.factrl.stages.RmConfig;
import org.factrl.stages.RmResult;
import org.factrl.stages.RmStage;
import org.factrl.stages.SftStage;

/**
 * {@code bin/factrl rm}: trains a reward model ({@link RmStage}) on a data set's
 * {@code preferences.json}, starting from an SFT checkpoint. A fresh run writes only into a new or
 * empty {@code --out}; {@code --resume} continues an RM run folder from its last complete
 * checkpoint with its own settings.
 */
final class RmCommand implements Command {
  static final String USAGE = """
      usage: bin/factrl rm --data DIR --sft CKPT --out DIR [--config FILE] [--no-facts] [--resume]
        --data DIR     a data set written by bin/factrl data (preferences.json, images/, tokenizer.json)
        --sft CKPT     the SFT checkpoint to start from (checkpoints/step-N of an sft run, or the run
                       folder: its last checkpoint); a LoRA SFT adapter is merged into its base
        --out DIR      the run folder (metrics.jsonl, checkpoints/step-N/); must not exist or be
                       empty, unless --resume
        --config FILE  reward-model settings as JSON (facts, lr, steps, epochs, pairs_per_step,
                       held_out_pairs, eval_every, lora_rank, lora_alpha, lora_targets, centring,
                       seed, ...); unknown keys and out-of-range values are errors; absent keys take
                       the defaults (org.factrl.stages.RmConfig)
        --no-facts     the standard RLHF reward model: no facts in its input (sets facts: false)
        --resume       continue the run in --out from its last complete checkpoint (no --sft)""";

  @Override
  public String name() {
    return "rm";
  }

  @Override
  public String summary() {
    return "train a (fact-augmented) reward model on pairwise preferences (resumable)";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public ImmutableSet<String> valuedOptions() {
    return ImmutableSet.of("data", "sft", "out", "config");
  }

  @Override
  public ImmutableSet<String> flags() {
    return ImmutableSet.of("no-facts", "resume");
  }

  @Override
  public int run(Options o, PrintStream out, PrintStream err) {
    Path data = Path.of(o.required("data"));
    Path run = Path.of(o.required("out"));
    Optional<RmConfig> config = o.value("config").map(f -> RmConfig.read(Path.of(f)));
    SftStage.Options options = new SftStage.Options(err, System.console() != null, 0);
    RmResult r;
    if (o.flag("resume")) {
      if (o.value("sft").isPresent()) {
        throw new UsageException("--sft is not taken with --resume (the run folder holds its base)");
      }
      if (!RmStage.isRunFolder(run)) {
        throw new FactRlException(run.toAbsolutePath().normalize() + ": not a reward-model run folder (no valid "
            + RmStage.RUN_FILE + "); nothing to resume");
      }
      RmConfig saved = RmStage.runConfig(run);
      RmConfig asked = config.orElse(o.flag("no-facts") ? saved : null);
      if (asked != null && o.flag("no-facts")) {
        asked = asked.toBuilder().facts(false).build(); // --no-facts on a facts run is refused below
      }
      if (asked != null && !asked.equals(saved)) {
        throw new FactRlException(run + ": --config/--no-facts differ from the run's own settings ("
            + asked.differences(saved) + "); a resume keeps the settings it started with");
      }
      r = RmStage.resume(data, run, options);
    } else {
      Path sft = Path.of(o.value("sft").orElseThrow(() -> new UsageException("--sft is required (the SFT checkpoint"
          + " the reward model starts from)")));
      RmConfig c = config.orElse(RmConfig.defaults());
      if (o.flag("no-facts")) {
        c = c.toBuilder().facts(false).build();
      }
      r = RmStage.run(c, data, sft, run, options);
    }
    out.printf(Locale.ROOT, "rm: %d/%d steps (%d this run), final loss %.4f, held-out accuracy %.4f (%d pairs), %.1f s%n",
        r.steps(), r.totalSteps(), r.stepsThisRun(), r.finalLoss(), r.heldOutAccuracy(), r.heldOutPairs(), r.seconds());
    out.println("checkpoint: " + r.checkpoint());
    out.println("metrics:    " + r.metrics());
    return 0;
  }
}

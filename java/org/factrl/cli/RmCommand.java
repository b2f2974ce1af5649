package org.factrl.cli;

import java.nio.file.Path;
import java.util.Locale;
import org.factrl.engine.FactRlException;
import org.factrl.stages.RmConfig;
import org.factrl.stages.RmResult;
import org.factrl.stages.RmStage;
import org.factrl.stages.SftStage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/factrl rm}: trains a reward model ({@link RmStage}) on a data set's
 * {@code preferences.json}, starting from an SFT checkpoint. A fresh run writes only into a new or
 * empty {@code --out}; {@code --resume} continues an RM run folder from its last complete
 * checkpoint with its own settings.
 */
@Command(name = "rm", description = "train a (fact-augmented) reward model on pairwise preferences (resumable)")
final class RmCommand extends FactrlCommand {
  @Option(names = "--data", paramLabel = "DIR", required = true,
      description = "a data set written by bin/factrl data (preferences.json, images/, tokenizer.json)")
  Path data;

  @Option(names = "--sft", paramLabel = "CKPT", description = "the SFT checkpoint to start from (checkpoints/step-N "
      + "of an sft run, or the run folder: its last checkpoint); a LoRA SFT adapter is merged into its base; "
      + "required unless --resume")
  Path sft;

  @Option(names = "--out", paramLabel = "DIR", required = true, description =
      "the run folder (rm_config.json, metrics.jsonl, checkpoints/step-N/); must not exist or be empty, "
      + "unless --resume")
  Path runDir;

  @Option(names = "--config", paramLabel = "FILE", description = "reward-model settings as JSON; absent keys take "
      + "the defaults (bin/factrl config --stage rm prints them); unknown keys and out-of-range values are errors")
  Path config;

  @Option(names = "--no-facts", description = "the standard RLHF reward model: no facts in its input (sets facts: "
      + "false)")
  boolean noFacts;

  @Option(names = "--resume", description = "continue the run in --out from its last complete checkpoint (no --sft)")
  boolean resume;

  @Override
  int run() {
    RmConfig asked = config == null ? null : RmConfig.read(config);
    SftStage.Options options = new SftStage.Options(err, System.console() != null, 0);
    RmResult r;
    if (resume) {
      if (sft != null) {
        throw new UsageException("--sft is not taken with --resume (the run folder holds its base)");
      }
      if (!RmStage.isRunFolder(runDir)) {
        throw new FactRlException(runDir.toAbsolutePath().normalize() + ": not a reward-model run folder (no valid "
            + RmStage.RUN_FILE + "); nothing to resume");
      }
      RmConfig saved = RmStage.runConfig(runDir);
      RmConfig check = asked != null ? asked : noFacts ? saved : null;
      if (check != null && noFacts) {
        check = check.toBuilder().facts(false).build(); // --no-facts on a facts run is refused below
      }
      if (check != null && !check.equals(saved)) {
        throw new FactRlException(runDir + ": --config/--no-facts differ from the run's own settings ("
            + check.differences(saved) + "); a resume keeps the settings it started with");
      }
      r = RmStage.resume(data, runDir, options);
    } else {
      if (sft == null) {
        throw new UsageException("--sft is required (the SFT checkpoint the reward model starts from)");
      }
      RmConfig c = asked == null ? RmConfig.defaults() : asked;
      if (noFacts) {
        c = c.toBuilder().facts(false).build();
      }
      r = RmStage.run(c, data, sft, runDir, options);
    }
    out.printf(Locale.ROOT, "rm: %d/%d steps (%d this run), final loss %.4f, held-out accuracy %.4f (%d pairs), %.1f s%n",
        r.steps(), r.totalSteps(), r.stepsThisRun(), r.finalLoss(), r.heldOutAccuracy(), r.heldOutPairs(), r.seconds());
    out.println("checkpoint: " + r.checkpoint());
    out.println("metrics:    " + r.metrics());
    return 0;
  }
}

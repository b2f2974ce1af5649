package org.factrl.cli;

import java.nio.file.Path;
import java.util.Locale;
import org.factrl.ppo.PpoConfig;
import org.factrl.ppo.PpoStage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/factrl ppo}: PPO with the four roles on one base ({@link PpoStage}) from an SFT
 * checkpoint and an RM checkpoint. {@code --variant rlhf} (an RM without facts, no symbolic
 * rewards) or {@code fact-rlhf} (the default: a fact-augmented RM + symbolic rewards).
 */
@Command(name = "ppo", description = "PPO (RLHF or Fact-RLHF) with policy, reference, reward and value on one base "
      + "(resumable)")
final class PpoCommand extends FactrlCommand {
  @Option(names = "--data", paramLabel = "DIR", required = true,
      description = "a data set written by bin/factrl data (rl_prompts.json, images/, tokenizer.json)")
  Path data;

  @Option(names = "--sft", paramLabel = "CKPT",
      description = "the SFT checkpoint (policy start and reference; a LoRA SFT adapter is merged); not with "
      + "--resume")
  Path sft;

  @Option(names = "--rm", paramLabel = "CKPT", description = "the reward-model checkpoint (its adapter + head: the "
      + "frozen reward role and the value adapter's start); trained with facts for fact-rlhf, without for rlhf; not "
      + "with --resume")
  Path rm;

  @Option(names = "--out", paramLabel = "DIR", required = true, description =
      "the run folder (ppo_config.json, metrics.jsonl, checkpoints/step-N/); new or empty unless --resume")
  Path runDir;

  @Option(names = "--config", paramLabel = "FILE", description = "PPO settings as JSON; absent keys take the "
      + "defaults (bin/factrl config --stage ppo prints them); unknown keys and out-of-range values are errors")
  Path config;

  @Option(names = "--variant", paramLabel = "rlhf|fact-rlhf",
      description = "rlhf, or fact-rlhf (the default): sets the config's facts and symbolic_rewards")
  String variant;

  @Option(names = "--resume", description = "continue the run in --out from its last complete checkpoint with its "
      + "own settings")
  boolean resume;

  @Override
  int run() {
    PpoStage.Result r;
    if (resume) {
      if (sft != null || rm != null || config != null || variant != null) {
        throw new UsageException("--resume takes only --data and --out (the run folder holds its models and settings)");
      }
      r = PpoStage.resume(data, runDir, err, 0);
    } else {
      if (sft == null) {
        throw new UsageException("--sft is required");
      }
      if (rm == null) {
        throw new UsageException("--rm is required");
      }
      PpoConfig c = config == null ? PpoConfig.defaults() : PpoConfig.read(config);
      c = c.variant(variant == null ? "fact-rlhf" : variant);
      r = PpoStage.run(c, data, sft, rm, runDir, err, 0);
    }
    if (r.last() != null) {
      out.printf(Locale.ROOT, "ppo: step %d, reward %.4f, KL %.4f, length %.1f%n", r.steps(), r.last().reward(),
          r.last().kl(), r.last().length());
    }
    out.println("checkpoint: " + r.lastCheckpoint());
    return 0;
  }
}

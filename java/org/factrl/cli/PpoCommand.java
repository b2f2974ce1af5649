package org.factrl.cli;

import com.google.common.collect.ImmutableSet;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import org.factrl.ppo.PpoConfig;
import org.factrl.ppo.PpoStage;

/**
 * {@code bin/factrl ppo}: PPO with the four roles on one base ({@link PpoStage}) from an SFT
 * checkpoint and an RM checkpoint. {@code --variant rlhf} (an RM without facts, no symbolic
 * rewards) or {@code fact-rlhf} (the default: a fact-augmented RM + symbolic rewards).
 */
final class PpoCommand implements Command {
  static final String USAGE = """
      usage: bin/factrl ppo --data DIR --sft CKPT --rm CKPT --out DIR [--config FILE] [--variant rlhf|fact-rlhf] [--resume]
        --data DIR       a data set written by bin/factrl data (rl_prompts.json, images/, tokenizer.json)
        --sft CKPT       the SFT checkpoint (policy start and reference; a LoRA SFT adapter is merged)
        --rm CKPT        the reward-model checkpoint (its adapter + head: the frozen reward role and the
                         value adapter's start); trained with facts for fact-rlhf, without for rlhf
        --out DIR        the run folder (metrics.jsonl, checkpoints/step-N/); new or empty unless --resume
        --config FILE    PPO settings as JSON (beta, kl_mode, kl_estimator, gamma, lambda, clip_range,
                         value_clip_range, vf_coef, lora_*, penalties, temperature, top_p, lengths,
                         rollouts_per_step, minibatch, epochs, lr, steps, seed, ...; org.factrl.ppo.PpoConfig);
                         unknown keys and out-of-range values are errors
        --variant V      rlhf or fact-rlhf (default): sets facts and symbolic_rewards
        --resume         continue the run in --out from its last complete checkpoint with its own settings""";

  @Override
  public String name() {
    return "ppo";
  }

  @Override
  public String summary() {
    return "PPO (RLHF or Fact-RLHF) with policy, reference, reward and value on one base (resumable)";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public ImmutableSet<String> valuedOptions() {
    return ImmutableSet.of("data", "sft", "rm", "out", "config", "variant");
  }

  @Override
  public ImmutableSet<String> flags() {
    return ImmutableSet.of("resume");
  }

  @Override
  public int run(Options o, PrintStream out, PrintStream err) {
    Path data = Path.of(o.required("data"));
    Path run = Path.of(o.required("out"));
    PpoStage.Result r;
    if (o.flag("resume")) {
      if (o.value("sft").isPresent() || o.value("rm").isPresent() || o.value("config").isPresent()
          || o.value("variant").isPresent()) {
        throw new UsageException("--resume takes only --data and --out (the run folder holds its models and settings)");
      }
      r = PpoStage.resume(data, run, err, 0);
    } else {
      Path sft = Path.of(o.value("sft").orElseThrow(() -> new UsageException("--sft is required")));
      Path rm = Path.of(o.value("rm").orElseThrow(() -> new UsageException("--rm is required")));
      PpoConfig c = o.value("config").map(f -> PpoConfig.read(Path.of(f))).orElse(PpoConfig.defaults());
      c = c.variant(o.value("variant").orElse("fact-rlhf"));
      r = PpoStage.run(c, data, sft, rm, run, err, 0);
    }
    if (r.last() != null) {
      out.printf(Locale.ROOT, "ppo: step %d, reward %.4f, KL %.4f, length %.1f%n", r.steps(), r.last().reward(),
          r.last().kl(), r.last().length());
    }
    out.println("checkpoint: " + r.lastCheckpoint());
    return 0;
  }
}

package org.factrl.cli;

import java.nio.file.Path;
import java.util.Locale;
import org.factrl.engine.FactRlException;
import org.factrl.pretrain.PretrainConfig;
import org.factrl.pretrain.PretrainResult;
import org.factrl.pretrain.PretrainStage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/factrl pretrain}: pretrains a base from scratch ({@link PretrainStage}: text LM, then
 * projector alignment). Thin on purpose: every rule lives in the stage.
 */
@Command(name = "pretrain",
    description = "pretrain a base from scratch (language model on the world's text, then alignment)")
final class PretrainCommand extends FactrlCommand {
  @Option(names = "--data", paramLabel = "DIR", required = true, description = "a data set written by bin/factrl "
      + "data (pretrain.json, sft.json, images/, tokenizer.json)")
  Path data;

  @Option(names = "--out", paramLabel = "DIR", required = true, description = "the run folder; must not exist or be "
      + "empty, unless --resume. The base ends in DIR/model (for sft --base), its record in DIR/pretrain.json")
  Path run;

  @Option(names = "--config", paramLabel = "FILE", description = "settings as JSON (text_steps, text_lr, "
      + "text_batch_size, align_steps, align_lr, align_batch_size, align_train_decoder, warmup_steps, bf16, ...); "
      + "unknown keys are errors (org.factrl.pretrain.PretrainConfig)")
  Path config; // null: absent

  @Option(names = "--seed", paramLabel = "S",
      description = "the seed (random base and data order); overrides the config's 'seed'")
  Long seed; // null: absent

  @Option(names = "--resume", description = "continue the run in --out from its last complete checkpoint")
  boolean resume;

  @Override
  int run() {
    PretrainStage.Options options = new PretrainStage.Options(err, System.console() != null, 0);
    PretrainResult r;
    if (resume) {
      if (config != null || seed != null) {
        throw new UsageException("--config and --seed are not taken with --resume (the run folder keeps its own)");
      }
      r = PretrainStage.resume(data, run, options);
    } else {
      PretrainConfig c = config != null ? PretrainConfig.read(config) : PretrainConfig.defaults();
      if (seed != null) {
        c = c.toBuilder().seed(seed).build();
      }
      r = PretrainStage.run(c, data, run, options);
    }
    if (!r.complete()) {
      throw new FactRlException("pretrain: stopped at step " + r.step() + " of " + r.totalSteps());
    }
    // A phase finished by an earlier (interrupted) process has no loss in this one: say so, not "NaN".
    out.printf(Locale.ROOT, "pretrain: %d steps, text loss %s, align loss %s%n", r.totalSteps(), loss(r.textLoss()),
        loss(r.alignLoss()));
    out.println("model:   " + r.model());
    out.println("metrics: " + r.metrics());
    return 0;
  }

  private static String loss(double v) {
    return Double.isNaN(v) ? "- (not run by this process: 0 steps, or finished before a resume)" : String.format(Locale.ROOT, "%.4f", v);
  }
}

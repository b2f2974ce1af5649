package org.factrl.cli;

import com.google.common.collect.ImmutableSet;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import org.factrl.engine.FactRlException;
import org.factrl.pretrain.PretrainConfig;
import org.factrl.pretrain.PretrainResult;
import org.factrl.pretrain.PretrainStage;

/**
 * {@code bin/factrl pretrain}: pretrains a base from scratch ({@link PretrainStage}: text LM, then
 * projector alignment). Thin on purpose: every rule lives in the stage.
 */
final class PretrainCommand implements Command {
  static final String USAGE = """
      usage: bin/factrl pretrain --data DIR --out DIR [--config FILE] [--seed S] [--resume]
        --data DIR     a data set written by bin/factrl data (pretrain.json, sft.json, images/, tokenizer.json)
        --out DIR      the run folder; must not exist or be empty, unless --resume. The base ends in
                       DIR/model (for sft --base), its record in DIR/pretrain.json
        --config FILE  settings as JSON (text_steps, text_lr, text_batch_size, align_steps, align_lr,
                       align_batch_size, align_train_decoder, warmup_steps, bf16, ...); unknown keys
                       are errors (org.factrl.pretrain.PretrainConfig)
        --seed S       the seed (random base and data order); overrides the config's 'seed'
        --resume       continue the run in --out from its last complete checkpoint""";

  @Override
  public String name() {
    return "pretrain";
  }

  @Override
  public String summary() {
    return "pretrain a base from scratch: language model on the world's text, then projector alignment";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public ImmutableSet<String> valuedOptions() {
    return ImmutableSet.of("data", "out", "config", "seed");
  }

  @Override
  public ImmutableSet<String> flags() {
    return ImmutableSet.of("resume");
  }

  @Override
  public int run(Options o, PrintStream out, PrintStream err) {
    Path data = Path.of(o.required("data"));
    Path run = Path.of(o.required("out"));
    PretrainStage.Options options = new PretrainStage.Options(err, System.console() != null, 0);
    PretrainResult r;
    if (o.flag("resume")) {
      if (o.value("config").isPresent() || o.value("seed").isPresent()) {
        throw new UsageException("--config and --seed are not taken with --resume (the run folder keeps its own)");
      }
      r = PretrainStage.resume(data, run, options);
    } else {
      PretrainConfig c = o.value("config").map(f -> PretrainConfig.read(Path.of(f))).orElse(PretrainConfig.defaults());
      if (o.value("seed").isPresent()) {
        long seed;
        try {
          seed = Long.parseLong(o.value("seed").get());
        } catch (NumberFormatException e) {
          throw new UsageException("--seed: not an integer: '" + o.value("seed").get() + "'");
        }
        c = c.toBuilder().seed(seed).build();
      }
      r = PretrainStage.run(c, data, run, options);
    }
    if (!r.complete()) {
      throw new FactRlException("pretrain: stopped at step " + r.step() + " of " + r.totalSteps());
    }
    out.printf(Locale.ROOT, "pretrain: %d steps, text loss %.4f, align loss %.4f%n", r.totalSteps(), r.textLoss(),
        r.alignLoss());
    out.println("model:   " + r.model());
    out.println("metrics: " + r.metrics());
    return 0;
  }
}

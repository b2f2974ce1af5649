package org.factrl.cli;

import com.google.common.collect.ImmutableSet;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;
import org.factrl.model.ModelConfig;
import org.factrl.stages.BaseModel;
import org.factrl.stages.SftConfig;
import org.factrl.stages.SftResult;
import org.factrl.stages.SftStage;

/**
 * {@code bin/factrl sft}: supervised fine-tuning ({@link SftStage}) on a data set's
 * {@code sft.json}. A fresh run writes only into a new or empty {@code --out}; {@code --resume}
 * continues an SFT run folder from its last complete checkpoint (its own config and base; a
 * {@code --config} or {@code --base} given with it must be the same).
 */
final class SftCommand implements Command {
  static final String USAGE = """
      usage: bin/factrl sft --data DIR --out DIR [--config FILE] [--base DIR] [--resume]
        --data DIR     a data set written by bin/factrl data (sft.json, images/, tokenizer.json)
        --out DIR      the run folder (metrics.jsonl, checkpoints/step-N/); must not exist or be
                       empty, unless --resume
        --config FILE  SFT settings as JSON (finetune, lr, warmup_steps, epochs, steps, batch_size,
                       max_length, lora_rank, lora_alpha, lora_targets, trainable_groups, seed,
                       checkpoint_every, ...); unknown keys and out-of-range values are errors;
                       absent keys take the defaults (org.factrl.stages.SftConfig)
        --base DIR     the base model folder (model.safetensors + config.json), e.g. a pretrained
                       base; without it, a random base of the config's preset (an overfit check)
        --resume       continue the run in --out from its last complete checkpoint""";

  @Override
  public String name() {
    return "sft";
  }

  @Override
  public String summary() {
    return "supervised fine-tuning on a data set's conversations (LoRA or full, resumable)";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public ImmutableSet<String> valuedOptions() {
    return ImmutableSet.of("data", "out", "config", "base");
  }

  @Override
  public ImmutableSet<String> flags() {
    return ImmutableSet.of("resume");
  }

  @Override
  public int run(Options o, PrintStream out, PrintStream err) {
    Path data = Path.of(o.required("data"));
    Path run = Path.of(o.required("out"));
    Optional<SftConfig> config = o.value("config").map(f -> SftConfig.read(Path.of(f)));
    Optional<Path> base = o.value("base").map(Path::of);
    SftStage.Options options = new SftStage.Options(err, System.console() != null, 0);
    SftResult r;
    if (o.flag("resume")) {
      if (!SftStage.isRunFolder(run)) {
        throw new FactRlException(run.toAbsolutePath().normalize() + ": not an SFT run folder (no valid "
            + SftStage.RUN_FILE + "); nothing to resume");
      }
      SftConfig saved = SftStage.runConfig(run);
      if (config.isPresent() && !config.get().equals(saved)) {
        throw new FactRlException(run + ": --config differs from the run's own settings (" + config.get().differences(saved)
            + "); a resume keeps the settings it started with");
      }
      if (base.isPresent()) {
        throw new UsageException("--base is not taken with --resume (the run folder names its base)");
      }
      r = SftStage.resume(data, run, options);
    } else {
      SftConfig c = config.orElse(SftConfig.defaults());
      BaseModel b;
      if (base.isPresent()) {
        b = BaseModel.fromDir(base.get());
      } else {
        int vocab;
        try (Tokenizer t = Tokenizer.load(DataSetFiles.in(data).tokenizer())) {
          vocab = t.vocabSize();
        }
        ModelConfig preset = ModelConfig.preset(c.preset()).toBuilder().vocabSize(vocab).build();
        err.println("sft: no --base: a random " + c.preset() + " base (seed " + c.seed() + "), for checks only");
        b = BaseModel.random(preset, c.seed(), c.initStd());
      }
      r = SftStage.run(c, data, b, run, options);
    }
    out.printf(Locale.ROOT, "sft: %d/%d steps (%d this run), final loss %.4f, %.1f s%n", r.steps(), r.totalSteps(),
        r.stepsThisRun(), r.finalLoss(), r.seconds());
    out.println("checkpoint: " + r.checkpoint());
    out.println("metrics:    " + r.metrics());
    return 0;
  }
}

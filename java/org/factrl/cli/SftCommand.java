package org.factrl.cli;

import java.nio.file.Path;
import java.util.Locale;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;
import org.factrl.model.ModelConfig;
import org.factrl.stages.BaseModel;
import org.factrl.stages.SftConfig;
import org.factrl.stages.SftResult;
import org.factrl.stages.SftStage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/factrl sft}: supervised fine-tuning ({@link SftStage}) on a data set's
 * {@code sft.json}. A fresh run writes only into a new or empty {@code --out}; {@code --resume}
 * continues an SFT run folder from its last complete checkpoint (its own config and base; a
 * {@code --config} given with it must be the same).
 */
@Command(name = "sft", description = "supervised fine-tuning on a data set's conversations (LoRA or full, resumable)")
final class SftCommand extends FactrlCommand {
  @Option(names = "--data", paramLabel = "DIR", required = true,
      description = "a data set written by bin/factrl data (sft.json, images/, tokenizer.json)")
  Path data;

  @Option(names = "--out", paramLabel = "DIR", required = true, description =
      "the run folder (sft_config.json, metrics.jsonl, checkpoints/step-N/); must not exist or be empty, "
      + "unless --resume")
  Path runDir;

  @Option(names = "--config", paramLabel = "FILE", description = "SFT settings as JSON; absent keys take the "
      + "defaults (bin/factrl config --stage sft prints them); unknown keys and out-of-range values are errors")
  Path config;

  @Option(names = "--base", paramLabel = "DIR", description = "the base model folder (model.safetensors + "
      + "config.json), e.g. a pretrained base; without it, a random base of the config's preset (an overfit check)")
  Path base;

  @Option(names = "--resume", description = "continue the run in --out from its last complete checkpoint")
  boolean resume;

  @Override
  int run() {
    SftConfig asked = config == null ? null : SftConfig.read(config);
    SftStage.Options options = new SftStage.Options(err, System.console() != null, 0);
    SftResult r;
    if (resume) {
      if (base != null) {
        throw new UsageException("--base is not taken with --resume (the run folder names its base)");
      }
      if (!SftStage.isRunFolder(runDir)) {
        throw new FactRlException(runDir.toAbsolutePath().normalize() + ": not an SFT run folder (no valid "
            + SftStage.RUN_FILE + "); nothing to resume");
      }
      SftConfig saved = SftStage.runConfig(runDir);
      if (asked != null && !asked.equals(saved)) {
        throw new FactRlException(runDir + ": --config differs from the run's own settings (" + asked.differences(saved)
            + "); a resume keeps the settings it started with");
      }
      r = SftStage.resume(data, runDir, options);
    } else {
      SftConfig c = asked == null ? SftConfig.defaults() : asked;
      BaseModel b;
      if (base != null) {
        b = BaseModel.fromDir(base);
      } else {
        int vocab;
        try (Tokenizer t = Tokenizer.load(DataSetFiles.in(data).tokenizer())) {
          vocab = t.vocabSize();
        }
        ModelConfig preset = ModelConfig.preset(c.preset()).toBuilder().vocabSize(vocab).build();
        err.println("sft: no --base: a random " + c.preset() + " base (seed " + c.seed() + "), for checks only");
        b = BaseModel.random(preset, c.seed(), c.initStd());
      }
      r = SftStage.run(c, data, b, runDir, options);
    }
    out.printf(Locale.ROOT, "sft: %d/%d steps (%d this run), final loss %.4f, %.1f s%n", r.steps(), r.totalSteps(),
        r.stepsThisRun(), r.finalLoss(), r.seconds());
    out.println("checkpoint: " + r.checkpoint());
    out.println("metrics:    " + r.metrics());
    return 0;
  }
}

package org.factrl.cli;

import java.nio.file.Path;
import java.util.Locale;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.engine.Device;
import org.factrl.pipeline.BaseModelSource;
import org.factrl.pipeline.Pipeline;
import org.factrl.pipeline.PipelineConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/factrl pipeline}: the end-to-end job ({@link Pipeline}) on the built-in data and the
 * tiny model. A thin layer: options → {@link PipelineConfig} → {@link Pipeline#run}. Runs data ->
 * sft -> reward models (with / without facts) -> PPO (rlhf, fact-rlhf) -> eval of SFT, RLHF and
 * Fact-RLHF on a seeded held-out subset, prints the table and writes DIR/summary.json; running it
 * again reuses finished stages and resumes an interrupted one.
 */
@Command(name = "pipeline",
    description = "run the end-to-end pipeline (data -> SFT -> RMs -> RLHF / Fact-RLHF PPO -> eval)")
final class PipelineCommand extends FactrlCommand {
  @Option(names = "--out", paramLabel = "DIR", description = "output folder (default runs/pipeline): one folder per "
      + "stage (data/, sft/, rm-facts/, rm-no-facts/, ppo-rlhf/, ppo-fact-rlhf/, eval-*/) and summary.json; a stage "
      + "folder holding anything but that stage's own run is refused, never overwritten")
  Path outDir; // null: absent

  @Option(names = "--run", paramLabel = "DIR", description = "deprecated spelling of --out")
  Path runDir; // null: absent

  @Option(names = "--seed", paramLabel = "S", description = "seed of the data and of every stage (default "
      + "${DEFAULT-VALUE})")
  long seed = 0;

  @Option(names = "--scenes", paramLabel = "N",
      description = "shapes-world scenes of the built-in data set, at least 10 (default ${DEFAULT-VALUE})")
  int scenes = PipelineConfig.defaults().scenes();

  @Option(names = "--base", paramLabel = "DIR", description = "the base model folder (model.safetensors + "
      + "config.json); default: the committed pretrained base (models/base-tiny) if present, else a random tiny base "
      + "(a loud warning: a random base cannot see)")
  Path base; // null: absent

  @Option(names = "--quick", description = "2-4 steps per stage and 8 questions per eval file: a smoke check of the "
      + "chain")
  boolean quick;

  @Option(names = "--until", paramLabel = "STAGE", description = "stop after data, base, sft, prefs, rm, ppo or eval "
      + "(default eval)")
  String until; // null: absent

  @Override
  int run() {
    if (outDir != null && runDir != null) {
      throw new UsageException("--run is the old spelling of --out; give one of them");
    }
    Path dir = outDir != null ? outDir : runDir != null ? runDir : Path.of("runs/pipeline");
    PipelineConfig config;
    try {
      PipelineConfig.Builder b = (quick ? PipelineConfig.quick() : PipelineConfig.defaults()).toBuilder()
          .scenes((int) range("--scenes", scenes, 1, ShapesDataSetWriter.MAX_SCENES))
          .seed(seed);
      if (base != null) {
        b.base(BaseModelSource.dir(base));
      }
      if (until != null) {
        b.until(stage(until));
      }
      config = b.build();
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    if (runDir != null) {
      err.println("factrl pipeline: --run is deprecated; use --out");
    }
    try (Device device = Device.best()) {
      out.println("[pipeline] device: " + device + " (the model's stages run on the CPU: it has no CUDA path yet)");
      KernelSelfCheck.run(device, out);
    }
    Pipeline.run(config, dir, new Pipeline.Options(out, err, System.console() != null));
    return 0;
  }

  private static PipelineConfig.Stage stage(String name) {
    try {
      return PipelineConfig.Stage.valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--until must be data, base, sft, prefs, rm, ppo or eval, got '" + name + "'");
    }
  }
}

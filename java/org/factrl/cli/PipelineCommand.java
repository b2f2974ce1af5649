package org.factrl.cli;

import com.google.common.collect.ImmutableSet;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.engine.Device;
import org.factrl.pipeline.BaseModelSource;
import org.factrl.pipeline.Pipeline;
import org.factrl.pipeline.PipelineConfig;

/**
 * {@code bin/factrl pipeline}: the end-to-end job ({@link Pipeline}) on the built-in data and the
 * tiny model. A thin layer: options → {@link PipelineConfig} → {@link Pipeline#run}.
 */
final class PipelineCommand implements Command {
  static final String USAGE = """
      usage: bin/factrl pipeline [--out DIR] [--seed S] [--scenes N] [--base DIR] [--quick] [--until STAGE]
        runs data -> sft -> reward models (with / without facts) -> PPO (rlhf, fact-rlhf) -> eval of SFT,
        RLHF and Fact-RLHF on a seeded held-out subset, prints the table and writes DIR/summary.json;
        running it again reuses finished stages and resumes an interrupted one
        --out DIR      output folder (default runs/pipeline): one folder per stage (data/, sft/, rm-facts/,
                       rm-no-facts/, ppo-rlhf/, ppo-fact-rlhf/, eval-*/) and summary.json; a stage folder
                       holding anything but that stage's own run is refused, never overwritten
        --run DIR      deprecated spelling of --out
        --seed S       seed of the data and of every stage (default 0)
        --scenes N     shapes-world scenes of the built-in data set, at least 10 (default 1000)
        --base DIR     the base model folder (model.safetensors + config.json); default: the committed
                       pretrained base (models/base-tiny) if present, else a random tiny base (a loud
                       warning: a random base cannot see)
        --quick        2-4 steps per stage and 8 questions per eval file: a smoke check of the chain
        --until STAGE  stop after data, base, sft, rm, ppo or eval (default eval)""";

  @Override
  public String name() {
    return "pipeline";
  }

  @Override
  public String summary() {
    return "run the end-to-end pipeline (data -> SFT -> reward models -> RLHF / Fact-RLHF PPO -> eval)";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public ImmutableSet<String> valuedOptions() {
    return ImmutableSet.of("out", "run", "scenes", "seed", "base", "until");
  }

  @Override
  public ImmutableSet<String> flags() {
    return ImmutableSet.of("quick");
  }

  @Override
  public int run(Options o, PrintStream out, PrintStream err) {
    if (o.value("out").isPresent() && o.value("run").isPresent()) {
      throw new UsageException("--run is the old spelling of --out; give one of them");
    }
    Path dir = Path.of(o.value("out").or(() -> o.value("run")).orElse("runs/pipeline"));
    PipelineConfig config;
    try {
      PipelineConfig.Builder b = (o.flag("quick") ? PipelineConfig.quick() : PipelineConfig.defaults()).toBuilder()
          .scenes((int) o.integer("scenes", PipelineConfig.defaults().scenes(), 1, ShapesDataSetWriter.MAX_SCENES))
          .seed(o.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE));
      o.value("base").ifPresent(base -> b.base(BaseModelSource.dir(Path.of(base))));
      o.value("until").ifPresent(u -> b.until(stage(u)));
      config = b.build();
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    if (o.value("run").isPresent()) {
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
      throw new UsageException("--until must be data, base, sft, rm, ppo or eval, got '" + name + "'");
    }
  }
}

package org.factrl.cli;

import com.google.common.collect.ImmutableSet;
import java.nio.file.Path;
import java.util.List;
import org.factrl.data.dataset.DataSetSummary;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.engine.Device;

/**
 * {@code bin/factrl pipeline}: the end-to-end job on the built-in data and the tiny model. Runs every
 * stage that exists today and names the ones that are not built yet, so its output never claims
 * work it did not do.
 */
final class PipelineCommand implements Command {
  static final String USAGE = """
      usage: bin/factrl pipeline [--run DIR] [--scenes N] [--seed S]
        --run DIR    folder for the run's data, checkpoints and metrics (default runs/pipeline)
        --scenes N   shapes-world scenes of the built-in data set (default 1000)
        --seed S     seed of the data and of training (default 0)""";

  @Override
  public String name() {
    return "pipeline";
  }

  @Override
  public String summary() {
    return "run the end-to-end pipeline (data -> SFT -> reward model -> Fact-RLHF PPO -> eval)";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public int run(List<String> args) throws Exception {
    Options o = Options.parse(args, ImmutableSet.of("run", "scenes", "seed"), ImmutableSet.of());
    Path run = Path.of(o.value("run").orElse("runs/pipeline"));
    ShapesDataSetWriter data;
    try {
      data = ShapesDataSetWriter.builder()
          .scenes((int) o.integer("scenes", 1000, 1, ShapesDataSetWriter.MAX_SCENES))
          .seed(o.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE))
          .overwrite(true)
          .build();
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    try (Device device = Device.best()) {
      System.out.println("[pipeline] device: " + device);
      KernelSelfCheck.run(device, System.out);
    }

    Path dataDir = run.resolve("data");
    if (data.wroteAlready(dataDir)) {
      System.out.println("[pipeline] data: reusing " + dataDir + " (same settings)");
    } else {
      DataSetSummary summary = data.write(dataDir);
      System.out.println("[pipeline] " + summary.describe().replace("\n", "\n[pipeline] "));
    }
    System.out.println("[pipeline] stages not built yet: SFT, reward model, PPO, eval"
        + " (see the open issues); nothing was trained.");
    return 0;
  }
}

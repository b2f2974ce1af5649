package org.factrl.cli;

import com.google.common.collect.ImmutableSet;
import java.io.PrintStream;
import java.nio.file.Path;
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
        --run DIR    folder for the run's data, checkpoints and metrics (default runs/pipeline); the data
                     set goes to DIR/data, which is reused or replaced only if it is a data set a
                     run wrote and holds nothing else
        --scenes N   shapes-world scenes of the built-in data set, at least 10 (default 1000)
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
  public ImmutableSet<String> valuedOptions() {
    return ImmutableSet.of("run", "scenes", "seed");
  }

  @Override
  public int run(Options o, PrintStream out, PrintStream err) {
    Path run = Path.of(o.value("run").orElse("runs/pipeline"));
    ShapesDataSetWriter data;
    try {
      data = ShapesDataSetWriter.builder()
          .scenes((int) o.integer("scenes", 1000, 1, ShapesDataSetWriter.MAX_SCENES))
          .seed(o.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE))
          .overwrite(true) // only ever a data set a run wrote: the writer proves it before replacing
          .notices(line -> err.println("factrl pipeline: " + line))
          .build();
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    try (Device device = Device.best()) {
      out.println("[pipeline] device: " + device);
      KernelSelfCheck.run(device, out);
    }

    Path dataDir = run.resolve("data");
    if (data.wroteAlready(dataDir)) {
      out.println("[pipeline] data: reusing " + dataDir + " (same settings)");
    } else {
      DataSetSummary summary = data.write(dataDir);
      out.println("[pipeline] " + summary.describe().replace("\n", "\n[pipeline] "));
    }
    out.println("[pipeline] stages not built yet: SFT, reward model, PPO, eval"
        + " (see the open issues); nothing was trained.");
    return 0;
  }
}

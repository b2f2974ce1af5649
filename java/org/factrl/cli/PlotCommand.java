package org.factrl.cli;

import com.google.common.collect.ImmutableSet;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.factrl.plots.MetricsPlots;

/**
 * {@code bin/factrl plot --metrics FILE --out DIR}: draws the PNG curves of any stage's
 * {@code metrics.jsonl} ({@link MetricsPlots}); the stages draw the same plots into their run's
 * {@code plots/} themselves, so this is for a log copied elsewhere or a run killed mid-way.
 */
final class PlotCommand implements Command {
  static final String USAGE = """
      usage: bin/factrl plot --metrics FILE --out DIR
        --metrics FILE  a stage's metrics.jsonl (sft, rm or ppo)
        --out DIR       folder for the PNG files (created; plots of the same names are replaced)""";

  @Override
  public String name() {
    return "plot";
  }

  @Override
  public String summary() {
    return "draw PNG curves of a metrics.jsonl (loss, reward, KL, length, ...)";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public ImmutableSet<String> valuedOptions() {
    return ImmutableSet.of("metrics", "out");
  }

  @Override
  public int run(Options o, PrintStream stdout, PrintStream stderr) {
    Path metrics = Path.of(o.required("metrics"));
    Path out = Path.of(o.required("out"));
    if (!Files.isRegularFile(metrics)) {
      throw new UsageException("--metrics " + metrics + ": no such file");
    }
    List<Path> written = MetricsPlots.write(metrics, out);
    if (written.isEmpty()) {
      stderr.println("plot: " + metrics + " holds no plottable metrics; nothing written");
      return 1;
    }
    for (Path p : written) {
      stdout.println(p);
    }
    return 0;
  }
}

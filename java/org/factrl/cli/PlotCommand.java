package org.factrl.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.factrl.plots.MetricsPlots;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/factrl plot --metrics FILE --out DIR}: draws the PNG curves of any stage's
 * {@code metrics.jsonl} ({@link MetricsPlots}); the stages draw the same plots into their run's
 * {@code plots/} themselves, so this is for a log copied elsewhere or a run killed mid-way.
 */
@Command(name = "plot", description = "draw PNG curves of a metrics.jsonl (loss, reward, KL, length, ...)")
final class PlotCommand extends FactrlCommand {
  @Option(names = "--metrics", paramLabel = "FILE", required = true,
      description = "a stage's metrics.jsonl (sft, rm or ppo)")
  Path metrics;

  @Option(names = "--out", paramLabel = "DIR", required = true,
      description = "folder for the PNG files (created; plots of the same names are replaced)")
  Path outDir;

  @Override
  int run() {
    if (!Files.isRegularFile(metrics)) {
      throw new UsageException("--metrics " + metrics + ": no such file");
    }
    List<Path> written = MetricsPlots.write(metrics, outDir);
    if (written.isEmpty()) {
      err.println("plot: " + metrics + " holds no plottable metrics; nothing written");
      return 1;
    }
    for (Path p : written) {
      out.println(p);
    }
    return 0;
  }
}

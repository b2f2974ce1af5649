package org.factrl.stages;

import java.nio.file.Path;
import org.factrl.eval.EvalReport;

/**
 * What an evaluation run wrote.
 *
 * @param report the metrics, per-question records and response template (headline numbers through its accessors)
 * @param outDir the output folder: {@value EvalStage#METRICS_FILE}, {@value EvalStage#ANSWERS_FILE},
 *     {@value EvalStage#TEMPLATE_FILE}
 * @param seconds wall seconds of the whole run (loading included)
 */
public record EvalResult(EvalReport report, Path outDir, double seconds) {
  public Path metrics() {
    return outDir.resolve(EvalStage.METRICS_FILE);
  }

  public Path answers() {
    return outDir.resolve(EvalStage.ANSWERS_FILE);
  }

  public Path template() {
    return outDir.resolve(EvalStage.TEMPLATE_FILE);
  }
}

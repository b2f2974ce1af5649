package org.factrl.cli;

import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.MmhalCodec;
import org.factrl.data.format.MmhalRecord;
import org.factrl.data.judge.ExactJudge;
import org.factrl.data.judge.MmhalJudging;
import org.factrl.data.shapes.SceneJson;
import org.factrl.engine.FactRlException;
import org.factrl.eval.ResultFolder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/factrl judge}: judges any model's answers to an MMHal response template against the
 * scenes' ground truth and writes {@code verdicts.jsonl} (one judged answer a line, with every
 * claim and its verdict) and {@code metrics.json}.
 *
 * <p>It never overwrites a user's file: {@code --out} must not exist, be empty, or hold exactly
 * the two files an earlier judge run wrote (its metrics carrying the {@link MmhalJudging#FORMAT}
 * marker); anything else is refused with the first foreign file named. The output is written in
 * a hidden sibling folder and renamed into place, so {@code --out} never holds half a result.
 */
@Command(name = "judge", description = "judge a model's answers to an MMHal template (verdicts and metrics)")
final class JudgeCommand extends FactrlCommand {
  static final String VERDICTS = "verdicts.jsonl";
  static final String METRICS = "metrics.json";

  @Option(names = "--annotations", paramLabel = "FILE", required = true,
      description = "the scenes' ground truth (a data set's annotations.json)")
  Path annotations;

  @Option(names = "--answers", paramLabel = "FILE", required = true,
      description = "an MMHal response template (mmhal_eval.json) with model_answer filled")
  Path answers;

  @Option(names = "--out", paramLabel = "DIR", required = true, description =
      "folder for verdicts.jsonl and metrics.json; must not exist, be empty, or hold only an earlier judge "
      + "run's two files (which are replaced)")
  Path outDir;

  @Override
  int run() {
    Path target = outDir.toAbsolutePath().normalize();
    ResultFolder folder = output(target);
    folder.check();
    var scenes = MmhalJudging.byId(SceneJson.readList(annotations));
    List<MmhalRecord> records = MmhalCodec.read(answers);
    List<MmhalJudging.Judged> judged;
    try {
      judged = MmhalJudging.judge(new ExactJudge(), scenes, records);
    } catch (IllegalArgumentException e) {
      throw new FactRlException(answers + ": " + e.getMessage(), e);
    }
    List<String> lines = new ArrayList<>();
    for (MmhalJudging.Judged j : judged) {
      lines.add(MmhalJudging.verdictJson(j).toString());
    }
    String metrics = JsonRecords.toPrettyJson(MmhalJudging.metricsJson(judged)) + "\n";
    folder.publish(ImmutableMap.of(VERDICTS, String.join("\n", lines) + (lines.isEmpty() ? "" : "\n"),
        METRICS, metrics));
    var all = judged.stream().map(MmhalJudging.Judged::judgement).toList();
    out.printf(Locale.ROOT, "judged %d answers: mean score %.2f, hallucination rate %.3f%n",
        all.size(), ExactJudge.meanScore(all), ExactJudge.hallucinationRate(all));
    out.println("wrote " + target.resolve(VERDICTS) + " and " + target.resolve(METRICS));
    return 0;
  }

  /** The judge's output folder: absent, empty or an earlier judge run's own two files (ResultFolder's rules). */
  static ResultFolder output(Path out) {
    return new ResultFolder(out, ImmutableSet.of(VERDICTS, METRICS), METRICS, MmhalJudging.FORMAT, "judge");
  }
}

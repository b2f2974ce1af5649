package org.factrl.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.factrl.eval.EvalConfig;
import org.factrl.eval.EvalData;
import org.factrl.stages.EvalResult;
import org.factrl.stages.EvalStage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/factrl eval}: evaluates any model checkpoint on any MMHal-format question file whose
 * images carry annotations in the project's format, plus POPE files, writing the eval stage's
 * metrics, per-question answers and the MMHal response template ({@link EvalStage}). The output
 * folder follows {@code judge}'s rules: absent, empty, or an earlier eval's output. Settings come
 * from {@code --config} (an {@link EvalConfig} file) or the defaults; an option given on the
 * command line overrides the file's key.
 */
@Command(name = "eval", description = "evaluate a checkpoint: MMHal score and hallucination rate, POPE, CHAIR, "
      + "answer length")
final class EvalCommand extends FactrlCommand {
  @Option(names = "--model", paramLabel = "CKPT", required = true, description =
      "a checkpoint folder (model/ or base.json, adapters/), a base folder (model.safetensors + "
      + "config.json) or a run folder (its latest checkpoint)")
  Path model;

  @Option(names = "--mmhal", paramLabel = "FILE", required = true,
      description = "MMHal-format questions (response_template.json fields; e.g. a data set's mmhal_eval.json)")
  Path mmhal;

  @Option(names = "--annotations", paramLabel = "FILE", required = true,
      description = "the scenes' ground truth (annotations.json); every image_id must be there")
  Path annotations;

  @Option(names = "--images", paramLabel = "DIR", required = true,
      description = "the folder the records' image paths are relative to")
  Path images;

  @Option(names = "--pope", paramLabel = "FILE", description = "POPE probes (JSON Lines); repeat for each sampling "
      + "(pope_random.json, pope_popular.json, pope_adversarial.json: named by the file)")
  List<Path> pope = new ArrayList<>();

  @Option(names = "--chair", description = "also ask for a detailed description of each MMHal image (CHAIRs, CHAIRi)")
  boolean chair;

  @Option(names = "--out", paramLabel = "DIR", required = true, description =
      "folder for metrics.json, answers.jsonl and response_template.json; must not exist, be empty, or hold "
      + "only an earlier eval's three files (replaced)")
  Path outDir;

  @Option(names = "--config", paramLabel = "FILE", description = "evaluation settings as JSON (bin/factrl config "
      + "--stage eval prints the defaults); the options below override its keys")
  Path config;

  @Option(names = "--tokenizer", paramLabel = "FILE", description = "the tokenizer (default: tokenizer.json beside "
      + "the annotations)")
  Path tokenizer;

  @Option(names = "--adapter", paramLabel = "NAME",
      description = "the adapter set to answer with (default: the checkpoint's only one; 'none': the base alone)")
  String adapter;

  @Option(names = "--batch", paramLabel = "N", description = "prompts generated together (default 8)")
  Integer batch;

  @Option(names = "--max-new-tokens", paramLabel = "N", description = "longest answer in tokens (default 128)")
  Integer maxNewTokens;

  @Option(names = "--temperature", paramLabel = "T", description = "0 = greedy (default 0)")
  Double temperature;

  @Option(names = "--top-p", paramLabel = "P", description = "nucleus mass when sampling (default 1)")
  Double topP;

  @Option(names = "--seed", paramLabel = "S", description = "sampling seed (default 0; unused when greedy)")
  Long seed;

  @Option(names = "--limit", paramLabel = "N", description = "only the first N records of each question file "
      + "(default: all)")
  Integer limit;

  @Override
  int run() {
    Path tok = tokenizer != null ? tokenizer : besideAnnotations();
    EvalConfig.Builder b = (config == null ? EvalConfig.defaults() : EvalConfig.read(config)).toBuilder();
    if (batch != null) {
      b.batchSize((int) range("--batch", batch, 1, 4096));
    }
    if (maxNewTokens != null) {
      b.maxNewTokens((int) range("--max-new-tokens", maxNewTokens, 1, 1 << 16));
    }
    if (temperature != null) {
      b.temperature((float) range("--temperature", temperature, 0, 100, false));
    }
    if (topP != null) {
      b.topP((float) range("--top-p", topP, 0, 1, true));
    }
    if (seed != null) {
      b.seed(seed);
    }
    if (limit != null) {
      b.limit((int) range("--limit", limit, 0, Integer.MAX_VALUE));
    }
    if (chair) {
      b.chair(true);
    }
    if (adapter != null) {
      b.adapter(adapter);
    }
    EvalConfig settings = b.build();
    EvalStage.outputFolder(outDir).check(); // before any file is read: a refused folder costs nothing
    EvalData evalData = EvalData.load(mmhal, annotations, images, pope);
    EvalResult r = EvalStage.run(settings, evalData, model, tok, outDir,
        new EvalStage.Options(err, System.console() != null));
    var rep = r.report();
    out.printf(Locale.ROOT, "hallucination rate %.3f  MMHal score %.2f  POPE F1 %s  CHAIRs %s  CHAIRi %s"
        + "  mean answer %.1f tokens%n", rep.hallucinationRate(), rep.mmhalScore(), fmt(rep.popeF1()),
        fmt(rep.chairS()), fmt(rep.chairI()), rep.meanResponseTokens());
    out.println("wrote " + r.metrics() + ", " + r.answers() + " and " + r.template());
    return 0;
  }

  private Path besideAnnotations() {
    Path beside = annotations.toAbsolutePath().normalize().resolveSibling("tokenizer.json");
    if (!Files.isRegularFile(beside)) {
      throw new UsageException("--tokenizer is required: there is no tokenizer.json beside " + annotations);
    }
    return beside;
  }

  private static String fmt(java.util.OptionalDouble d) {
    return d.isPresent() ? String.format(Locale.ROOT, "%.3f", d.getAsDouble()) : "-";
  }
}

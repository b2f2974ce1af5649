package org.factrl.cli;

import com.google.common.collect.ImmutableSet;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.factrl.eval.EvalConfig;
import org.factrl.eval.EvalData;
import org.factrl.stages.EvalResult;
import org.factrl.stages.EvalStage;

/**
 * {@code bin/factrl eval}: evaluates any model checkpoint on any MMHal-format question file whose
 * images carry annotations in the project's format, plus POPE files, writing the eval stage's
 * metrics, per-question answers and the MMHal response template ({@link EvalStage}). The output
 * folder follows {@code judge}'s rules: absent, empty, or an earlier eval's output.
 */
final class EvalCommand implements Command {
  static final String USAGE = """
      usage: bin/factrl eval --model CKPT --mmhal FILE --annotations FILE --images DIR [--pope FILE]...
                             [--chair] --out DIR [--tokenizer FILE] [--adapter NAME] [--batch N]
                             [--max-new-tokens N] [--temperature T] [--top-p P] [--seed S] [--limit N]
        --model CKPT          a checkpoint folder (model/ or base.json, adapters/), a base folder
                              (model.safetensors + config.json) or a run folder (its latest checkpoint)
        --mmhal FILE          MMHal-format questions (response_template.json fields; e.g. a data set's
                              mmhal_eval.json)
        --annotations FILE    the scenes' ground truth (annotations.json); every image_id must be there
        --images DIR          the folder the records' image paths are relative to
        --pope FILE           POPE probes (JSON Lines); repeat for each sampling (pope_random.json,
                              pope_popular.json, pope_adversarial.json: named by the file)
        --chair               also ask for a detailed description of each MMHal image (CHAIRs, CHAIRi)
        --out DIR             folder for metrics.json, answers.jsonl and response_template.json; must
                              not exist, be empty, or hold only an earlier eval's three files (replaced)
        --tokenizer FILE      the tokenizer (default: tokenizer.json beside the annotations)
        --adapter NAME        the adapter set to answer with (default: the checkpoint's only one; 'none':
                              the base alone)
        --batch N             prompts generated together (default 8)
        --max-new-tokens N    longest answer in tokens (default 128)
        --temperature T       0 = greedy (default 0)
        --top-p P             nucleus mass when sampling (default 1)
        --seed S              sampling seed (default 0; unused when greedy)
        --limit N             only the first N records of each question file (default: all)""";

  @Override
  public String name() {
    return "eval";
  }

  @Override
  public String summary() {
    return "evaluate a checkpoint: MMHal score and hallucination rate, POPE, CHAIR, answer length";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public ImmutableSet<String> valuedOptions() {
    return ImmutableSet.of("model", "mmhal", "annotations", "images", "pope", "out", "tokenizer", "adapter", "batch",
        "max-new-tokens", "temperature", "top-p", "seed", "limit");
  }

  @Override
  public ImmutableSet<String> repeatableOptions() {
    return ImmutableSet.of("pope");
  }

  @Override
  public ImmutableSet<String> flags() {
    return ImmutableSet.of("chair");
  }

  @Override
  public int run(Options o, PrintStream out, PrintStream err) {
    Path model = Path.of(o.required("model"));
    Path mmhal = Path.of(o.required("mmhal"));
    Path annotations = Path.of(o.required("annotations"));
    Path images = Path.of(o.required("images"));
    Path outDir = Path.of(o.required("out"));
    List<Path> pope = o.values("pope").stream().map(Path::of).toList();
    Path tokenizer = o.value("tokenizer").map(Path::of).orElseGet(() -> {
      Path beside = annotations.toAbsolutePath().normalize().resolveSibling("tokenizer.json");
      if (!Files.isRegularFile(beside)) {
        throw new UsageException("--tokenizer is required: there is no tokenizer.json beside " + annotations);
      }
      return beside;
    });
    EvalConfig config = EvalConfig.builder()
        .batchSize((int) o.integer("batch", 8, 1, 4096))
        .maxNewTokens((int) o.integer("max-new-tokens", 128, 1, 1 << 16))
        .temperature((float) real(o, "temperature", 0, 0, 100))
        .topP((float) real(o, "top-p", 1, Double.MIN_VALUE, 1))
        .seed(o.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE))
        .limit((int) o.integer("limit", 0, 0, Integer.MAX_VALUE))
        .chair(o.flag("chair"))
        .adapter(o.value("adapter").orElse(null))
        .build();
    EvalStage.outputFolder(outDir).check(); // before any file is read: a refused folder costs nothing
    EvalData data = EvalData.load(mmhal, annotations, images, pope);
    EvalResult r = EvalStage.run(config, data, model, tokenizer, outDir,
        new EvalStage.Options(err, System.console() != null));
    var rep = r.report();
    out.printf(Locale.ROOT, "hallucination rate %.3f  MMHal score %.2f  POPE F1 %s  CHAIRs %s  CHAIRi %s"
        + "  mean answer %.1f tokens%n", rep.hallucinationRate(), rep.mmhalScore(), fmt(rep.popeF1()),
        fmt(rep.chairS()), fmt(rep.chairI()), rep.meanResponseTokens());
    out.println("wrote " + r.metrics() + ", " + r.answers() + " and " + r.template());
    return 0;
  }

  private static String fmt(java.util.OptionalDouble d) {
    return d.isPresent() ? String.format(Locale.ROOT, "%.3f", d.getAsDouble()) : "-";
  }

  /** A number in {@code [min, max]}, or {@code otherwise} when absent. */
  private static double real(Options o, String name, double otherwise, double min, double max) {
    var v = o.value(name);
    if (v.isEmpty()) {
      return otherwise;
    }
    double d;
    try {
      d = Double.parseDouble(v.get());
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " expects a number, got '" + v.get() + "'");
    }
    if (!(d >= min && d <= max)) {
      throw new UsageException("--" + name + " must be in " + (min == Double.MIN_VALUE ? "(0" : "[" + min) + ", "
          + max + "], got " + v.get());
    }
    return d;
  }
}

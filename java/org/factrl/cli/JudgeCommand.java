package org.factrl.cli;

import com.google.common.collect.ImmutableSet;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import org.factrl.data.format.AtomicFiles;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.MmhalCodec;
import org.factrl.data.format.MmhalRecord;
import org.factrl.data.judge.ExactJudge;
import org.factrl.data.judge.MmhalJudging;
import org.factrl.data.shapes.SceneJson;
import org.factrl.engine.FactRlException;

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
final class JudgeCommand implements Command {
  static final String VERDICTS = "verdicts.jsonl";
  static final String METRICS = "metrics.json";

  static final String USAGE = """
      usage: bin/factrl judge --annotations FILE --answers FILE --out DIR
        --annotations FILE  the scenes' ground truth (a data set's annotations.json)
        --answers FILE      an MMHal response template (mmhal_eval.json) with model_answer filled
        --out DIR           folder for verdicts.jsonl and metrics.json; must not exist, be empty, or
                            hold only an earlier judge run's two files (which are replaced)""";

  @Override
  public String name() {
    return "judge";
  }

  @Override
  public String summary() {
    return "judge a model's answers to an MMHal template (verdicts and metrics)";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public ImmutableSet<String> valuedOptions() {
    return ImmutableSet.of("annotations", "answers", "out");
  }

  @Override
  public int run(Options o, PrintStream stdout, PrintStream stderr) {
    Path annotations = Path.of(o.required("annotations"));
    Path answers = Path.of(o.required("answers"));
    Path out = Path.of(o.required("out")).toAbsolutePath().normalize();
    checkOutput(out);
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
    write(out, String.join("\n", lines) + (lines.isEmpty() ? "" : "\n"), metrics);
    var all = judged.stream().map(MmhalJudging.Judged::judgement).toList();
    stdout.printf(Locale.ROOT, "judged %d answers: mean score %.2f, hallucination rate %.3f%n",
        all.size(), ExactJudge.meanScore(all), ExactJudge.hallucinationRate(all));
    stdout.println("wrote " + out.resolve(VERDICTS) + " and " + out.resolve(METRICS));
    return 0;
  }

  /** Refuses an output folder that holds anything but an earlier judge run's own two files. */
  static void checkOutput(Path out) {
    if (Files.isSymbolicLink(out)) {
      throw new FactRlException(out + ": is a symbolic link; give a real folder for --out");
    }
    if (!Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (!Files.isDirectory(out, LinkOption.NOFOLLOW_LINKS)) {
      throw new FactRlException(out + ": exists and is not a folder; refusing to replace it");
    }
    List<Path> entries;
    try (Stream<Path> s = Files.list(out)) {
      entries = s.sorted().toList();
    } catch (IOException e) {
      throw new FactRlException(out + ": cannot list: " + e, e);
    }
    if (entries.isEmpty()) {
      return;
    }
    Set<String> own = Set.of(VERDICTS, METRICS);
    for (Path p : entries) {
      String name = p.getFileName().toString();
      if (!own.contains(name) || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
        throw new FactRlException(out + ": holds " + name + ", which an earlier judge run did not"
            + " write; refusing to replace the folder (give an empty or new --out)");
      }
    }
    if (entries.size() != own.size() || !isOwnMetrics(out.resolve(METRICS))) {
      throw new FactRlException(out + ": is not the output of an earlier judge run (its "
          + METRICS + " lacks the format marker or a file is missing); refusing to replace it");
    }
  }

  private static boolean isOwnMetrics(Path metrics) {
    try {
      JsonElement e = JsonParser.parseString(Files.readString(metrics, StandardCharsets.UTF_8));
      return e.isJsonObject() && e.getAsJsonObject().has("format")
          && MmhalJudging.FORMAT.equals(e.getAsJsonObject().get("format").getAsString());
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Builds the folder beside {@code out}, then renames it into place (the old one aside first). */
  private static void write(Path out, String verdicts, String metrics) {
    Path tmp = AtomicFiles.temporarySibling(out, ".partial");
    Path old = null;
    try {
      Files.createDirectories(out.getParent());
      Files.createDirectory(tmp);
      Files.writeString(tmp.resolve(VERDICTS), verdicts, StandardCharsets.UTF_8);
      Files.writeString(tmp.resolve(METRICS), metrics, StandardCharsets.UTF_8);
      checkOutput(out); // unchanged since the start: still empty, absent or our own
      if (Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
        old = AtomicFiles.temporarySibling(out, ".old");
        Files.move(out, old, StandardCopyOption.ATOMIC_MOVE);
      }
      Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
      tmp = null;
      if (old != null) {
        // only the two files checkOutput accepted, then the empty folder
        Files.deleteIfExists(old.resolve(VERDICTS));
        Files.deleteIfExists(old.resolve(METRICS));
        Files.delete(old);
        old = null;
      }
    } catch (IOException e) {
      if (old != null && !Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
        try {
          Files.move(old, out, StandardCopyOption.ATOMIC_MOVE); // put the old result back
        } catch (IOException ignored) {
          // the old result stays at 'old'; the message names both
        }
      }
      throw new FactRlException(out + ": cannot write the judge's output: " + e, e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp.resolve(VERDICTS));
          Files.deleteIfExists(tmp.resolve(METRICS));
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // a leftover hidden .partial folder is harmless and named by its random suffix
        }
      }
    }
  }
}

package org.factrl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.factrl.data.format.MmhalCodec;
import org.factrl.data.format.MmhalRecord;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.judge.MmhalJudging;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/factrl judge}: any model's answers to an MMHal template judged into verdicts and
 * metrics; strict arguments; a user's folder is never replaced.
 */
class JudgeCommandTest {
  @TempDir Path dir;
  private Path annotations;
  private Path template;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeEach
  void dataSet() {
    Path ds = dir.resolve("ds");
    ShapesDataSetWriter.builder().scenes(20).imageSize(16).seed(5).build().write(ds);
    annotations = ds.resolve("annotations.json");
    template = ds.resolve("mmhal_eval.json");
  }

  private int run(String... args) {
    out.reset();
    err.reset();
    return Main.run(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), args);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  /** The template with every answer filled by {@code answer}. */
  private Path answers(String name, Function<MmhalRecord, String> answer) {
    List<MmhalRecord> filled = MmhalCodec.read(template).stream()
        .map(r -> r.withModelAnswer(answer.apply(r))).toList();
    Path p = dir.resolve(name);
    MmhalCodec.write(p, filled);
    return p;
  }

  private JsonObject metrics(Path outDir) throws IOException {
    return JsonParser.parseString(Files.readString(outDir.resolve("metrics.json")))
        .getAsJsonObject();
  }

  @Test
  void judgesTheGroundTruthAsTruthfulAndAFalseAnswerAsHallucinated() throws IOException {
    Path truth = answers("truth.json", MmhalRecord::gtAnswer);
    Path res = dir.resolve("res");
    assertEquals(0, run("judge", "--annotations", annotations.toString(), "--answers",
        truth.toString(), "--out", res.toString()), err());
    JsonObject m = metrics(res);
    int n = MmhalCodec.read(template).size();
    assertEquals(MmhalJudging.FORMAT, m.get("format").getAsString());
    assertEquals(n, m.get("answers").getAsInt());
    assertEquals(0.0, m.get("hallucination_rate").getAsDouble());
    assertEquals(8, m.getAsJsonObject("per_type").size(), "all 8 MMHal types: " + m);
    List<String> lines = Files.readAllLines(res.resolve("verdicts.jsonl"));
    assertEquals(n, lines.size());
    JsonObject first = JsonParser.parseString(lines.get(0)).getAsJsonObject();
    assertTrue(first.has("claims") && first.has("score") && first.has("hallucinated"), first.toString());

    // the same folder again: the judge's own output is replaced
    Path lies = answers("lies.json", r -> "There is a purple dog on the left.");
    assertEquals(0, run("judge", "--annotations", annotations.toString(), "--answers",
        lies.toString(), "--out", res.toString()), err());
    assertEquals(1.0, metrics(res).get("hallucination_rate").getAsDouble());
    try (Stream<Path> s = Files.list(dir)) {
      assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(".")),
          "no hidden work folder is left");
    }
  }

  @Test
  void neverReplacesAUsersFolderOrFile() throws IOException {
    Path truth = answers("truth.json", MmhalRecord::gtAnswer);
    Path mine = dir.resolve("mine");
    Files.createDirectories(mine);
    Files.writeString(mine.resolve("metrics.json"), "{\"my\": \"results\"}");
    assertEquals(1, run("judge", "--annotations", annotations.toString(), "--answers",
        truth.toString(), "--out", mine.toString()));
    assertTrue(err().contains("refusing"), err());
    assertEquals("{\"my\": \"results\"}", Files.readString(mine.resolve("metrics.json")));
    Files.writeString(mine.resolve("verdicts.jsonl"), "mine\n");
    Files.writeString(mine.resolve("notes.txt"), "keep");
    assertEquals(1, run("judge", "--annotations", annotations.toString(), "--answers",
        truth.toString(), "--out", mine.toString()));
    assertTrue(err().contains("notes.txt"), err());
    Path file = dir.resolve("file.txt");
    Files.writeString(file, "text");
    assertEquals(1, run("judge", "--annotations", annotations.toString(), "--answers",
        truth.toString(), "--out", file.toString()));
    assertEquals("text", Files.readString(file));
  }

  @Test
  void badInputIsNamed() {
    Path empty = answers("empty.json", r -> "");
    assertEquals(1, run("judge", "--annotations", annotations.toString(), "--answers",
        empty.toString(), "--out", dir.resolve("o1").toString()));
    assertTrue(err().contains("record 0") && err().contains("model_answer is empty"), err());
    assertFalse(Files.exists(dir.resolve("o1")));
    assertEquals(1, run("judge", "--annotations", annotations.toString(), "--answers",
        dir.resolve("missing.json").toString(), "--out", dir.resolve("o2").toString()));
    assertTrue(err().contains("missing.json"), err());
    assertEquals(2, run("judge", "--annotations", annotations.toString(), "--out", "x"));
    assertTrue(err().contains("--answers is required"), err());
    assertEquals(2, run("judge", "--annotations", annotations.toString(), "--answers", "a",
        "--out", "x", "--bogus"));
    assertTrue(err().contains("unknown option --bogus"), err());
    assertEquals(2, run("judge", "stray"));
  }
}

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
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.format.MmhalCodec;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.Device;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.model.Projector;
import org.factrl.model.io.IfExists;
import org.factrl.testing.TreeSnapshot;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/factrl eval}: strict options (each error exits 2 naming the option, writes nothing), a
 * run on a micro model with repeated --pope files and --chair, and the output-folder rules.
 */
class EvalCommandTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  static Path ds;
  static Path base;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeAll
  static void setUp() {
    ds = shared.resolve("ds");
    ShapesDataSetWriter.builder().scenes(20).imageSize(16).seed(8).build().write(ds);
    int vocab;
    try (Tokenizer t = Tokenizer.load(ds.resolve("tokenizer.json"))) {
      vocab = t.vocabSize();
    }
    ModelConfig c = ModelConfig.builder()
        .imageSize(16).imageChannels(3).patchSize(8)
        .visionHidden(16).visionLayers(1).visionHeads(2).visionIntermediate(32).visionFeatureLayer(-1)
        .projector(Projector.LINEAR)
        .vocabSize(vocab).hidden(32).layers(2).heads(2).intermediate(64).maxPositions(512)
        .imageTokenId(4)
        .build();
    base = shared.resolve("base");
    try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, c)) {
      m.initWeights(3, 0.5f);
      m.saveBase(base, IfExists.FAIL);
    }
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

  private List<String> args(Path outDir, String... more) {
    List<String> a = new ArrayList<>(List.of("eval", "--model", base.toString(),
        "--mmhal", ds.resolve("mmhal_eval.json").toString(), "--annotations", ds.resolve("annotations.json").toString(),
        "--images", ds.resolve("images").toString(), "--out", outDir.toString()));
    a.addAll(List.of(more));
    return a;
  }

  private void usageError(String expected, List<String> argv) {
    int code = run(argv.toArray(String[]::new));
    assertEquals(2, code, argv + "\n" + err());
    assertTrue(err().contains("factrl eval: " + expected), err());
    assertTrue(err().contains("usage: bin/factrl eval"), err());
    assertFalse(err().contains("\tat "), "no stack trace: " + err());
  }

  @Test
  void badCommandLinesExitTwoNamingTheOptionAndWriteNothing() throws IOException {
    TreeSnapshot before = TreeSnapshot.of(dir);
    Path o = dir.resolve("o");
    usageError("--model is required", List.of("eval", "--mmhal", "m", "--annotations", "a", "--images", "i",
        "--out", o.toString()));
    usageError("--out is required", args(o).subList(0, 9));
    usageError("unknown option --bogus", args(o, "--bogus", "1"));
    usageError("--batch must be in 1..4096, got 0", args(o, "--batch", "0"));
    usageError("--max-new-tokens expects an integer, got 'many'", args(o, "--max-new-tokens", "many"));
    usageError("--temperature expects a number, got 'hot'", args(o, "--temperature", "hot"));
    usageError("--top-p must be in (0, 1], got 0", args(o, "--top-p", "0"));
    usageError("--out given twice", args(o, "--out", o.toString()));
    usageError("--chair takes no value", args(o, "--chair=yes"));
    usageError("unexpected argument 'stray'", args(o, "stray"));
    usageError("--pope needs a value", args(o, "--pope"));
    // no tokenizer beside annotations that live elsewhere
    Path lone = Files.copy(ds.resolve("annotations.json"), dir.resolve("annotations.json"));
    TreeSnapshot withCopy = TreeSnapshot.of(dir);
    List<String> a = args(o);
    a.set(a.indexOf("--annotations") + 1, lone.toString());
    usageError("--tokenizer is required: there is no tokenizer.json beside", a);
    assertEquals(withCopy, TreeSnapshot.of(dir));
    assertTrue(before.entries().isEmpty());
  }

  @Test
  void helpPrintsTheUsage() {
    assertEquals(0, run("eval", "--help"));
    String usage = out.toString(StandardCharsets.UTF_8);
    assertTrue(usage.startsWith("usage: bin/factrl eval"), usage);
    for (String option : List.of("--model", "--mmhal", "--annotations", "--images", "--pope", "--chair", "--out",
        "--tokenizer", "--adapter", "--batch", "--max-new-tokens", "--temperature", "--seed", "--limit")) {
      assertTrue(usage.contains(option), option);
    }
    assertEquals(0, run("help"));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("eval"));
  }

  @Test
  void evaluatesAModelWithRepeatedPopeFilesAndChair() throws IOException {
    Path res = dir.resolve("res");
    int code = run(args(res, "--pope", ds.resolve("pope_random.json").toString(), "--pope="
        + ds.resolve("pope_adversarial.json"), "--chair", "--limit", "2", "--max-new-tokens", "3", "--batch", "4")
        .toArray(String[]::new));
    assertEquals(0, code, err());
    String stdout = out.toString(StandardCharsets.UTF_8);
    assertTrue(stdout.contains("hallucination rate") && stdout.contains("wrote "), stdout);
    assertTrue(err().contains("eval mmhal") && err().contains("eval pope") && err().contains("eval chair"), err());
    JsonObject m = JsonParser.parseString(Files.readString(res.resolve("metrics.json"))).getAsJsonObject();
    assertEquals(Set.of("random", "adversarial", "mean", "all"), m.getAsJsonObject("pope").keySet());
    assertFalse(m.get("chair_s").isJsonNull());
    assertEquals(2, MmhalCodec.read(res.resolve("response_template.json")).size());
    assertEquals(2 + 2 * 2 + m.getAsJsonObject("chair").get("descriptions").getAsInt(),
        Files.readAllLines(res.resolve("answers.jsonl")).size());
    // run again into its own output: replaced
    assertEquals(0, run(args(res, "--limit", "1", "--max-new-tokens", "2").toArray(String[]::new)), err());
    assertTrue(JsonParser.parseString(Files.readString(res.resolve("metrics.json"))).getAsJsonObject()
        .get("pope").isJsonNull());
  }

  @Test
  void aUsersFolderAndAmbiguousPopeFilesAreRefused() throws IOException {
    Path user = dir.resolve("user");
    Files.createDirectories(user);
    Files.writeString(user.resolve("thesis.tex"), "mine");
    assertEquals(1, run(args(user, "--limit", "1").toArray(String[]::new)));
    assertTrue(err().contains("holds thesis.tex"), err());
    assertEquals(List.of("thesis.tex"), Files.list(user).map(p -> p.getFileName().toString()).toList());
    // a file, or a link to the user's folder, as --out: refused, nothing changed
    Path notes = Files.writeString(dir.resolve("notes.txt"), "mine");
    assertEquals(1, run(args(notes, "--limit", "1").toArray(String[]::new)));
    assertTrue(err().contains("exists and is not a folder"), err());
    Path link = Files.createSymbolicLink(dir.resolve("link"), user);
    assertEquals(1, run(args(link, "--limit", "1").toArray(String[]::new)));
    assertTrue(err().contains("is a symbolic link"), err());
    assertEquals("mine", Files.readString(notes));
    assertEquals(List.of("thesis.tex"), Files.list(user).map(p -> p.getFileName().toString()).toList());
    String random = ds.resolve("pope_random.json").toString();
    assertEquals(1, run(args(dir.resolve("r"), "--pope", random, "--pope", random).toArray(String[]::new)));
    assertTrue(err().contains("a second POPE file for sampling 'random'"), err());
    assertFalse(Files.exists(dir.resolve("r")));
  }
}

package org.factrl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.factrl.data.dataset.DataSetFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/factrl data}: exit codes and messages a person sees. */
class DataCommandTest {
  @TempDir Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private PrintStream oldOut;
  private PrintStream oldErr;

  @BeforeEach
  void capture() {
    oldOut = System.out;
    oldErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restore() {
    System.setOut(oldOut);
    System.setErr(oldErr);
  }

  private int run(String... args) {
    out.reset();
    err.reset();
    return Main.run(System.out, System.err, args);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void writesADataSetAndPrintsItsSummary() {
    Path ds = dir.resolve("ds");
    assertEquals(0, run("data", "--out", ds.toString(), "--scenes", "20", "--seed=3", "--image-size", "24"));
    String summary = out.toString(StandardCharsets.UTF_8);
    assertTrue(summary.contains("scenes: 20 (sft 10, rm 4, rl 4, eval 2)"), summary);
    assertTrue(summary.contains("sft.json"), summary);
    assertTrue(summary.contains("pretrain.json") && summary.contains("sft turns: pope")
        && summary.contains("preference pairs: omission"), summary);
    assertTrue(DataSetFiles.in(ds).isComplete());
  }

  @Test
  void badCommandLinesExitWithTwoAndSayWhy() {
    String out = dir.resolve("x").toString();
    assertUsage(run("data", "--scenes", "10"), "--out is required");
    assertUsage(run("data", "--out", out, "--scenes", "ten"), "--scenes expects an integer, got 'ten'");
    assertUsage(run("data", "--out", out, "--scenes", "0"), "--scenes must be in 1..200000, got 0");
    assertUsage(run("data", "--out", out, "--scenes", "200001"), "--scenes must be in 1..200000, got 200001");
    assertUsage(run("data", "--out", out, "--image-size", "4"), "--image-size must be in 16..1024, got 4");
    assertUsage(run("data", "--out", out, "--scenes", "3"), "3 scenes leave the rm split empty");
    assertUsage(run("data", "--out", out, "--colour", "red"), "unknown option --colour");
    assertUsage(run("data", "--out"), "--out needs a value");
    assertUsage(run("data", "--out", out, "--seed", "1", "--seed", "2"), "--seed given twice");
    assertUsage(run("data", "--out", out, "stray"), "unexpected argument 'stray'");
    assertFalse(Files.exists(dir.resolve("x")), "nothing written for a bad command line");
  }

  private void assertUsage(int code, String message) {
    assertEquals(2, code, err());
    assertTrue(err().contains("factrl data: " + message), err());
    assertTrue(err().contains("usage: bin/factrl data [-h] --out=DIR"), err());
  }

  @Test
  void anExistingDataSetIsKeptUnlessOverwriteIsGiven() {
    Path ds = dir.resolve("ds");
    assertEquals(0, run("data", "--out", ds.toString(), "--scenes", "20"));
    assertEquals(1, run("data", "--out", ds.toString(), "--scenes", "20"));
    assertTrue(err().contains("a data set is already there; pass --overwrite"), err());
    assertEquals(0, run("data", "--out", ds.toString(), "--scenes", "20", "--overwrite"));
  }

  /** --tokenizer: the data set of another seed holds the given file byte for byte; a missing one is named. */
  @Test
  void aGivenTokenizerIsCopiedByteForByte() throws java.io.IOException {
    Path first = dir.resolve("first");
    assertEquals(0, run("data", "--out", first.toString(), "--scenes", "20", "--seed", "3", "--image-size", "16"));
    Path given = DataSetFiles.in(first).tokenizer();
    Path second = dir.resolve("second");
    assertEquals(0, run("data", "--out", second.toString(), "--scenes", "20", "--seed", "4", "--image-size", "16",
        "--tokenizer", given.toString()), err());
    org.junit.jupiter.api.Assertions.assertArrayEquals(Files.readAllBytes(given),
        Files.readAllBytes(DataSetFiles.in(second).tokenizer()));

    Path missing = dir.resolve("nope/tokenizer.json");
    assertEquals(1, run("data", "--out", dir.resolve("third").toString(), "--scenes", "20", "--tokenizer",
        missing.toString()));
    assertTrue(err().contains(missing.toString()), err());
    assertFalse(Files.exists(dir.resolve("third")), "nothing written for a bad tokenizer");
  }

  @Test
  void helpPrintsUsageAndExitsZero() {
    assertEquals(0, run("data", "--help"));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("--image-size=PX"));
  }
}

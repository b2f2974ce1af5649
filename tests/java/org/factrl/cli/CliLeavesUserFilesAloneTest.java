package org.factrl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.testing.TreeSnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8's deliverable: no command ever changes a folder it did not create. Every command runs in
 * this process ({@link Main#run}) against a tree of a user's files — decoys included: a folder with
 * its own {@code manifest.json}, a {@code data/} folder under a {@code --run} folder, a real data
 * set with one extra user file, a data set of the old format, a link to a data set — and the whole
 * tree is hashed before and after each: every file and folder that was there must be byte-identical,
 * anything new must lie inside a folder the command created, and no hidden folder may be left.
 */
class CliLeavesUserFilesAloneTest {
  @TempDir Path home;

  @Test
  void noCommandChangesAFolderItDidNotCreate() throws IOException {
    userTree();
    // command line, expected exit code
    check(0, "help");
    check(0, "help", "data");
    check(0, "--help");
    check(2);
    check(0, "info");
    check(2, "info", "--bogus");
    check(2, "info", "stray");
    for (String target : List.of("decoy", "run/data", "lookalike", "oldformat", "link", "notes.txt")) {
      check(1, "data", "--out", path(target), "--scenes", "10", "--image-size", "16", "--overwrite");
      check(1, "data", "--out", path(target), "--scenes", "10", "--image-size", "16");
    }
    check(2, "data", "--out", path("decoy"), "--overwrite", "--bogus");
    check(0, "data", "--out", path("fresh/ds"), "--scenes", "10", "--image-size", "16");
    // the pipeline's data stage (--until data: the training stages have their own folder rules and tests)
    check(1, "pipeline", "--out", path("run"), "--scenes", "10", "--until", "data");
    check(2, "pipeline", "--out", path("run"), "--scenes", "10", "stray");
    check(0, "pipeline", "--run", path("emptyrun"), "--scenes", "10", "--until", "data"); // old spelling; makes emptyrun/data
    check(0, "pipeline", "--out", path("emptyrun"), "--scenes", "10", "--until", "data"); // reuses it, unchanged
    check(0, "pipeline", "--out", path("newrun"), "--scenes", "10", "--until", "data");
    // judge: its --out is refused wherever it would replace anything of the user's
    for (String target : List.of("decoy", "run/data", "lookalike", "link", "notes.txt")) {
      check(1, "judge", "--annotations", path("fresh/ds/annotations.json"), "--answers",
          path("fresh/ds/mmhal_eval.json"), "--out", path(target));
    }
    check(2, "judge", "--annotations", path("fresh/ds/annotations.json"), "--out", path("j"));
    // sft: a fresh run needs a new or empty --out; --resume needs an SFT run folder
    for (String target : List.of("decoy", "run/data", "lookalike", "oldformat", "link", "notes.txt")) {
      check(1, "sft", "--data", path("fresh/ds"), "--out", path(target));
      check(1, "sft", "--data", path("fresh/ds"), "--out", path(target), "--resume");
    }
    check(2, "sft", "--data", path("fresh/ds"), "--out", path("s"), "--bogus");
    check(2, "sft", "--out", path("s"));
  }

  /** Runs one command line and checks its exit code and that only folders it created changed. */
  private void check(int expected, String... argv) throws IOException {
    TreeSnapshot before = TreeSnapshot.of(home);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), argv);
    String what = String.join(" ", argv) + "\n" + err.toString(StandardCharsets.UTF_8);
    assertEquals(expected, code, what);
    TreeSnapshot after = TreeSnapshot.of(home);
    assertEquals(List.of(), before.changesOutsideNewFolders(after), what);
    List<String> hidden = after.entries().keySet().stream()
        .filter(name -> !before.entries().containsKey(name))
        .filter(name -> Stream.of(name.split("/")).anyMatch(part -> part.startsWith("."))).toList();
    assertEquals(List.of(), hidden, "left behind by " + what);
  }

  private String path(String relative) {
    return home.resolve(relative).toString();
  }

  private void userTree() throws IOException {
    write("notes.txt", "my notes");
    write("decoy/manifest.json", "{\"name\": \"my web app\", \"version\": \"1.0\"}");
    write("decoy/report.pdf", "%PDF-1.4 not really");
    write("run/data/manifest.json", "{\"experiment\": 7}");
    write("run/data/my-results.csv", "step,loss\n1,0.5\n");
    write("run/keep.txt", "keep");
    Path lookalike = home.resolve("lookalike");
    ShapesDataSetWriter.builder().scenes(10).imageSize(16).build().write(lookalike);
    write("lookalike/notes.txt", "what I learnt from this data set");
    write("oldformat/manifest.json", "{\"format\": \"factrl-shapes-dataset/1\", \"files\": {}}");
    write("oldformat/images/shapes-000000.png", "x");
    Files.createSymbolicLink(home.resolve("link"), lookalike);
    Files.createDirectories(home.resolve("emptyrun"));
    Files.createDirectories(home.resolve("empty"));
    assertTrue(Files.isDirectory(home.resolve("lookalike/images")));
  }

  private void write(String relative, String text) throws IOException {
    Path p = home.resolve(relative);
    Files.createDirectories(p.getParent());
    Files.writeString(p, text);
  }
}

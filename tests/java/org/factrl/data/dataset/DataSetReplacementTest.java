package org.factrl.data.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.io.MoreFiles;
import com.google.common.io.RecursiveDeleteOption;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.factrl.engine.FactRlException;
import org.factrl.testing.TreeSnapshot;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Class 1 of issue 8: a write replaces a folder only when it provably holds one FactRL data set and
 * nothing else, keeps the old one until the new one is in place (also when something fails), and
 * cleans up after runs that died. Every refused case checks the folder is byte-identical after.
 */
class DataSetReplacementTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  /** A real data set (10 scenes, 16-pixel images) that tests copy and then tamper with. */
  private static Path original;
  private final List<String> notices = new ArrayList<>();

  @BeforeAll
  static void writeOnce() {
    original = shared.resolve("original");
    writer(1, false, s -> { }).write(original);
  }

  private static ShapesDataSetWriter writer(long seed, boolean overwrite, Consumer<String> notices) {
    return ShapesDataSetWriter.builder().scenes(10).seed(seed).imageSize(16).overwrite(overwrite)
        .notices(notices).build();
  }

  private ShapesDataSetWriter overwriting(long seed) {
    return writer(seed, true, notices::add);
  }

  private Path copyOfOriginal(String name) throws IOException {
    Path copy = dir.resolve(name);
    try (Stream<Path> walk = Files.walk(original)) {
      for (Path p : walk.toList()) {
        Files.copy(p, copy.resolve(original.relativize(p).toString()));
      }
    }
    return copy;
  }

  /** The write fails with a message containing {@code expected}, and nothing under {@code dir} changed. */
  private void assertRefusedAndUntouched(Path target, String expected) throws IOException {
    TreeSnapshot before = TreeSnapshot.of(dir);
    FactRlException e = assertThrows(FactRlException.class, () -> overwriting(2).write(target));
    assertTrue(e.getMessage().startsWith(target.toAbsolutePath().normalize().toString()), e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
    assertEquals(List.of(), before.changesOutsideNewFolders(TreeSnapshot.of(dir)));
    assertEquals(before, TreeSnapshot.of(dir), "no folder left behind either");
  }

  @Test
  void aFolderWithAnUnrelatedManifestIsNotReplaced() throws IOException {
    Path decoy = dir.resolve("decoy");
    Files.createDirectories(decoy.resolve("photos"));
    Files.writeString(decoy.resolve("manifest.json"), "{\"name\": \"my web app\"}");
    Files.writeString(decoy.resolve("photos/cat.png"), "not really a png");
    assertRefusedAndUntouched(decoy, "its manifest.json has no \"format\": \"factrl-shapes-dataset\"");
    Files.writeString(decoy.resolve("manifest.json"), "not json at all");
    assertRefusedAndUntouched(decoy, "its manifest.json is not a FactRL manifest");
  }

  @Test
  void aDataSetWithOneExtraUserFileIsNotReplacedAndTheFileIsNamed() throws IOException {
    Path ds = copyOfOriginal("with-notes");
    Files.writeString(ds.resolve("images/notes.txt"), "my notes on these images");
    assertRefusedAndUntouched(ds, "holds images/notes.txt, which is not one of the data set's files");
    Files.delete(ds.resolve("images/notes.txt"));
    Files.createDirectory(ds.resolve("analysis"));
    assertRefusedAndUntouched(ds, "holds analysis, which is not one of the data set's files");
  }

  @Test
  void aDataSetWithAnEditedFileIsNotReplaced() throws IOException {
    Path ds = copyOfOriginal("edited");
    Files.writeString(ds.resolve("sft.json"), "[]\n");
    assertRefusedAndUntouched(ds, "its file sft.json differs from the one the data set wrote");
  }

  @Test
  void aFileListEditedToAdoptAUserFileIsNotTrusted() throws IOException {
    Path ds = copyOfOriginal("adopted");
    Files.writeString(ds.resolve("mine.txt"), "mine");
    Files.writeString(ds.resolve("SHA256SUMS"), Files.readString(ds.resolve("SHA256SUMS"))
        + OwnedFolder.sha256(ds.resolve("mine.txt")) + "  mine.txt\n");
    assertRefusedAndUntouched(ds, "SHA256SUMS is not the one its manifest records");
  }

  @Test
  void aDataSetOfTheOldFormatCannotBeProvenAndIsNotReplaced() throws IOException {
    Path old = dir.resolve("old");
    Files.createDirectories(old.resolve("images"));
    Files.writeString(old.resolve("manifest.json"), "{\"format\": \"factrl-shapes-dataset/1\", \"files\": {}}");
    Files.writeString(old.resolve("images/shapes-000000.png"), "x");
    assertRefusedAndUntouched(old, "older format (factrl-shapes-dataset/1)");
  }

  @Test
  void aLinkOrAFileIsNeverReplaced() throws IOException {
    Path link = dir.resolve("link");
    Files.createSymbolicLink(link, copyOfOriginal("real"));
    assertRefusedAndUntouched(link, "is a symbolic link");
    Path file = dir.resolve("file");
    Files.writeString(file, "text");
    assertRefusedAndUntouched(file, "exists and is not a folder");
  }

  @Test
  void ourOwnDataSetIsReplacedAndNothingIsLeftBeside() throws IOException {
    Path ds = copyOfOriginal("ours");
    String before = Files.readString(ds.resolve("annotations.json"));
    FactRlException e = assertThrows(FactRlException.class, () -> writer(2, false, notices::add).write(ds));
    assertTrue(e.getMessage().contains("pass --overwrite"), e.getMessage());
    overwriting(2).write(ds);
    assertFalse(before.equals(Files.readString(ds.resolve("annotations.json"))));
    OwnedFolder.verify(ds); // the new one is itself provably ours
    assertEquals(List.of("ours"), names(dir));
    assertEquals(List.of(), notices);
  }

  @Test
  void aFileAddedAfterTheCheckIsCaughtWhenTheOldSetIsMovedAsideAndItIsPutBack() throws IOException {
    Path ds = copyOfOriginal("raced");
    FactRlException e = assertThrows(FactRlException.class, () -> ShapesDataSetWriter.builder().scenes(10)
        .seed(2).imageSize(16).overwrite(true).notices(notices::add)
        .beforeSwap(fresh -> write(ds.resolve("late.txt"), "written while the new set was built")).build()
        .write(ds));
    assertTrue(e.getMessage().contains("holds late.txt"), e.getMessage());
    assertEquals("written while the new set was built", Files.readString(ds.resolve("late.txt")));
    assertEquals(Files.readString(original.resolve("sft.json")), Files.readString(ds.resolve("sft.json")));
    assertEquals(List.of("raced"), names(dir));
  }

  @Test
  void whenTheNewSetCannotBeMovedInTheOldOneIsPutBack() throws IOException {
    Path ds = copyOfOriginal("kept");
    TreeSnapshot before = TreeSnapshot.of(dir);
    assertThrows(FactRlException.class, () -> ShapesDataSetWriter.builder().scenes(10).seed(2).imageSize(16)
        .overwrite(true).notices(notices::add).beforeSwap(DataSetReplacementTest::deleteTree).build().write(ds));
    assertEquals(before, TreeSnapshot.of(dir));
  }

  @Test
  void aFailureWhileBuildingLeavesTheTargetAndItsFolderAsTheyWere() throws IOException {
    Path ds = copyOfOriginal("failed");
    TreeSnapshot before = TreeSnapshot.of(dir);
    assertThrows(IllegalStateException.class, () -> ShapesDataSetWriter.builder().scenes(10).seed(2).imageSize(16)
        .overwrite(true).notices(notices::add)
        .beforeSwap(fresh -> { throw new IllegalStateException("disk full"); }).build().write(ds));
    assertEquals(before, TreeSnapshot.of(dir));
  }

  @Test
  void stagingFoldersOfDeadRunsAreRemovedAndOthersAreNamed() throws Exception {
    Path target = dir.resolve("ds");
    long deadPid = deadPid();
    Path dead = staging(target, "aaaa", deadPid);
    Files.createDirectories(dead.resolve("dataset/images"));
    Files.write(dead.resolve("dataset/images/shapes-000001.png"), new byte[1000]);
    Path live = staging(target, "bbbb", ProcessHandle.current().pid());
    Path unmarked = dir.resolve(".ds.cccc.partial");
    Files.createDirectories(unmarked);
    Files.writeString(unmarked.resolve("sft.json"), "[]");
    Path emptyOld = dir.resolve(".ds.dddd.partial");
    Files.createDirectories(emptyOld);
    Files.setLastModifiedTime(emptyOld, FileTime.from(Instant.now().minusSeconds(7200)));
    Path legacyOld = dir.resolve(".ds.eeee.old");
    Files.createDirectories(legacyOld);
    Files.writeString(legacyOld.resolve("manifest.json"), "{}");
    Path otherTarget = staging(dir.resolve("other"), "ffff", deadPid);

    writer(3, false, notices::add).write(target);
    assertEquals(List.of(".ds.bbbb.partial", ".ds.cccc.partial", ".ds.eeee.old", ".other.ffff.partial", "ds"),
        names(dir), "dead and empty ones removed; live, unproven and other targets' ones kept");
    assertEquals(5, notices.size(), String.join("\n", notices));
    assertTrue(notices.get(0).equals(dead + ": removed (left by process " + deadPid + ", which is gone)"),
        notices.get(0));
    assertTrue(notices.get(1).contains(live + ": in use by running process"), notices.get(1));
    assertTrue(notices.get(2).contains(unmarked + ": left by an older FactRL or not ours"), notices.get(2));
    assertTrue(notices.get(3).contains(emptyOld + ": removed (an empty folder"), notices.get(3));
    assertTrue(notices.get(4).contains(legacyOld + ": left by an older FactRL or not ours"), notices.get(4));
    assertTrue(Files.exists(otherTarget));
  }

  @Test
  void aDataSetADeadRunHadMovedAsideIsPutBack() throws Exception {
    Path target = dir.resolve("ds");
    Path dead = staging(target, "abcd", deadPid());
    Files.move(copyOfOriginal("x"), dead.resolve("previous"));
    assertTrue(writer(1, false, notices::add).wroteAlready(dead.resolve("previous")));
    FactRlException e = assertThrows(FactRlException.class, () -> writer(1, false, notices::add).write(target));
    assertTrue(e.getMessage().contains("a data set is already there"), e.getMessage());
    assertTrue(writer(1, false, notices::add).wroteAlready(target), "the moved-aside data set is back");
    assertTrue(notices.get(0).endsWith("the data set it had moved aside is back at " + target), notices.get(0));
    assertEquals(List.of("ds"), names(dir));
  }

  @Test
  void reuseRequiresEveryFileIntactAndNothingAdded() throws IOException {
    Path ds = copyOfOriginal("reuse");
    assertTrue(writer(1, false, notices::add).wroteAlready(ds));
    Files.writeString(ds.resolve("extra.txt"), "x");
    assertFalse(writer(1, false, notices::add).wroteAlready(ds));
    Files.delete(ds.resolve("extra.txt"));
    Files.delete(ds.resolve("pope_random.json"));
    assertFalse(writer(1, false, notices::add).wroteAlready(ds), "incomplete");
    overwriting(1).write(ds); // an incomplete set of only our files may be replaced
    assertTrue(writer(1, false, notices::add).wroteAlready(ds));
  }

  /** A staging folder for {@code target} as a run with process id {@code pid} would have made it. */
  private static Path staging(Path target, String id, long pid) throws IOException {
    Path s = target.resolveSibling("." + target.getFileName() + "." + id + ".partial");
    Files.createDirectories(s);
    String started = ProcessHandle.of(pid).flatMap(h -> h.info().startInstant()).map(Instant::toString)
        .orElse("2020-01-01T00:00:00Z");
    Files.writeString(s.resolve(StagingFolder.MARKER), "factrl staging folder\npid " + pid + "\nstarted "
        + started + "\n", StandardCharsets.UTF_8);
    return s;
  }

  /** The id of a process that has exited. */
  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return p.pid();
  }

  private static List<String> names(Path folder) throws IOException {
    try (Stream<Path> s = Files.list(folder)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static void write(Path file, String text) {
    try {
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void deleteTree(Path p) {
    try {
      MoreFiles.deleteRecursively(p, RecursiveDeleteOption.ALLOW_INSECURE);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}

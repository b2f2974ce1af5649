package org.factrl.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.factrl.engine.FactRlException;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint folders appear whole or not at all; partial folders of dead runs are cleaned, others kept. */
class CheckpointStoreTest {
  @TempDir Path dir;

  private static void file(Path folder, String name, String text) {
    AtomicWrite.writeBytes(folder.resolve(name), IfExists.FAIL, text.getBytes(StandardCharsets.UTF_8));
  }

  private List<String> names(Path p) throws Exception {
    try (Stream<Path> s = Files.list(p)) {
      return s.map(q -> q.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void writesWholeFoldersAndFindsTheLatest() throws Exception {
    CheckpointStore store = new CheckpointStore(dir.resolve("ck"));
    assertTrue(store.latest().isEmpty());
    Path a = store.write(2, f -> file(f, "w.bin", "two"));
    Path b = store.write(10, f -> file(f, "w.bin", "ten"));
    assertEquals(List.of(a, b), store.list());
    assertEquals(b, store.latest().orElseThrow());
    assertEquals(10, CheckpointStore.stepOf(b));
    assertEquals(List.of("checkpoint.json", "w.bin"), names(b));
    assertEquals(List.of("step-00000002", "step-00000010"), names(dir.resolve("ck")));
    FactRlException twice = assertThrows(FactRlException.class, () -> store.write(10, f -> file(f, "w.bin", "x")));
    assertTrue(twice.getMessage().contains("exists already"), twice.getMessage());
    assertEquals("ten", Files.readString(b.resolve("w.bin")));
  }

  @Test
  void aFailureWhileWritingLeavesNothing() throws Exception {
    CheckpointStore store = new CheckpointStore(dir.resolve("ck"));
    store.write(1, f -> file(f, "w.bin", "one"));
    assertThrows(IllegalStateException.class, () -> store.write(2, f -> {
      file(f, "w.bin", "half");
      throw new IllegalStateException("disk full");
    }));
    assertEquals(List.of("step-00000001"), names(dir.resolve("ck")));
  }

  @Test
  void aFolderWithoutItsCompletionFileIsNotACheckpoint() throws Exception {
    CheckpointStore store = new CheckpointStore(dir.resolve("ck"));
    store.write(1, f -> file(f, "w.bin", "one"));
    Files.createDirectories(dir.resolve("ck/step-00000005")); // e.g. made by hand
    Files.createDirectories(dir.resolve("ck/.step-00000006.aa.partial")); // no marker: never deleted
    assertEquals(dir.resolve("ck/step-00000001"), store.latest().orElseThrow());
    List<String> notes = store.cleanStale();
    assertEquals(1, notes.size());
    assertTrue(notes.get(0).contains("left alone"), notes.toString());
    assertTrue(Files.exists(dir.resolve("ck/.step-00000006.aa.partial")));
    // a live process's partial folder is left alone too
    Path live = dir.resolve("ck/.step-00000007.bb.partial");
    Files.createDirectories(live);
    ProcessHandle self = ProcessHandle.current();
    Files.writeString(live.resolve(CheckpointStore.PARTIAL_MARKER), "factrl checkpoint\npid " + self.pid() + "\nstarted "
        + self.info().startInstant().map(Object::toString).orElse("unknown") + "\n");
    store.cleanStale();
    assertTrue(Files.exists(live));
    assertFalse(store.list().stream().anyMatch(p -> p.getFileName().toString().contains("7")));
  }

  /**
   * A kill while the marker itself is written (it is fsynced before its rename) leaves only the
   * marker's temporary file: it names its process too, so a gone owner's folder is removed; a live
   * owner's, or one whose text is not whole yet, is left alone.
   */
  @Test
  void aFolderKilledWhileItsMarkerWasWrittenIsCleanedByItsOwnersDeath() throws Exception {
    CheckpointStore store = new CheckpointStore(dir.resolve("ck"));
    store.write(1, f -> file(f, "w.bin", "one"));
    Process dead = new ProcessBuilder("true").start();
    dead.waitFor();
    ProcessHandle self = ProcessHandle.current();
    Path gone = dir.resolve("ck/.step-00000002.aa.partial");
    Path live = dir.resolve("ck/.step-00000003.bb.partial");
    Path torn = dir.resolve("ck/.step-00000004.cc.partial");
    for (Path p : List.of(gone, live, torn)) {
      Files.createDirectories(p);
    }
    Files.writeString(gone.resolve("." + CheckpointStore.PARTIAL_MARKER + ".1f2e.tmp"), "factrl checkpoint\npid "
        + dead.pid() + "\nstarted " + dead.info().startInstant().map(Object::toString).orElse("unknown") + "\n");
    Files.writeString(live.resolve("." + CheckpointStore.PARTIAL_MARKER + ".3d4c.tmp"), "factrl checkpoint\npid "
        + self.pid() + "\nstarted " + self.info().startInstant().map(Object::toString).orElse("unknown") + "\n");
    Files.writeString(torn.resolve("." + CheckpointStore.PARTIAL_MARKER + ".5b6a.tmp"), "");
    List<String> notes = store.cleanStale();
    assertEquals(3, notes.size(), notes.toString());
    assertFalse(Files.exists(gone), notes.toString());
    assertTrue(Files.exists(live), notes.toString());
    assertTrue(Files.exists(torn), notes.toString());
    // a folder holding anything besides that temporary file is not taken for one
    Path more = dir.resolve("ck/.step-00000005.dd.partial");
    Files.createDirectories(more);
    Files.writeString(more.resolve("." + CheckpointStore.PARTIAL_MARKER + ".7e8f.tmp"), "factrl checkpoint\npid "
        + dead.pid() + "\nstarted unknown\n");
    Files.writeString(more.resolve("w.bin"), "user data?");
    store.cleanStale();
    assertTrue(Files.exists(more));
  }
}

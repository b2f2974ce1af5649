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
}

package org.factrl.data;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Stream;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.OwnedFolder;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.LlavaConversationCodec;
import org.factrl.data.format.MmhalCodec;
import org.factrl.data.format.PopeCodec;
import org.factrl.data.format.PreferencePairCodec;
import org.factrl.data.format.RlPromptCodec;
import org.factrl.data.shapes.SceneGenerator;
import org.factrl.data.shapes.SceneJson;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 8: every reader, fed damaged copies of the files the real writer makes (a small shapes
 * data set), either succeeds or throws a {@link FactRlException} whose message names the file;
 * never another exception, never a hang (each case has {@value #CASE_SECONDS} s). The damage is
 * {@link JsonMutator}'s; the case seeds come from a fixed seed per reader, so every run tries the
 * same cases. Budget: {@value #TRIES} damaged files per reader and property (about 20 s in all on
 * 2 busy cores). A failure names the reader, seed and mutation count: one line reproduces it.
 *
 * <p>A case that ever failed stays below as a test named after what it found.
 */
class ReaderFuzzTest {
  static final int TRIES = 50;
  static final int CASE_SECONDS = 20;

  /** Each reader, the data set file it reads, and what reading means. */
  enum Target {
    SFT("sft.json", LlavaConversationCodec::read),
    PREFERENCES("preferences.json", PreferencePairCodec::read),
    RL_PROMPTS("rl_prompts.json", RlPromptCodec::read),
    MMHAL("mmhal_eval.json", MmhalCodec::read),
    POPE("pope_random.json", PopeCodec::read),
    ANNOTATIONS("annotations.json", SceneJson::readList),
    SCENE("scene.json", SceneJson::read),
    MANIFEST("manifest.json", JsonRecords::readDocument),
    /** The data set writer's own manifest check: a damaged manifest is simply not reusable. */
    MANIFEST_REUSE("manifest.json", file -> WRITER.wroteAlready(file.getParent())),
    /** The check before a data set folder is replaced (issue 8, class 1): manifest damaged. */
    OWNED_MANIFEST("manifest.json", file -> OwnedFolder.verify(file.getParent())),
    /** The same check, its file list ({@code SHA256SUMS}, not JSON) damaged. */
    OWNED_LIST(OwnedFolder.FILE_LIST, file -> OwnedFolder.verify(file.getParent())),
    TOKENIZER("tokenizer.json", file -> {
      try (Tokenizer t = Tokenizer.load(file)) {
        int[] ids = t.encode("A red circle <image> and two blue squares.");
        return t.decode(ids) + t.vocabSize() + t.tokenId("red");
      }
    });

    final String fileName;
    final Function<Path, ?> read;

    Target(String fileName, Function<Path, ?> read) {
      this.fileName = fileName;
      this.read = read;
    }

    /** Whether the file sits in a whole data set folder, which the errors name instead of the file. */
    boolean inDataSet() {
      return this == OWNED_MANIFEST || this == OWNED_LIST;
    }
  }

  static final ShapesDataSetWriter WRITER =
      ShapesDataSetWriter.builder().scenes(10).seed(3).imageSize(16).build();
  private static final Map<Target, byte[]> VALID = new EnumMap<>(Target.class);
  private static Path work;
  private static ExecutorService pool;

  @BeforeAll
  static void writeValidFiles() throws IOException {
    work = Files.createTempDirectory("reader-fuzz");
    DataSetFiles files = DataSetFiles.in(work.resolve("valid"));
    WRITER.write(files.root());
    SceneJson.write(work.resolve("scene.json"), SceneGenerator.withSeed(4).scene(2));
    for (Target t : Target.values()) {
      Path valid = t == Target.SCENE ? work.resolve("scene.json") : files.root().resolve(t.fileName);
      VALID.put(t, Files.readAllBytes(valid));
    }
    pool = Executors.newCachedThreadPool(r -> {
      Thread thread = new Thread(r, "reader-fuzz");
      thread.setDaemon(true); // a hung case must not keep the test JVM alive
      return thread;
    });
  }

  @AfterAll
  static void cleanUp() throws IOException {
    pool.shutdownNow();
    try (Stream<Path> all = Files.walk(work)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }

  /** 1 to 4 mutations of any kind: mostly broken syntax, some broken fields. */
  @ParameterizedTest
  @EnumSource(Target.class)
  void damagedFilesReadOrNameTheFile(Target target) {
    Random cases = new Random(20261202L + target.ordinal());
    for (int i = 0; i < TRIES; i++) {
      long seed = cases.nextLong();
      int count = 1 + cases.nextInt(4);
      check(target, seed, count);
    }
  }

  /**
   * The oracle beyond "no raw exception": one key given twice, anywhere in any file, is always an
   * error naming the file and the duplicate (the readers used to keep the last value silently).
   */
  @ParameterizedTest
  @EnumSource(value = Target.class, names = {"MANIFEST_REUSE", "OWNED_MANIFEST", "OWNED_LIST"}, mode = EnumSource.Mode.EXCLUDE)
  void aDuplicateKeyIsAlwaysRejected(Target target) {
    Random cases = new Random(20261212L + target.ordinal());
    for (int i = 0; i < TRIES / 2; i++) {
      long seed = cases.nextLong();
      duplicateKeyIsRejected(target, seed);
    }
  }

  private static void duplicateKeyIsRejected(Target target, long seed) {
    byte[] damaged = JsonMutator.once(VALID.get(target), JsonMutator.Kind.DUPLICATE_KEY, seed);
    Path file = place(target, damaged);
    Throwable t = outcome(target, file);
    restore(target);
    assertTrue(t instanceof FactRlException && t.getMessage().startsWith(file + ": ")
        && t.getMessage().contains("duplicate key"), () -> target + " seed " + seed + ": got " + t);
  }

  /**
   * Damage that keeps the syntax valid (a value of another type, an odd number, a nested value),
   * so that the field checks and the HF tokenizer library, not the JSON parser, meet it.
   */
  @ParameterizedTest
  @EnumSource(Target.class)
  void wellFormedButWrongValues(Target target) {
    Random cases = new Random(20261213L + target.ordinal());
    for (int i = 0; i < TRIES / 2; i++) {
      wellFormedButWrong(target, cases.nextLong(), 1 + cases.nextInt(3));
    }
  }

  private static void wellFormedButWrong(Target target, long seed, int count) {
    byte[] data = VALID.get(target);
    Random kinds = new Random(seed);
    JsonMutator.Kind[] semantic = {JsonMutator.Kind.SWAP_VALUE, JsonMutator.Kind.HUGE_NUMBER,
        JsonMutator.Kind.DEEP_NESTING, JsonMutator.Kind.DUPLICATE_LINE};
    for (int i = 0; i < count; i++) {
      data = JsonMutator.once(data, semantic[kinds.nextInt(semantic.length)], kinds.nextLong());
    }
    checkOutcome(target, place(target, data), target + " seed " + seed + " count " + count + " (well-formed)");
  }

  @Test
  void undamagedFilesRead() {
    for (Target t : Target.values()) {
      Path file = place(t, VALID.get(t));
      Throwable failure = outcome(t, file);
      assertTrue(failure == null, () -> t + " failed on the writer's own file: " + failure);
    }
  }

  /** Reads {@code target}'s file damaged by (seed, count) and checks the outcome. */
  static void check(Target target, long seed, int count) {
    JsonMutator.Mutated m = JsonMutator.apply(VALID.get(target), seed, count);
    checkOutcome(target, place(target, m.data()), target + " seed " + seed + " count " + count + " " + m.kinds());
  }

  /** Success, or a FactRlException naming {@code file} (or its data set folder). */
  private static void checkOutcome(Target target, Path file, String what) {
    Throwable t = outcome(target, file);
    restore(target);
    Path named = target.inDataSet() ? file.getParent() : file;
    if (t == null || (t instanceof FactRlException && t.getMessage() != null && t.getMessage().contains(named.toString()))) {
      return;
    }
    throw new AssertionError(what + ": expected success or a FactRlException naming " + named + ", got " + t, t);
  }

  /** Puts the valid file back (a data set folder must stay whole for the next case). */
  private static void restore(Target target) {
    if (target.inDataSet()) {
      place(target, VALID.get(target));
    }
  }

  /** Writes {@code bytes} as the target's file, in a folder of its own (a whole data set's copy). */
  private static Path place(Target target, byte[] bytes) {
    try {
      Path dir = work.resolve("case-" + target.name().toLowerCase());
      if (target.inDataSet() && !Files.exists(dir)) {
        copyTree(work.resolve("valid"), dir);
      }
      Files.createDirectories(dir);
      return Files.write(dir.resolve(target.fileName), bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        Files.copy(p, to.resolve(from.relativize(p).toString()));
      }
    }
  }

  /** Null when the read succeeded, else what it threw; a hang is an AssertionError. */
  private static Throwable outcome(Target target, Path file) {
    Future<?> run = pool.submit(() -> target.read.apply(file));
    try {
      run.get(CASE_SECONDS, TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      run.cancel(true);
      return new AssertionError(target + ": still reading " + file + " after " + CASE_SECONDS + " s (a hang)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return e;
    }
  }
}

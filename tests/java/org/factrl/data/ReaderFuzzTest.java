package org.factrl.data;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Stream;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.factrl.data.dataset.DataSetFiles;
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

/**
 * Issue 8: every reader, fed damaged copies of the files the real writer makes (a small shapes
 * data set), either succeeds or throws a {@link FactRlException} whose message names the file;
 * never another exception, never a hang (each case has {@value #CASE_SECONDS} s). The damage is
 * {@link JsonMutator}'s, seeded; jqwik draws the seeds from a fixed seed, so every run tries the
 * same cases. Budget: {@value #TRIES} cases per reader, a few seconds in all on 2 busy cores.
 *
 * <p>A case that ever failed stays below as an {@link Example} named after what it found.
 */
class ReaderFuzzTest {
  static final int TRIES = 100;
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
  }

  static final ShapesDataSetWriter WRITER =
      ShapesDataSetWriter.builder().scenes(10).seed(3).imageSize(16).build();
  private static final Map<Target, byte[]> VALID = new EnumMap<>(Target.class);
  private static Path work;
  private static ExecutorService pool;

  @BeforeContainer
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

  @AfterContainer
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

  @Property(tries = TRIES, seed = "20261202", shrinking = ShrinkingMode.OFF)
  void sft(@ForAll @LongRange long seed, @ForAll @IntRange(min = 1, max = 4) int count) {
    check(Target.SFT, seed, count);
  }

  @Property(tries = TRIES, seed = "20261203", shrinking = ShrinkingMode.OFF)
  void preferences(@ForAll @LongRange long seed, @ForAll @IntRange(min = 1, max = 4) int count) {
    check(Target.PREFERENCES, seed, count);
  }

  @Property(tries = TRIES, seed = "20261204", shrinking = ShrinkingMode.OFF)
  void rlPrompts(@ForAll @LongRange long seed, @ForAll @IntRange(min = 1, max = 4) int count) {
    check(Target.RL_PROMPTS, seed, count);
  }

  @Property(tries = TRIES, seed = "20261205", shrinking = ShrinkingMode.OFF)
  void mmhal(@ForAll @LongRange long seed, @ForAll @IntRange(min = 1, max = 4) int count) {
    check(Target.MMHAL, seed, count);
  }

  @Property(tries = TRIES, seed = "20261206", shrinking = ShrinkingMode.OFF)
  void pope(@ForAll @LongRange long seed, @ForAll @IntRange(min = 1, max = 4) int count) {
    check(Target.POPE, seed, count);
  }

  @Property(tries = TRIES, seed = "20261207", shrinking = ShrinkingMode.OFF)
  void annotations(@ForAll @LongRange long seed, @ForAll @IntRange(min = 1, max = 4) int count) {
    check(Target.ANNOTATIONS, seed, count);
  }

  @Property(tries = TRIES, seed = "20261208", shrinking = ShrinkingMode.OFF)
  void scene(@ForAll @LongRange long seed, @ForAll @IntRange(min = 1, max = 4) int count) {
    check(Target.SCENE, seed, count);
  }

  @Property(tries = TRIES, seed = "20261209", shrinking = ShrinkingMode.OFF)
  void manifest(@ForAll @LongRange long seed, @ForAll @IntRange(min = 1, max = 4) int count) {
    check(Target.MANIFEST, seed, count);
  }

  @Property(tries = TRIES, seed = "20261210", shrinking = ShrinkingMode.OFF)
  void manifestReuse(@ForAll @LongRange long seed, @ForAll @IntRange(min = 1, max = 4) int count) {
    check(Target.MANIFEST_REUSE, seed, count);
  }

  @Property(tries = TRIES, seed = "20261211", shrinking = ShrinkingMode.OFF)
  void tokenizer(@ForAll @LongRange long seed, @ForAll @IntRange(min = 1, max = 4) int count) {
    check(Target.TOKENIZER, seed, count);
  }

  /**
   * The oracle beyond "no raw exception": one key given twice, anywhere in any file, is always an
   * error naming the file and the duplicate (the readers used to keep the last value silently).
   */
  @Property(tries = TRIES, seed = "20261212", shrinking = ShrinkingMode.OFF)
  void aDuplicateKeyIsAlwaysRejected(@ForAll Target target, @ForAll @LongRange long seed) {
    if (target == Target.MANIFEST_REUSE) {
      return; // answers true or false, never throws: MANIFEST covers the same file
    }
    byte[] damaged = JsonMutator.once(VALID.get(target), JsonMutator.Kind.DUPLICATE_KEY, seed);
    Path file = place(target, damaged);
    Throwable t = outcome(target, file);
    assertTrue(t instanceof FactRlException && t.getMessage().startsWith(file + ": ")
        && t.getMessage().contains("duplicate key"), () -> target + " seed " + seed + ": got " + t);
  }

  /**
   * Damage that keeps the syntax valid (a value of another type, an odd number, a nested value),
   * so that the field checks and the HF tokenizer library, not the JSON parser, meet it.
   */
  @Property(tries = TRIES, seed = "20261213", shrinking = ShrinkingMode.OFF)
  void wellFormedButWrongValues(@ForAll Target target, @ForAll @LongRange long seed,
      @ForAll @IntRange(min = 1, max = 3) int count) {
    byte[] data = VALID.get(target);
    java.util.Random kinds = new java.util.Random(seed);
    JsonMutator.Kind[] semantic = {JsonMutator.Kind.SWAP_VALUE, JsonMutator.Kind.HUGE_NUMBER,
        JsonMutator.Kind.DEEP_NESTING, JsonMutator.Kind.DUPLICATE_LINE};
    for (int i = 0; i < count; i++) {
      data = JsonMutator.once(data, semantic[kinds.nextInt(semantic.length)], kinds.nextLong());
    }
    checkOutcome(target, place(target, data), target + " seed " + seed + " count " + count + " (well-formed)");
  }

  @Example
  void undamagedFilesRead() {
    for (Target t : Target.values()) {
      Path file = place(t, VALID.get(t));
      assertTrue(outcome(t, file) == null, t + " failed on the writer's own file");
    }
  }

  /** Reads {@code target}'s file damaged by (seed, count) and checks the outcome. */
  static void check(Target target, long seed, int count) {
    JsonMutator.Mutated m = JsonMutator.apply(VALID.get(target), seed, count);
    checkOutcome(target, place(target, m.data()), target + " seed " + seed + " count " + count + " " + m.kinds());
  }

  /** Success, or a FactRlException naming {@code file}. */
  private static void checkOutcome(Target target, Path file, String what) {
    Throwable t = outcome(target, file);
    if (t == null || (t instanceof FactRlException && t.getMessage() != null && t.getMessage().contains(file.toString()))) {
      return;
    }
    throw new AssertionError(what + ": expected success or a FactRlException naming " + file + ", got " + t, t);
  }

  /** Writes {@code bytes} as the target's file, in a folder of its own. */
  private static Path place(Target target, byte[] bytes) {
    try {
      Path dir = Files.createDirectories(work.resolve("case-" + target.name().toLowerCase()));
      return Files.write(dir.resolve(target.fileName), bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
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

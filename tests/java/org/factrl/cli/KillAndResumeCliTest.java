package org.factrl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.common.hash.Hashing;
import com.google.common.io.MoreFiles;
import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongFunction;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;
import java.util.stream.Stream;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.Device;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.model.Projector;
import org.factrl.model.io.IfExists;
import org.factrl.train.CheckpointStore;
import org.factrl.train.MetricsLog;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12: a training stage killed with SIGKILL ({@link Process#destroyForcibly}) at some moment
 * after its first checkpoint, and resumed the way a user would ({@code bin/factrl STAGE --resume} in
 * a new JVM), takes bit for bit the steps of an uninterrupted run: the same metrics.jsonl (timings
 * aside) and the same final weights. The uninterrupted reference runs in this JVM ({@link Main#run});
 * the killed and the resumed runs each in a child JVM on the test class path. The kill moment is
 * chosen by what the run folder shows, never by a clock: mid checkpoint write (a partial folder is
 * there), or mid step (metrics logged past the last checkpoint), or just after a checkpoint landed.
 */
class KillAndResumeCliTest {
  /** An upper bound for anything a child does; only a hung child reaches it. */
  private static final long LIMIT_SECONDS = 300;
  /** Wall-clock fields: the only ones that may differ between two runs. */
  private static final Set<String> TIMINGS = Set.of("seconds", "tokens_per_s");

  @TempDir static Path dir;
  private static Path data;
  private static Path base;
  private static Path sftCheckpoint;
  private static Path rmCheckpoint;

  @BeforeAll
  static void fixtures() throws IOException {
    // the micro fixtures of SftCommandTest / RmCommandTest
    data = dir.resolve("ds");
    ShapesDataSetWriter.builder().scenes(10).imageSize(16).seed(4).build().write(data);
    int vocab; // the data set's: a larger model vocabulary would let PPO sample ids the tokenizer cannot decode
    try (Tokenizer t = Tokenizer.load(DataSetFiles.in(data).tokenizer())) {
      vocab = t.vocabSize();
    }
    base = dir.resolve("base");
    ModelConfig c = ModelConfig.builder()
        .imageSize(16).imageChannels(3).patchSize(8)
        .visionHidden(16).visionLayers(1).visionHeads(2).visionIntermediate(32).visionFeatureLayer(-1)
        .projector(Projector.LINEAR)
        .vocabSize(vocab).hidden(32).layers(1).heads(2).intermediate(64).maxPositions(512)
        .imageTokenId(4)
        .build();
    try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, c)) {
      m.initWeights(1, 0.05f);
      m.saveBase(base, IfExists.FAIL);
    }
    Path sftRun = dir.resolve("sft-lora");
    mainHere("sft", "--data", data.toString(), "--out", sftRun.toString(), "--base", base.toString(), "--config",
        config("sft-lora.json", "{\"finetune\": \"lora\", \"lora_rank\": 4, \"steps\": 1, \"batch_size\": 2,"
            + " \"warmup_steps\": 0, \"trainable_groups\": []}").toString());
    sftCheckpoint = new CheckpointStore(sftRun.resolve("checkpoints")).latest().orElseThrow();
    Path rmRun = dir.resolve("rm-facts");
    mainHere("rm", "--data", data.toString(), "--sft", sftCheckpoint.toString(), "--out", rmRun.toString(), "--config",
        config("rm-small.json", "{\"steps\": 1, \"pairs_per_step\": 2, \"held_out_pairs\": 3, \"warmup_steps\": 0,"
            + " \"lora_rank\": 4}").toString());
    rmCheckpoint = new CheckpointStore(rmRun.resolve("checkpoints")).latest().orElseThrow();
  }

  @Test
  void sftKilledMidCheckpointWrite() throws Exception {
    Path cfg = config("sft.json", "{\"steps\": 6, \"batch_size\": 2, \"warmup_steps\": 1, \"checkpoint_every\": 1,"
        + " \"log_every\": 1}");
    Case c = new Case("sft", 6, run -> List.of("sft", "--data", data.toString(), "--out", run.toString(),
        "--config", cfg.toString(), "--base", base.toString()),
        run -> List.of("sft", "--data", data.toString(), "--out", run.toString(), "--resume"),
        KillAndResumeCliTest::flatResumePoint, run -> run.resolve("checkpoints").resolve(CheckpointStore.folderName(6)),
        k -> "sft: resuming after step " + k);
    // a partial checkpoint folder holding written bytes, after the first complete checkpoint: the
    // kill lands inside a write (its marker's fsync or later; or just after it, if the write
    // finishes first; either way a moment a user could pick)
    c.check(run -> flatResumePoint(run) >= 1 && partialWithBytes(run.resolve("checkpoints")));
  }

  @Test
  void rmKilledMidStep() throws Exception {
    Path cfg = config("rm.json", "{\"steps\": 6, \"pairs_per_step\": 2, \"held_out_pairs\": 3, \"warmup_steps\": 1,"
        + " \"lora_rank\": 4, \"checkpoint_every\": 2, \"eval_every\": 3}");
    Case c = new Case("rm", 6, run -> List.of("rm", "--data", data.toString(), "--sft", sftCheckpoint.toString(),
        "--out", run.toString(), "--config", cfg.toString()),
        run -> List.of("rm", "--data", data.toString(), "--out", run.toString(), "--resume"),
        KillAndResumeCliTest::flatResumePoint, run -> run.resolve("checkpoints").resolve(CheckpointStore.folderName(6)),
        k -> "rm: resuming after step " + k);
    // a step logged after the latest checkpoint: the resume drops it from metrics.jsonl and takes it again
    c.check(run -> {
      long k = flatResumePoint(run);
      return k >= 2 && loggedSteps(run) > k;
    });
  }

  @Test
  void ppoKilledAfterACheckpoint() throws Exception {
    Path cfg = config("ppo.json", "{\"steps\": 4, \"warmup_steps\": 0, \"checkpoint_every\": 1,"
        + " \"rollouts_per_step\": 2, \"minibatch\": 2, \"epochs\": 1, \"max_response_tokens\": 3, \"lora_rank\": 2,"
        + " \"lora_alpha\": 4, \"max_prompt_tokens\": 256}");
    // ppo prints no resume line; a resume that started over would fail on the existing step-1
    // checkpoint (CheckpointStore never replaces one), so a clean exit shows it continued
    Case c = new Case("ppo", 4, run -> List.of("ppo", "--data", data.toString(), "--sft", sftCheckpoint.toString(),
        "--rm", rmCheckpoint.toString(), "--out", run.toString(), "--config", cfg.toString()),
        run -> List.of("ppo", "--data", data.toString(), "--out", run.toString(), "--resume"),
        KillAndResumeCliTest::flatResumePoint, run -> run.resolve("checkpoints").resolve(CheckpointStore.folderName(4)),
        null);
    c.check(run -> flatResumePoint(run) >= 1);
  }

  /** Killed in its second phase (align): the resume continues that phase, not the text phase. */
  @Test
  void pretrainKilledInTheAlignPhase() throws Exception {
    // the CLI pretrains the config's preset (tiny, 64×64 images): its own data set at that size
    Path data64 = dir.resolve("ds64");
    if (!Files.exists(data64)) {
      ShapesDataSetWriter.builder().scenes(6).seed(4).build().write(data64);
    }
    long text = 3;
    long align = 4;
    Path cfg = config("pretrain.json", "{\"vision_steps\": 0, \"text_steps\": " + text + ", \"text_batch_size\": 2,"
        + " \"align_steps\": " + align + ", \"align_batch_size\": 2, \"warmup_steps\": 1, \"checkpoint_every\": 1,"
        + " \"eval_examples\": 2, \"bf16\": false}");
    ToLongFunction<Path> resumePoint = run -> {
      long a = latestStep(run.resolve("checkpoints/align"));
      return a > 0 ? text + a : latestStep(run.resolve("checkpoints/text"));
    };
    Case c = new Case("pretrain", text + align, run -> List.of("pretrain", "--data", data64.toString(), "--out",
        run.toString(), "--config", cfg.toString(), "--seed", "7"),
        run -> List.of("pretrain", "--data", data64.toString(), "--out", run.toString(), "--resume"),
        resumePoint, run -> run.resolve("model"),
        k -> "pretrain.align: resuming after step " + (k - text));
    c.check(run -> latestStep(run.resolve("checkpoints/align")) >= 1);
  }

  // ---- the procedure -------------------------------------------------------------------------

  /**
   * One stage's scenario.
   *
   * @param fresh the command line of a fresh run into a run folder
   * @param resume the command line that resumes it
   * @param resumePoint the global step of a run folder's latest complete checkpoint (0: none)
   * @param finalWeights the folder whose .safetensors files are the run's final weights
   * @param resumeLine what the resumed run prints when it resumes after global step k, or null
   */
  private record Case(String name, long total, Function<Path, List<String>> fresh,
      Function<Path, List<String>> resume, ToLongFunction<Path> resumePoint,
      Function<Path, Path> finalWeights, LongFunction<String> resumeLine) {

    void check(Predicate<Path> killNow) throws Exception {
      Path reference = dir.resolve(name + "-whole");
      mainHere(fresh.apply(reference).toArray(String[]::new));
      assertEquals(total, MetricsLog.read(reference.resolve("metrics.jsonl")).size(), "the uninterrupted run's steps");

      Path killed = dir.resolve(name + "-killed");
      Path log1 = dir.resolve(name + "-killed.log");
      Process p = child(log1, fresh.apply(killed));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LIMIT_SECONDS);
      try {
        while (!killNow.test(killed)) {
          if (!p.isAlive()) {
            fail(name + ": the child ended (exit " + p.exitValue() + ") before the moment to kill it; give the run"
                + " more steps. Its output:\n" + Files.readString(log1));
          }
          if (System.nanoTime() > deadline) {
            fail(name + ": no kill moment within " + LIMIT_SECONDS + " s. The child's output:\n" + read(log1));
          }
          Thread.sleep(2);
        }
      } finally {
        p.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no finally block runs in the child
      }
      assertTrue(p.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS), name + ": the killed child did not go");
      assertEquals(128 + 9, p.exitValue(), () -> name + ": the child was not killed by SIGKILL (it ended by itself?):\n"
          + read(log1));
      long k = resumePoint.applyAsLong(killed);
      int logged = MetricsLog.read(killed.resolve("metrics.jsonl")).size();
      boolean partial = hasPartial(killed.resolve("checkpoints"));
      assertTrue(k >= 1 && k < total, name + ": killed with checkpoint " + k + " of " + total);
      assertTrue(logged < total, name + ": killed after logging " + logged + " of " + total + " steps");

      Path log2 = dir.resolve(name + "-resumed.log");
      Process r = child(log2, resume.apply(killed));
      assertTrue(r.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS), () -> {
        r.destroyForcibly();
        return name + ": the resumed child did not finish in " + LIMIT_SECONDS + " s:\n" + read(log2);
      });
      String resumedOutput = Files.readString(log2);
      assertEquals(0, r.exitValue(), name + ": the resume failed:\n" + resumedOutput);
      if (resumeLine != null) {
        assertTrue(resumedOutput.contains(resumeLine.apply(k)), name + ": resumed after step " + k + "? " + resumedOutput);
      }
      assertFalse(hasPartial(killed.resolve("checkpoints")), name + ": a partial checkpoint left by the kill remains");

      assertSameSteps(reference, killed, total, name + " killed at checkpoint " + k + " (" + logged + " steps logged"
          + (partial ? ", a partial checkpoint left" : "") + ")");
      TreeMap<String, String> want = safetensorsSha256(finalWeights.apply(reference));
      assertFalse(want.isEmpty(), finalWeights.apply(reference) + " holds no .safetensors");
      assertEquals(want, safetensorsSha256(finalWeights.apply(killed)), name + ": the final weights differ");
    }
  }

  /** Every step's record equal, field by field as JSON text (bit for bit), timings aside. */
  private static void assertSameSteps(Path want, Path got, long total, String what) {
    List<JsonObject> a = MetricsLog.read(want.resolve("metrics.jsonl"));
    List<JsonObject> b = MetricsLog.read(got.resolve("metrics.jsonl"));
    assertEquals(total, b.size(), what + ": steps in the resumed run's metrics.jsonl");
    for (int i = 0; i < total; i++) {
      assertEquals(a.get(i).keySet(), b.get(i).keySet(), what + ": fields of record " + (i + 1));
      assertTrue(a.get(i).keySet().stream().anyMatch(k -> k.endsWith("loss")), what + ": record " + (i + 1)
          + " has no loss");
      for (String key : a.get(i).keySet()) {
        if (!TIMINGS.contains(key)) {
          assertEquals(a.get(i).get(key).toString(), b.get(i).get(key).toString(), what + ": step " + (i + 1) + " " + key);
        }
      }
    }
  }

  /** The step of the latest complete checkpoint in {@code run/checkpoints} (0: none yet). */
  private static long flatResumePoint(Path run) {
    return latestStep(run.resolve("checkpoints"));
  }

  /** The step of the latest complete checkpoint in a checkpoint store's folder (0: none yet). */
  private static long latestStep(Path store) {
    return new CheckpointStore(store).latest().map(CheckpointStore::stepOf).orElse(0L);
  }

  /** Steps in a run's metrics log so far (a torn last line is not counted). */
  private static long loggedSteps(Path run) {
    Path f = run.resolve("metrics.jsonl");
    return Files.exists(f) ? MetricsLog.read(f).size() : 0;
  }

  /** Whether a partial checkpoint folder ({@code .step-N.X.partial}) lies anywhere under {@code root}. */
  private static boolean hasPartial(Path root) {
    if (!Files.isDirectory(root)) {
      return false;
    }
    try (Stream<Path> s = Files.walk(root, 2)) {
      return s.anyMatch(p -> p.getFileName().toString().endsWith(".partial"));
    } catch (IOException | UncheckedIOException e) {
      return false; // a folder renamed while we walked: look again at the next poll
    }
  }

  /** Whether a partial checkpoint folder under {@code store} holds a file with bytes in it. */
  private static boolean partialWithBytes(Path store) {
    if (!Files.isDirectory(store)) {
      return false;
    }
    try (Stream<Path> s = Files.walk(store, 3)) {
      return s.anyMatch(p -> p.getParent().getFileName().toString().endsWith(".partial") && Files.isRegularFile(p)
          && sizeOf(p) > 0);
    } catch (IOException | UncheckedIOException e) {
      return false; // a folder renamed while we walked: look again at the next poll
    }
  }

  private static long sizeOf(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return 0;
    }
  }

  /** Relative path → SHA-256 of every .safetensors file under {@code folder}. */
  private static TreeMap<String, String> safetensorsSha256(Path folder) throws IOException {
    TreeMap<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(folder)) {
      for (Path p : s.filter(f -> f.toString().endsWith(".safetensors")).toList()) {
        out.put(folder.relativize(p).toString(), MoreFiles.asByteSource(p).hash(Hashing.sha256()).toString());
      }
    }
    return out;
  }

  /** Starts {@code bin/factrl ARGS} in a child JVM (this JVM's java and class path), output to {@code log}. */
  private static Process child(Path log, List<String> args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "-Xmx1g", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Djava.awt.headless=true", "-Dai.djl.offline=true"));
    String cache = System.getProperty("org.bytedeco.javacpp.cachedir");
    if (cache != null) {
      command.add("-Dorg.bytedeco.javacpp.cachedir=" + cache);
    }
    command.add(Main.class.getName());
    command.addAll(args);
    ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    b.environment().put("DJL_OFFLINE", "true");
    return b.start();
  }

  /** Runs a command line in this JVM; it must succeed. */
  private static void mainHere(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
    assertEquals(0, Main.run(ps, ps, args), () -> Arrays.toString(args) + ":\n" + out.toString(StandardCharsets.UTF_8));
  }

  private static Path config(String name, String json) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, json);
    return p;
  }

  private static String read(Path log) {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }
}

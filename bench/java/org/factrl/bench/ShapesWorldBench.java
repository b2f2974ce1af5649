package org.factrl.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.factrl.data.dataset.DataSetSummary;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.shapes.PngWriter;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneGenerator;
import org.factrl.data.shapes.SceneRenderer;
import org.factrl.data.shapes.tasks.ObjectStatistics;
import org.factrl.data.shapes.tasks.SceneTasks;
import org.factrl.data.shapes.tasks.TaskGenerator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The shapes world's data budget (issue 3): generating 10,000 scenes with every task, rendering each
 * image and encoding it as PNG in memory must take under a minute on 2 cores. One operation is the
 * whole data set: scenes, object statistics, tasks, pixels and PNG bytes. {@code factrlShapes10k}
 * runs on one thread; {@code factrlShapes10kTwoCores} on a two-thread pool (scenes are independent,
 * so the output is the same). {@code factrlDataSetFiles10k} is what {@code bin/factrl data} does: the
 * same plus the judged preference pairs, every record file, the tokenizer and the manifest, written
 * to disk (common pool, all cores). No libtorch counterpart: there is no ratio to print.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 2, time = 10)
@Fork(1)
public class ShapesWorldBench {
  @Param("10000")
  public int scenes;

  private Path out;

  @Setup
  public void makeFolder() throws IOException {
    out = Files.createTempDirectory("factrl-bench-data");
  }

  @TearDown
  public void removeFolder() throws IOException {
    try (Stream<Path> walk = Files.walk(out)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Benchmark
  public int factrlDataSetFiles10k() {
    DataSetSummary s = ShapesDataSetWriter.builder().scenes(scenes).seed(1).overwrite(true).build()
        .write(out.resolve("ds"));
    return s.records().size();
  }

  @Benchmark
  public long factrlShapes10k() {
    return generate(false);
  }

  @Benchmark
  public long factrlShapes10kTwoCores() throws Exception {
    ForkJoinPool pool = new ForkJoinPool(2);
    try {
      return pool.submit(() -> generate(true)).get();
    } finally {
      pool.shutdown();
    }
  }

  /** Generates the data set; returns the PNG bytes made (so nothing is optimised away). */
  long generate(boolean parallel) {
    SceneGenerator sceneGenerator = SceneGenerator.withSeed(1);
    TaskGenerator taskGenerator = TaskGenerator.withSeed(1);
    int size = sceneGenerator.imageSize();
    IntStream indices = IntStream.range(0, scenes);
    Scene[] all = (parallel ? indices.parallel() : indices).mapToObj(sceneGenerator::scene).toArray(Scene[]::new);
    ObjectStatistics statistics = ObjectStatistics.of(java.util.Arrays.asList(all));
    IntStream work = IntStream.range(0, scenes);
    return (parallel ? work.parallel() : work).mapToLong(i -> {
      SceneTasks tasks = taskGenerator.generate(all[i], statistics);
      byte[] png = PngWriter.encode(SceneRenderer.render(all[i], size), size, size);
      return png.length + tasks.captions().size();
    }).sum();
  }

  /** A one-off timing without JMH: {@code java ... ShapesWorldBench [scenes]}. */
  public static void main(String[] args) throws Exception {
    ShapesWorldBench b = new ShapesWorldBench();
    b.scenes = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    for (int rep = 0; rep < 3; rep++) {
      long t0 = System.nanoTime();
      long one = b.factrlShapes10k();
      long t1 = System.nanoTime();
      long two = b.factrlShapes10kTwoCores();
      long t2 = System.nanoTime();
      System.out.printf("%d scenes: one thread %.2f s, two threads %.2f s (checksums %d, %d)%n",
          b.scenes, (t1 - t0) / 1e9, (t2 - t1) / 1e9, one, two);
    }
  }
}

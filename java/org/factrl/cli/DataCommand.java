package org.factrl.cli;

import com.google.common.collect.ImmutableSet;
import java.io.PrintStream;
import java.nio.file.Path;
import org.factrl.data.dataset.DataSetSummary;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.shapes.SceneGenerator;

/** {@code bin/factrl data}: writes a complete shapes-world data set and prints a summary. */
final class DataCommand implements Command {
  static final String USAGE = """
      usage: bin/factrl data --out DIR [--scenes N] [--seed S] [--image-size PX] [--no-curriculum] [--overwrite]
        --out DIR         folder to create (must not exist or be empty; with --overwrite it may also be a
                          data set written here before, holding nothing but its own files)
        --scenes N        number of scenes (at most %d), split 50/20/20/10 into SFT / reward model / RL / eval
                          (default 1000)
        --seed S          generator seed; the same seed writes byte-identical files (default 0)
        --image-size PX   image side in pixels, 16..1024 (default %d)
        --no-curriculum   list pretrain.json's captions in scene order (default: one-object scenes first)
        --overwrite       replace the data set at DIR (refused if DIR holds any file that is not the data
                          set's own, as its manifest and SHA256SUMS list them)""".formatted(ShapesDataSetWriter.MAX_SCENES,
          SceneGenerator.DEFAULT_IMAGE_SIZE);

  @Override
  public String name() {
    return "data";
  }

  @Override
  public String summary() {
    return "write a shapes-world data set (images, annotations, SFT/RM/RL/eval files, tokenizer)";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public ImmutableSet<String> valuedOptions() {
    return ImmutableSet.of("out", "scenes", "seed", "image-size");
  }

  @Override
  public ImmutableSet<String> flags() {
    return ImmutableSet.of("overwrite", "no-curriculum");
  }

  @Override
  public int run(Options o, PrintStream stdout, PrintStream stderr) {
    Path out = Path.of(o.required("out"));
    ShapesDataSetWriter writer;
    try {
      writer = ShapesDataSetWriter.builder()
          .scenes((int) o.integer("scenes", 1000, 1, ShapesDataSetWriter.MAX_SCENES))
          .seed(o.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE))
          .imageSize((int) o.integer("image-size", SceneGenerator.DEFAULT_IMAGE_SIZE, 16, 1024))
          .curriculum(!o.flag("no-curriculum"))
          .overwrite(o.flag("overwrite"))
          .notices(line -> stderr.println("factrl data: " + line))
          .build();
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    DataSetSummary summary = writer.write(out);
    stdout.println(summary.describe());
    return 0;
  }
}

package org.factrl.cli;

import com.google.common.collect.ImmutableSet;
import java.nio.file.Path;
import java.util.List;
import org.factrl.data.dataset.DataSetSummary;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.shapes.SceneGenerator;

/** {@code bin/factrl data}: writes a complete shapes-world data set and prints a summary. */
final class DataCommand implements Command {
  static final String USAGE = """
      usage: bin/factrl data --out DIR [--scenes N] [--seed S] [--image-size PX] [--overwrite]
        --out DIR         folder to create (must not exist, be empty, or be a data set with --overwrite)
        --scenes N        number of scenes (at most %d), split 50/20/20/10 into SFT / reward model / RL / eval
                          (default 1000)
        --seed S          generator seed; the same seed writes byte-identical files (default 0)
        --image-size PX   image side in pixels, 16..1024 (default %d)
        --overwrite       replace an existing data set at DIR""".formatted(ShapesDataSetWriter.MAX_SCENES,
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
  public int run(List<String> args) {
    Options o = Options.parse(args, ImmutableSet.of("out", "scenes", "seed", "image-size"),
        ImmutableSet.of("overwrite"));
    Path out = Path.of(o.required("out"));
    ShapesDataSetWriter writer;
    try {
      writer = ShapesDataSetWriter.builder()
          .scenes((int) o.integer("scenes", 1000, 1, ShapesDataSetWriter.MAX_SCENES))
          .seed(o.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE))
          .imageSize((int) o.integer("image-size", SceneGenerator.DEFAULT_IMAGE_SIZE, 16, 1024))
          .overwrite(o.flag("overwrite"))
          .build();
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    DataSetSummary summary = writer.write(out);
    System.out.println(summary.describe());
    return 0;
  }
}

package org.factrl.cli;

import java.nio.file.Path;
import org.factrl.data.dataset.DataSetSummary;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.shapes.SceneGenerator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bin/factrl data}: writes a complete shapes-world data set and prints a summary. */
@Command(name = "data", description = "write a shapes-world data set (images, annotations, SFT/RM/RL/eval files, "
      + "tokenizer)")
final class DataCommand extends FactrlCommand {
  @Option(names = "--out", paramLabel = "DIR", required = true, description = "folder to create (must not exist "
      + "or be empty; with --overwrite it may also be a data set written here before, holding nothing but its own files)")
  Path outDir;

  @Option(names = "--scenes", paramLabel = "N", description = "number of scenes (at most "
      + ShapesDataSetWriter.MAX_SCENES + "), split 50/20/20/10 into SFT / reward model / RL / eval "
      + "(default ${DEFAULT-VALUE})")
  int scenes = 1000;

  @Option(names = "--seed", paramLabel = "S",
      description = "generator seed; the same seed writes byte-identical files (default ${DEFAULT-VALUE})")
  long seed = 0;

  @Option(names = "--image-size", paramLabel = "PX", description = "image side in pixels, 16..1024 (default "
      + "${DEFAULT-VALUE})")
  int imageSize = SceneGenerator.DEFAULT_IMAGE_SIZE;

  @Option(names = "--no-curriculum",
      description = "list pretrain.json's captions in scene order (default: one-object scenes first)")
  boolean noCurriculum;

  @Option(names = "--tokenizer", paramLabel = "FILE", description = "copy FILE as tokenizer.json instead of learning "
      + "one from the corpus (learnt ids differ between seeds and sizes): give the tokenizer.json of the model the data "
      + "set is for, e.g. models/base-tiny/tokenizer.json")
  Path tokenizer;

  @Option(names = "--overwrite", description = "replace the data set at DIR (refused if DIR holds any file that is "
      + "not the data set's own, as its manifest and SHA256SUMS list them)")
  boolean overwrite;

  @Override
  int run() {
    ShapesDataSetWriter writer;
    try {
      writer = ShapesDataSetWriter.builder()
          .scenes((int) range("--scenes", scenes, 1, ShapesDataSetWriter.MAX_SCENES))
          .seed(seed)
          .imageSize((int) range("--image-size", imageSize, 16, 1024))
          .curriculum(!noCurriculum)
          .overwrite(overwrite)
          .tokenizer(tokenizer)
          .notices(line -> err.println("factrl data: " + line))
          .build();
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    DataSetSummary summary = writer.write(outDir);
    out.println(summary.describe());
    return 0;
  }
}

package org.factrl.pipeline;

import com.google.common.base.Preconditions;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.stages.BaseModel;
import org.factrl.train.ModelTokenizer;

/**
 * Where the pipeline's base model comes from: the step between the data and SFT.
 *
 * <p><b>The seam for pretraining.</b> {@link Pipeline} asks its source for a {@link BaseModel}
 * once, after the data set is written, giving it the data set and a folder of its own
 * ({@link Context#stageDir()}, {@code OUT/base}) that nothing else writes. A {@code pretrain}
 * stage (issue 12: vision encoder, decoder, projector alignment) is one more implementation: it
 * trains into that folder — resumable like the other stages, reused when finished — and returns
 * {@link BaseModel#fromDir} of its output. No other part of the pipeline changes.
 *
 * <p>Today's sources: a saved base folder ({@link #dir}), a random initialisation ({@link #random};
 * a machinery check only: a random base cannot see, so its SFT / RLHF numbers say nothing about
 * Fact-RLHF), and {@link #dirOrRandom}: the folder when it holds a base, else random with a loud
 * warning ({@link #standard()} looks for the repository's committed base).
 *
 * <p><b>The tokenizer.</b> A saved base carries the tokenizer it was trained with
 * ({@code tokenizer.json}, {@link ModelTokenizer}); the data set must then hold the same file, or the
 * model would read other ids. {@link #tokenizer()} is asked before the data step, so the pipeline
 * writes the data set with it instead of learning one.
 */
public interface BaseModelSource {
  /** Where {@link #standard()} looks for the committed pretrained tiny base, relative to the FactRL home. */
  String DEFAULT_BASE_DIR = "models/base-tiny";
  /** The system property the launcher sets to the repository root ({@code bin/factrl}). */
  String HOME_PROPERTY = "factrl.home";
  float DEFAULT_INIT_STD = 0.02f;

  /**
   * What a source gets to work with.
   *
   * @param dataDir the pipeline's data set (tokenizer.json, pretrain.json, images/)
   * @param stageDir a folder only this source may write ({@code OUT/base}); it may not exist yet
   * @param seed the pipeline's seed
   * @param log where to say what it does (stdout of the command)
   */
  record Context(Path dataDir, Path stageDir, long seed, PrintStream log) {
    public Context {
      Preconditions.checkNotNull(dataDir, "dataDir");
      Preconditions.checkNotNull(stageDir, "stageDir");
      Preconditions.checkNotNull(log, "log");
    }
  }

  /** The base for this run (may train or load; say what it did on {@code context.log()}). */
  BaseModel resolve(Context context);

  /** One line for logs and summary.json: what this source is. */
  String describe();

  /**
   * The tokenizer.json the data set must be written with (asked before the data step, with no data
   * yet): a saved base's own. Empty (the default) lets the data writer learn one, as for a random
   * base sized to it afterwards, or a pretraining source that trains on the data set's.
   */
  default Optional<Path> tokenizer() {
    return Optional.empty();
  }

  /** A saved base folder ({@code model.safetensors} + {@code config.json}); checked when resolved. */
  static BaseModelSource dir(Path dir) {
    Preconditions.checkNotNull(dir, "dir");
    Path abs = dir.toAbsolutePath().normalize();
    return new BaseModelSource() {
      @Override
      public BaseModel resolve(Context context) {
        BaseModel b = BaseModel.fromDir(abs);
        context.log().println("[pipeline] base: " + abs);
        return b;
      }

      @Override
      public String describe() {
        return "base folder " + abs;
      }

      @Override
      public Optional<Path> tokenizer() {
        return ModelTokenizer.in(abs);
      }
    };
  }

  /**
   * A random initialisation of {@code config} (N(0, 0.02²), seeded by the pipeline's seed) with its
   * vocabulary set to the data set's tokenizer. It checks the machinery; it cannot see.
   */
  static BaseModelSource random(ModelConfig config) {
    Preconditions.checkNotNull(config, "config");
    return new BaseModelSource() {
      @Override
      public BaseModel resolve(Context context) {
        warnRandom(context.log(), null);
        return randomBase(config, context);
      }

      @Override
      public String describe() {
        return "random init of " + config.parameterCount() + "-parameter config (cannot see)";
      }
    };
  }

  /** A random initialisation of a named preset ({@code tiny}, {@code small}, {@code llava-7b}). */
  static BaseModelSource random(String preset) {
    return random(ModelConfig.preset(preset));
  }

  /**
   * {@code dir} when it holds a base, else a random initialisation of {@code fallback} with a loud
   * warning naming the folder that was looked for.
   */
  static BaseModelSource dirOrRandom(Path dir, ModelConfig fallback) {
    Preconditions.checkNotNull(dir, "dir");
    Preconditions.checkNotNull(fallback, "fallback");
    Path abs = dir.toAbsolutePath().normalize();
    return new BaseModelSource() {
      @Override
      public BaseModel resolve(Context context) {
        if (holdsBase(abs)) {
          return dir(abs).resolve(context);
        }
        warnRandom(context.log(), abs);
        return randomBase(fallback, context);
      }

      @Override
      public String describe() {
        return holdsBase(abs) ? "base folder " + abs : "random init (no base at " + abs + "; cannot see)";
      }

      @Override
      public Optional<Path> tokenizer() {
        return holdsBase(abs) ? ModelTokenizer.in(abs) : Optional.empty();
      }
    };
  }

  /** The committed pretrained base ({@value #DEFAULT_BASE_DIR} under the FactRL home) if present, else random tiny. */
  static BaseModelSource standard() {
    return dirOrRandom(defaultBaseDir(), ModelConfig.tiny());
  }

  /** {@value #DEFAULT_BASE_DIR} under {@code -Dfactrl.home} (set by bin/factrl), else under the working folder. */
  static Path defaultBaseDir() {
    String home = System.getProperty(HOME_PROPERTY);
    return (home == null || home.isBlank() ? Path.of("") : Path.of(home)).resolve(DEFAULT_BASE_DIR)
        .toAbsolutePath().normalize();
  }

  private static boolean holdsBase(Path dir) {
    return Files.isRegularFile(dir.resolve(LlavaModel.WEIGHTS_FILE))
        && Files.isRegularFile(dir.resolve(ModelConfig.FILE_NAME));
  }

  private static BaseModel randomBase(ModelConfig config, Context context) {
    int vocab;
    Path tokenizer = DataSetFiles.in(context.dataDir()).tokenizer();
    try (Tokenizer t = Tokenizer.load(tokenizer)) {
      vocab = t.vocabSize();
    }
    if (config.imageTokenId() >= vocab) {
      throw new FactRlException(tokenizer + ": " + vocab + " ids, but the model's image_token_id is "
          + config.imageTokenId());
    }
    ModelConfig sized = config.toBuilder().vocabSize(vocab).build();
    context.log().printf("[pipeline] base: random init, %,d parameters, seed %d%n", sized.parameterCount(),
        context.seed());
    return BaseModel.random(sized, context.seed(), DEFAULT_INIT_STD);
  }

  private static void warnRandom(PrintStream log, Path lookedFor) {
    String bar = "!".repeat(78);
    log.println(bar);
    log.println("!! WARNING: the base model is a RANDOM initialisation"
        + (lookedFor == null ? "" : " (no pretrained base at " + lookedFor + ")") + ".");
    log.println("!! A random base cannot see: SFT teaches it answer formats, not images, so every number below");
    log.println("!! checks the machinery only and says nothing about Fact-RLHF. Give a pretrained base (--base DIR).");
    log.println(bar);
  }
}

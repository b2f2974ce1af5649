package org.factrl.api;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.factrl.engine.FactRlException;
import org.factrl.stages.EvalStage;

/**
 * The entry point of the embedding API (see the package comment): loads models and reads metrics.
 *
 * <pre>{@code
 * try (Model m = FactRl.loadModel(Path.of("runs/sft"), Path.of("data/shapes/tokenizer.json"))) {
 *   Generation g = m.generate(Path.of("data/shapes/images/s00001.png"), "What colour is the circle?");
 *   System.out.println(g.text() + " " + g.logLikelihood());
 * }
 * }</pre>
 */
public final class FactRl {
  private FactRl() {}

  /**
   * A model from a base folder, a checkpoint (SFT, RM or PPO) or a run folder (its last complete
   * checkpoint), answering under its only adapter set (or the base when it has none), tokenised by
   * the {@code tokenizer.json} found in the model folder or in its run folder (an RM run keeps a copy).
   * Any other layout: give the tokenizer ({@link #loadModel(Path, Path)}).
   */
  public static Model loadModel(Path model) {
    Path folder = EvalStage.modelFolder(model);
    List<Path> tried = new ArrayList<>();
    for (Path p = folder; p != null && tried.size() < 3; p = p.getParent()) {
      Path t = p.resolve("tokenizer.json");
      if (Files.isRegularFile(t)) {
        return loadModel(model, t);
      }
      tried.add(t);
    }
    throw new FactRlException(model + ": no tokenizer.json beside the model (looked at " + tried
        + "); give one: FactRl.loadModel(model, tokenizer)");
  }

  /** {@link #loadModel(Path)} with the tokenizer given (a data set's {@code tokenizer.json}). */
  public static Model loadModel(Path model, Path tokenizer) {
    return Model.open(model, tokenizer, Optional.empty());
  }

  /**
   * {@link #loadModel(Path, Path)} answering under adapter set {@code adapter} ({@code "none"}: the
   * base alone), for a checkpoint holding several.
   */
  public static Model loadModel(Path model, Path tokenizer, String adapter) {
    return Model.open(model, tokenizer, Optional.of(adapter));
  }

  /** {@link RewardModel#load}. */
  public static RewardModel loadRewardModel(Path checkpointOrRun) {
    return RewardModel.load(checkpointOrRun);
  }

  /** {@link Metrics#read}. */
  public static Metrics readMetrics(Path metricsJsonl) {
    return Metrics.read(metricsJsonl);
  }
}

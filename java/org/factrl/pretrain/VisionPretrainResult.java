package org.factrl.pretrain;

import com.google.common.collect.ImmutableList;

/**
 * What {@link VisionPretrainer#train} did.
 *
 * @param steps optimizer steps taken
 * @param firstLoss the first step's loss (sum of the four heads' mean cross-entropies)
 * @param finalLoss the mean loss of the last min(10, steps) steps
 * @param secondsPerStep mean wall seconds of a training step (evaluation excluded)
 * @param evals every evaluation, in step order (the last one after the last step)
 */
public record VisionPretrainResult(int steps, double firstLoss, double finalLoss, double secondsPerStep,
    ImmutableList<VisionEval> evals) {
  /** The evaluation after the last step. */
  public VisionEval last() {
    return evals.get(evals.size() - 1);
  }
}

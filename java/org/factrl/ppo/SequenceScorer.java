package org.factrl.ppo;

import java.util.List;

/**
 * The reward model's role in PPO: one scalar per rollout (prompt + response). The RM-backed
 * implementation reads a frozen reward adapter + head on the shared base (with the prompt's facts
 * when the variant uses them); tests use stubs. Implementations must be deterministic.
 */
public interface SequenceScorer {
  /** Scores each rollout, in order. */
  double[] score(List<Rollout> rollouts);

  /** The longest input (tokens) a score pass runs over the shared model, 0 when it runs none: the model is planned for it. */
  default int maxLength() {
    return 0;
  }

  /** The adapter set the reward role names on the shared base (null: none; for the memory report). */
  default String rewardAdapter() {
    return null;
  }

  /** The head the reward role names (null: none). */
  default String rewardHead() {
    return null;
  }
}

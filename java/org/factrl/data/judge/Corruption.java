package org.factrl.data.judge;

/**
 * The kinds of {@link CorruptionBootstrap} pair: each but {@link #OMISSION} makes a correct
 * description wrong by one false claim.
 */
public enum Corruption {
  /** Adds a sentence about an object the scene lacks (an in-world kind, see {@link CorruptionBootstrap}). */
  INSERTED_OBJECT,
  /** Replaces the kind a count sentence names by one the scene lacks, keeping count and size. */
  SUBSTITUTED_OBJECT,
  /** Recolours a group of objects to a colour they do not have. */
  WRONG_COLOUR,
  /** Changes a count by one. */
  WRONG_COUNT,
  /** Replaces a relation that holds by its opposite. */
  WRONG_RELATION,
  /** Names another environment. */
  WRONG_ENVIRONMENT,
  /**
   * No false claim: a correct description against a shorter correct one that leaves true facts
   * out. The more informative (longer) one wins, as the paper's annotators preferred the more
   * helpful of two equally truthful answers.
   */
  OMISSION
}

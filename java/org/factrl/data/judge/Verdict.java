package org.factrl.data.judge;

/** The judge's decision on one claim. */
public enum Verdict {
  /** The scene supports the claim. */
  CORRECT,
  /** The scene contradicts the claim. */
  HALLUCINATED,
  /**
   * Neither: the objects are within {@link org.factrl.data.shapes.Relation#MARGIN} of each other,
   * or the claim refers to nothing it could be checked against (e.g. "the circle is left of the
   * circle" with one circle).
   */
  UNVERIFIABLE
}

package org.factrl.data.judge;

/**
 * How much an answer tells, measured by its correct claims (see {@link ExactJudge} for the exact
 * thresholds). Combined with whether anything was hallucinated it gives the 0–6 MMHal score.
 */
public enum Informativeness {
  NOT,
  SOMEWHAT,
  VERY,
  /** Very informative and the correct claims show analysis: several kinds of fact. */
  VERY_WITH_ANALYSIS
}

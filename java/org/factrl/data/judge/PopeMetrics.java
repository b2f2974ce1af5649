package org.factrl.data.judge;

import com.google.common.base.Preconditions;

/**
 * POPE metrics over a set of probes, "yes" being the positive class. tp: truth yes, answered yes;
 * fp: truth no, answered yes; tn: truth no, answered no; fn: truth yes, answered no (unparseable
 * answers count as "no" and are also counted in {@code unparseable}). Ratios whose denominator is 0
 * are 0.
 */
public record PopeMetrics(int tp, int fp, int tn, int fn, int unparseable) {
  public PopeMetrics {
    Preconditions.checkArgument(tp >= 0 && fp >= 0 && tn >= 0 && fn >= 0 && unparseable >= 0,
        "negative count");
    Preconditions.checkArgument(unparseable <= tn + fn, "unparseable answers count as no");
  }

  public int total() {
    return tp + fp + tn + fn;
  }

  public double accuracy() {
    return ratio(tp + tn, total());
  }

  public double precision() {
    return ratio(tp, tp + fp);
  }

  public double recall() {
    return ratio(tp, tp + fn);
  }

  public double f1() {
    double p = precision();
    double r = recall();
    return p + r == 0 ? 0 : 2 * p * r / (p + r);
  }

  /** Share of answers read as "yes". */
  public double yesRatio() {
    return ratio(tp + fp, total());
  }

  private static double ratio(int a, int b) {
    return b == 0 ? 0 : (double) a / b;
  }

  @Override
  public String toString() {
    return String.format(java.util.Locale.ROOT,
        "n=%d acc=%.4f prec=%.4f rec=%.4f f1=%.4f yes=%.4f unparseable=%d", total(), accuracy(),
        precision(), recall(), f1(), yesRatio(), unparseable);
  }
}

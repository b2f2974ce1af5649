package org.factrl.data.judge;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import org.factrl.data.MmhalType;

/**
 * The judge's findings on one answer: every claim with its verdict, how informative the answer
 * is, the 0–6 MMHal-style score (rubric in {@link ExactJudge}), the question type it was
 * scored as ({@link MmhalType#OTHER} when no question was given) and how many correct claims
 * counted as informative (the rubric's C).
 */
public record Judgement(ImmutableList<ClaimVerdict> verdicts, Informativeness informativeness,
    int score, MmhalType type, int informativeCount) {
  public Judgement {
    Preconditions.checkNotNull(verdicts, "verdicts");
    Preconditions.checkNotNull(informativeness, "informativeness");
    Preconditions.checkNotNull(type, "type");
    Preconditions.checkArgument(score >= 0 && score <= 6, "score %s outside 0..6", score);
    Preconditions.checkArgument(informativeCount >= 0, "informativeCount %s < 0", informativeCount);
  }

  public ImmutableList<Claim> claims() {
    return verdicts.stream().map(ClaimVerdict::claim).collect(ImmutableList.toImmutableList());
  }

  public ImmutableList<ClaimVerdict> correct() {
    return with(Verdict.CORRECT);
  }

  /** The hallucinated claims, each with its reason. */
  public ImmutableList<ClaimVerdict> hallucinations() {
    return with(Verdict.HALLUCINATED);
  }

  public ImmutableList<ClaimVerdict> unverifiable() {
    return with(Verdict.UNVERIFIABLE);
  }

  /** True when at least one claim is hallucinated. */
  public boolean hallucinated() {
    return count(Verdict.HALLUCINATED) > 0;
  }

  public int correctCount() {
    return count(Verdict.CORRECT);
  }

  public int hallucinationCount() {
    return count(Verdict.HALLUCINATED);
  }

  private int count(Verdict v) {
    int n = 0;
    for (ClaimVerdict cv : verdicts) {
      if (cv.verdict() == v) {
        n++;
      }
    }
    return n;
  }

  private ImmutableList<ClaimVerdict> with(Verdict v) {
    return verdicts.stream().filter(cv -> cv.verdict() == v)
        .collect(ImmutableList.toImmutableList());
  }
}

package org.factrl.data.judge;

import com.google.common.base.Preconditions;

/** One claim with the judge's verdict and, unless correct, a human-readable reason. */
public record ClaimVerdict(Claim claim, Verdict verdict, String reason) {
  public ClaimVerdict {
    Preconditions.checkNotNull(claim, "claim");
    Preconditions.checkNotNull(verdict, "verdict");
    Preconditions.checkNotNull(reason, "reason");
  }
}

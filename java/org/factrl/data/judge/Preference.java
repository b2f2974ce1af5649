package org.factrl.data.judge;

import com.google.common.base.Preconditions;

/**
 * The judge's preference between two responses: {@code preferred} is 0 (A) or 1 (B), with the
 * rule that decided it and both judgements.
 */
public record Preference(int preferred, Rule rule, Judgement a, Judgement b) {
  /** Which comparison decided, in the order they are tried. */
  public enum Rule {
    /** Fewer hallucinated claims. */
    FEWER_HALLUCINATIONS,
    /** Same hallucinations; more informative correct claims (more helpful). */
    MORE_CORRECT,
    /** Same on both; the shorter response (by trimmed character count). */
    SHORTER,
    /** Complete tie: A. */
    TIE_FIRST
  }

  public Preference {
    Preconditions.checkArgument(preferred == 0 || preferred == 1, "preferred must be 0 or 1");
    Preconditions.checkNotNull(rule, "rule");
    Preconditions.checkNotNull(a, "a");
    Preconditions.checkNotNull(b, "b");
  }

  /** True unless the responses tied on hallucinations and correct claims. */
  public boolean decisive() {
    return rule == Rule.FEWER_HALLUCINATIONS || rule == Rule.MORE_CORRECT;
  }
}

package org.factrl.data.judge;

import com.google.common.base.Preconditions;
import org.factrl.data.shapes.Scene;

/**
 * Labels which of two responses to the same prompt is better, by the exact judge: the one with
 * fewer hallucinated claims; on a tie the one with more informative correct claims (more helpful;
 * {@link Judgement#informativeCount}, so "There is no dog." appended to an answer earns nothing); on a tie
 * the shorter one (trimmed characters: says the same with fewer words); on a full tie response A.
 * Deterministic.
 */
public final class PreferenceLabeler {
  private final ExactJudge judge;

  public PreferenceLabeler() {
    this(new ExactJudge());
  }

  public PreferenceLabeler(ExactJudge judge) {
    this.judge = Preconditions.checkNotNull(judge, "judge");
  }

  /** Compares two responses with no question. */
  public Preference compare(Scene scene, String responseA, String responseB) {
    return compare(scene, (QuestionContext) null, responseA, responseB);
  }

  /** Compares two answers to {@code question}. */
  public Preference compare(Scene scene, String question, String responseA, String responseB) {
    return compare(scene, QuestionContext.parse(judge.extractor(), question), responseA,
        responseB);
  }

  /** Compares two answers; {@code context} may be null. */
  public Preference compare(Scene scene, QuestionContext context, String responseA,
      String responseB) {
    Preconditions.checkNotNull(responseA, "responseA");
    Preconditions.checkNotNull(responseB, "responseB");
    Judgement a = judge.judge(scene, context, responseA);
    Judgement b = judge.judge(scene, context, responseB);
    int ha = a.hallucinationCount();
    int hb = b.hallucinationCount();
    if (ha != hb) {
      return new Preference(ha < hb ? 0 : 1, Preference.Rule.FEWER_HALLUCINATIONS, a, b);
    }
    int ca = a.informativeCount();
    int cb = b.informativeCount();
    if (ca != cb) {
      return new Preference(ca > cb ? 0 : 1, Preference.Rule.MORE_CORRECT, a, b);
    }
    int la = responseA.trim().length();
    int lb = responseB.trim().length();
    if (la != lb) {
      return new Preference(la < lb ? 0 : 1, Preference.Rule.SHORTER, a, b);
    }
    return new Preference(0, Preference.Rule.TIE_FIRST, a, b);
  }
}

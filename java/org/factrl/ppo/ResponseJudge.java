package org.factrl.ppo;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.factrl.engine.FactRlException;

/**
 * A monitor's verdict on one rollout's decoded response (issue 12 item 5: hallucination by PPO
 * step). The trainer only counts verdicts; what judges them (the shapes world's exact judge against
 * the image's annotation, built by {@link PpoStage}) stays outside it. Judging never feeds the
 * rewards.
 */
@FunctionalInterface
public interface ResponseJudge {
  /** The verdict on {@code response} to {@code prompt}; empty when the prompt cannot be judged (no annotation). */
  Optional<Verdict> judge(PpoPrompt prompt, String response);

  /** How many claims were hallucinated and how many correct ones counted as informative. */
  record Verdict(int hallucinations, int informative) {
    public Verdict {
      if (hallucinations < 0 || informative < 0) {
        throw new FactRlException("verdict: counts must be >= 0, got hallucinations " + hallucinations
            + ", informative " + informative);
      }
    }

    public boolean hallucinated() {
      return hallucinations > 0;
    }
  }

  /** What a step's verdicts add up to: how many rollouts were judged, the hallucinating share, mean informative. */
  record Summary(int judged, double hallucinationRate, double informative) {
    public static final Summary NONE = new Summary(0, Double.NaN, Double.NaN);

    /** Judges {@code responses.get(i)} to {@code prompts.get(i)} for every i and sums up the verdicts. */
    public static Summary over(ResponseJudge judge, List<PpoPrompt> prompts, List<String> responses) {
      if (prompts.size() != responses.size()) {
        throw new FactRlException("argument 'responses': " + responses.size() + " responses for " + prompts.size()
            + " prompts");
      }
      List<Optional<Verdict>> verdicts = new ArrayList<>(prompts.size());
      for (int i = 0; i < prompts.size(); i++) {
        Optional<Verdict> v = judge.judge(prompts.get(i), responses.get(i));
        if (v == null) {
          throw new FactRlException("response judge: returned null for prompt " + prompts.get(i).id()
              + " (use Optional.empty() when it cannot judge)");
        }
        verdicts.add(v);
      }
      return of(verdicts);
    }

    /** The summary of {@code verdicts} (absent ones were not judged). */
    public static Summary of(Iterable<Optional<Verdict>> verdicts) {
      int n = 0;
      int bad = 0;
      long info = 0;
      for (Optional<Verdict> v : verdicts) {
        if (v.isPresent()) {
          n++;
          bad += v.get().hallucinated() ? 1 : 0;
          info += v.get().informative();
        }
      }
      return n == 0 ? NONE : new Summary(n, (double) bad / n, (double) info / n);
    }
  }
}

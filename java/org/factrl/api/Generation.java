package org.factrl.api;

import java.util.Arrays;

/**
 * One generated answer.
 *
 * @param text the decoded answer (special tokens dropped, trimmed), without the EOS
 * @param tokenIds the generated ids, without the EOS
 * @param logProbs the log-probability of each id in {@code tokenIds} under the sampling distribution's
 *     model (log-softmax of the logits, before temperature / top-p), same length as {@code tokenIds}
 * @param stopped whether the model ended the answer with EOS (false: cut at the token limit)
 */
public record Generation(String text, int[] tokenIds, float[] logProbs, boolean stopped) {
  public Generation {
    if (tokenIds.length != logProbs.length) {
      throw new IllegalArgumentException(tokenIds.length + " token ids but " + logProbs.length + " log-probs");
    }
    tokenIds = tokenIds.clone();
    logProbs = logProbs.clone();
  }

  @Override
  public int[] tokenIds() {
    return tokenIds.clone();
  }

  @Override
  public float[] logProbs() {
    return logProbs.clone();
  }

  /** The sum of {@link #logProbs}: the answer's log-likelihood under the model. */
  public double logLikelihood() {
    double s = 0;
    for (float v : logProbs) {
      s += v;
    }
    return s;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Generation g && text.equals(g.text) && Arrays.equals(tokenIds, g.tokenIds)
        && Arrays.equals(logProbs, g.logProbs) && stopped == g.stopped;
  }

  @Override
  public int hashCode() {
    return 31 * text.hashCode() + Arrays.hashCode(tokenIds);
  }

  @Override
  public String toString() {
    return "Generation[" + tokenIds.length + " tokens" + (stopped ? ", EOS" : ", cut") + ": " + text + "]";
  }
}

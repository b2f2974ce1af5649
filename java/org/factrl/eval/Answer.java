package org.factrl.eval;

import com.google.common.base.Preconditions;

/**
 * A model's answer to one {@link Question}: the decoded text (special tokens dropped, outer
 * whitespace trimmed), its length in tokens (what the model emitted before EOS, EOS not counted)
 * and whether it stopped at EOS ({@code false}: cut off at the new-token limit).
 */
public record Answer(String text, int tokens, boolean stopped) {
  public Answer {
    Preconditions.checkNotNull(text, "text");
    Preconditions.checkArgument(tokens >= 0, "tokens must be >= 0, got %s", tokens);
  }
}

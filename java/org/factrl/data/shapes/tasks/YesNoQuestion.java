package org.factrl.data.shapes.tasks;

import com.google.common.base.Preconditions;

/**
 * A VQA-style yes/no question with its ground truth: {@code answer} and a one-sentence
 * {@code explanation} stating the fact that decides it ("There are two red circles.").
 */
public record YesNoQuestion(Kind kind, String question, boolean answer, String explanation) {
  /** What the question tests. */
  public enum Kind { EXISTENCE, COLOUR, COUNT, RELATION }

  public YesNoQuestion {
    Preconditions.checkNotNull(kind, "kind");
    Preconditions.checkArgument(question.endsWith("?"), "not a question: %s", question);
    Preconditions.checkNotNull(explanation, "explanation");
  }

  /** "yes" or "no". */
  public String answerWord() {
    return answer ? "yes" : "no";
  }

  /** A full reference reply: "Yes. There are two red circles." */
  public String response() {
    return (answer ? "Yes. " : "No. ") + explanation;
  }
}

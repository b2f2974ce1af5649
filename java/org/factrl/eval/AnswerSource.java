package org.factrl.eval;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * Where the evaluation's answers come from: question → answer. {@link ModelAnswerSource} generates
 * them with a model; the metric tests plug in hand-made answer lists (oracle answers, always
 * "yes") so every metric is checked against values known in advance, apart from any model.
 */
public interface AnswerSource {
  /**
   * Answers every question, in order (one answer per question). Calls {@code answered} with the
   * number of questions answered so far whenever some are done (for progress lines).
   */
  List<Answer> answer(List<Question> questions, IntConsumer answered);
}

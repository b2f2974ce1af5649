package org.factrl.eval;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntConsumer;

/**
 * A hand-made answer source for the metric tests: each question's answer from a function; its
 * length in tokens is its number of words, and it always "stopped". Counts the questions it saw.
 */
final class StubAnswers implements AnswerSource {
  private final Function<Question, String> answer;
  final List<Question> asked = new ArrayList<>();

  StubAnswers(Function<Question, String> answer) {
    this.answer = answer;
  }

  static int words(String s) {
    return s.isBlank() ? 0 : s.trim().split("\\s+").length;
  }

  @Override
  public List<Answer> answer(List<Question> questions, IntConsumer answered) {
    List<Answer> out = new ArrayList<>();
    for (Question q : questions) {
      asked.add(q);
      String a = answer.apply(q);
      out.add(new Answer(a, words(a), true));
    }
    answered.accept(questions.size());
    return ImmutableList.copyOf(out);
  }
}

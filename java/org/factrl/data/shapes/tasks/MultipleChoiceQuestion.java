package org.factrl.data.shapes.tasks;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.List;

/**
 * An A-OKVQA-style multiple-choice question: four distinct choices, the index of the right one, and
 * a rationale sentence that justifies it from the image.
 */
public record MultipleChoiceQuestion(String question, ImmutableList<String> choices, int answerIndex,
    String rationale) {
  public static final int CHOICES = 4;

  public MultipleChoiceQuestion {
    Preconditions.checkArgument(question.endsWith("?"), "not a question: %s", question);
    Preconditions.checkArgument(choices.size() == CHOICES, "expected %s choices, got %s", CHOICES, choices);
    Preconditions.checkArgument(choices.stream().distinct().count() == CHOICES, "choices repeat: %s", choices);
    Preconditions.checkElementIndex(answerIndex, CHOICES, "answerIndex");
    Preconditions.checkNotNull(rationale, "rationale");
  }

  public MultipleChoiceQuestion(String question, List<String> choices, int answerIndex, String rationale) {
    this(question, ImmutableList.copyOf(choices), answerIndex, rationale);
  }

  /** 'A'..'D'. */
  public char answerLetter() {
    return (char) ('A' + answerIndex);
  }

  public String answer() {
    return choices.get(answerIndex);
  }

  /** The question followed by one "A. choice" line per choice. */
  public String prompt() {
    StringBuilder s = new StringBuilder(question);
    for (int i = 0; i < choices.size(); i++) {
      s.append('\n').append((char) ('A' + i)).append(". ").append(choices.get(i));
    }
    return s.toString();
  }
}

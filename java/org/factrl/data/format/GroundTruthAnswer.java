package org.factrl.data.format;

import com.google.common.collect.ImmutableList;
import java.util.List;

/**
 * The ground-truth answer of an RL prompt, for the symbolic rewards:
 *
 * <ul>
 *   <li>{@code {"type": "yes_no", "value": "yes"}}: value is exactly {@code yes} or {@code no};
 *   <li>{@code {"type": "multiple_choice", "value": "B", "choices": ["a cube", "a ball", ...]}}:
 *       2 to 26 non-empty choices, value the letter of the correct one ({@code A} = choices[0]);
 *   <li>{@code {"type": "open", "value": "three"}}: non-empty reference text, no choices.
 * </ul>
 */
public record GroundTruthAnswer(Type type, String value, ImmutableList<String> choices) {
  /** The answer kinds; {@link #jsonName()} is the {@code type} value. */
  public enum Type {
    YES_NO("yes_no"),
    MULTIPLE_CHOICE("multiple_choice"),
    OPEN("open");

    private final String jsonName;

    Type(String jsonName) {
      this.jsonName = jsonName;
    }

    public String jsonName() {
      return jsonName;
    }
  }

  public GroundTruthAnswer {
    if (type == null) {
      throw new InvalidFieldException("answer.type", "missing");
    }
    if (value == null) {
      throw new InvalidFieldException("answer.value", "missing");
    }
    if (choices == null) {
      throw new InvalidFieldException("answer.choices", "use an empty list for no choices");
    }
    switch (type) {
      case YES_NO -> {
        if (!value.equals("yes") && !value.equals("no")) {
          throw new InvalidFieldException("answer.value", "expected 'yes' or 'no', got '" + value + "'");
        }
        checkNoChoices(choices, type);
      }
      case MULTIPLE_CHOICE -> {
        if (choices.size() < 2 || choices.size() > 26) {
          throw new InvalidFieldException("answer.choices", "expected 2 to 26 choices, got " + choices.size());
        }
        for (int i = 0; i < choices.size(); i++) {
          if (choices.get(i).isBlank()) {
            throw new InvalidFieldException("answer.choices[" + i + "]", "must not be empty");
          }
        }
        char last = (char) ('A' + choices.size() - 1);
        if (value.length() != 1 || value.charAt(0) < 'A' || value.charAt(0) > last) {
          throw new InvalidFieldException("answer.value", "expected a choice letter A.." + last + ", got '" + value + "'");
        }
      }
      case OPEN -> {
        if (value.isBlank()) {
          throw new InvalidFieldException("answer.value", "must not be empty");
        }
        checkNoChoices(choices, type);
      }
    }
  }

  public static GroundTruthAnswer yesNo(boolean yes) {
    return new GroundTruthAnswer(Type.YES_NO, yes ? "yes" : "no", ImmutableList.of());
  }

  /** A multiple-choice answer whose correct choice is {@code choices.get(correctIndex)}. */
  public static GroundTruthAnswer multipleChoice(int correctIndex, List<String> choices) {
    return new GroundTruthAnswer(Type.MULTIPLE_CHOICE, String.valueOf((char) ('A' + correctIndex)),
        ImmutableList.copyOf(choices));
  }

  public static GroundTruthAnswer open(String value) {
    return new GroundTruthAnswer(Type.OPEN, value, ImmutableList.of());
  }

  /** For multiple choice: the 0-based index of the correct choice. */
  public int choiceIndex() {
    if (type != Type.MULTIPLE_CHOICE) {
      throw new IllegalStateException("not a multiple-choice answer: " + type.jsonName());
    }
    return value.charAt(0) - 'A';
  }

  private static void checkNoChoices(List<String> choices, Type type) {
    if (!choices.isEmpty()) {
      throw new InvalidFieldException("answer.choices", "only multiple_choice answers have choices, this is " + type.jsonName());
    }
  }
}

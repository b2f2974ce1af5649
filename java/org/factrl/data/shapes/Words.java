package org.factrl.data.shapes;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The shapes world's words, in one place so generated text and the readers agree: number words,
 * articles, list joining, and the reverse look-ups from a word to a shape, colour, size or
 * environment.
 */
public final class Words {
  private static final ImmutableList<String> NUMBERS =
      ImmutableList.of("zero", "one", "two", "three", "four", "five", "six", "seven", "eight");

  private Words() {}

  /** "one".."eight" (and "zero"); the shapes world never counts past {@link Scene#MAX_OBJECTS}. */
  public static String number(int n) {
    Preconditions.checkArgument(n >= 0 && n < NUMBERS.size(), "no number word for %s", n);
    return NUMBERS.get(n);
  }

  /** The count a number word names, if it is one of "zero".."eight". */
  public static Optional<Integer> numberOf(String word) {
    int i = NUMBERS.indexOf(word.toLowerCase(Locale.ROOT));
    return i < 0 ? Optional.empty() : Optional.of(i);
  }

  /** "a" or "an" for the word that follows ("an orange circle"). */
  public static String article(String nextWord) {
    return !nextWord.isEmpty() && "aeiou".indexOf(Character.toLowerCase(nextWord.charAt(0))) >= 0
        ? "an" : "a";
  }

  /** "a red circle" / "an orange star". */
  public static String withArticle(String phrase) {
    return article(phrase) + " " + phrase;
  }

  /** "a", "a and b", "a, b and c". */
  public static String join(List<String> items) {
    Preconditions.checkArgument(!items.isEmpty(), "nothing to join");
    if (items.size() == 1) {
      return items.get(0);
    }
    return String.join(", ", items.subList(0, items.size() - 1)) + " and " + items.get(items.size() - 1);
  }

  /** "a, b or c". */
  public static String joinOr(List<String> items) {
    Preconditions.checkArgument(!items.isEmpty(), "nothing to join");
    if (items.size() == 1) {
      return items.get(0);
    }
    return String.join(", ", items.subList(0, items.size() - 1)) + " or " + items.get(items.size() - 1);
  }

  public static String capitalise(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  /**
   * A counted noun phrase: "a red circle" for one, "two red circles", "no red circles" for zero.
   * {@code adjectives} may be empty ("two circles").
   */
  public static String counted(int n, String adjectives, ShapeKind shape) {
    String noun = adjectives.isEmpty() ? shape.noun(n) : adjectives + " " + shape.noun(n);
    if (n == 0) {
      return "no " + noun;
    }
    return n == 1 ? withArticle(noun) : number(n) + " " + noun;
  }

  /** "There is a red circle." / "There are two red circles." / "There is no red circle." */
  public static String thereAre(int n, String adjectives, ShapeKind shape) {
    if (n == 0) {
      return "There is no " + (adjectives.isEmpty() ? "" : adjectives + " ") + shape.singular() + ".";
    }
    return (n == 1 ? "There is " : "There are ") + counted(n, adjectives, shape) + ".";
  }

  /** The preposition phrase placing a scene: "on a sandy beach", "in a grassy field". */
  public static String setting(Environment e) {
    return switch (e) {
      case FIELD -> "in " + e.phrase();
      case BEACH -> "on " + e.phrase();
      case SNOW -> "in " + e.phrase();
      case NIGHT -> "under " + e.phrase();
      case ROOM -> "in " + e.phrase();
    };
  }

  public static Optional<ShapeKind> shape(String word) {
    for (ShapeKind s : ShapeKind.values()) {
      if (s.singular().equals(word) || s.plural().equals(word)) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }

  public static Optional<Colour> colour(String word) {
    for (Colour c : Colour.values()) {
      if (c.word().equals(word)) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }

  public static Optional<Size> size(String word) {
    for (Size s : Size.values()) {
      if (s.word().equals(word)) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }

  public static Optional<Environment> environment(String word) {
    for (Environment e : Environment.values()) {
      if (e.word().equals(word)) {
        return Optional.of(e);
      }
    }
    return Optional.empty();
  }
}

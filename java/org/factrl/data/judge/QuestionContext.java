package org.factrl.data.judge;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import java.util.List;
import org.factrl.data.MmhalType;
import org.factrl.data.shapes.Relation;

/**
 * What a question asks, as far as the judge needs it: its MMHal type, what a short answer supplies
 * ({@link Focus}), the statement a yes/no question asks about, and the objects it names (topics:
 * they resolve "it" and complete fragments such as "Two." or "To the left.").
 */
public record QuestionContext(String text, MmhalType type, Focus focus, boolean yesNo,
    ImmutableList<Claim> claims, ImmutableList<Descriptor> topics, Comparison comparison,
    Relation relation) {

  /** The part of the answer a short reply gives. */
  public enum Focus { YES_NO, COUNT, COLOUR, SIZE, SHAPE, POSITION, WHICH, ENVIRONMENT, OPEN }

  private static final ImmutableSet<String> AUXILIARIES = ImmutableSet.of("is", "are", "was",
      "were", "does", "do", "did", "can", "could", "has", "have");
  private static final ImmutableSet<String> POSITION_WORDS = ImmutableSet.of("where", "left",
      "right", "above", "below", "under", "over", "beneath", "position", "relative", "located",
      "side");
  private static final ImmutableSet<String> ENVIRONMENT_WORDS = ImmutableSet.of("background",
      "setting", "environment", "backdrop", "set", "place", "location", "taken", "weather");

  public QuestionContext {
    Preconditions.checkNotNull(text, "text");
    Preconditions.checkNotNull(type, "type");
    Preconditions.checkNotNull(focus, "focus");
    Preconditions.checkNotNull(claims, "claims");
    Preconditions.checkNotNull(topics, "topics");
  }

  /** Reads a question, inferring its MMHal type. */
  public static QuestionContext parse(ClaimExtractor extractor, String question) {
    return parse(extractor, question, null);
  }

  /** Reads a question; {@code type} (if not null) overrides the inferred type. */
  public static QuestionContext parse(ClaimExtractor extractor, String question, MmhalType type) {
    Preconditions.checkNotNull(question, "question");
    // "Which is smaller: the star or the circle?" is one question, not two sentences
    List<List<String>> sentences = ClaimExtractor.tokens(question.replace(':', ','));
    // The question proper is the last sentence ("In the image... Is there a dog?").
    List<String> t = sentences.isEmpty() ? List.of() : sentences.get(sentences.size() - 1);
    String joined = " " + String.join(" ", t) + " ";
    // "Are there more circles or more stars?": "more" does not make them other objects here
    ImmutableList<Descriptor> topics = extractor.nounPhrases(
        question.replaceAll("(?i)\\b(?:more|fewer)\\b", " "));
    boolean yesNo = !t.isEmpty() && AUXILIARIES.contains(t.get(0))
        && !joined.contains(" or ");
    Comparison cmp = null;
    if (joined.contains(" larger ") || joined.contains(" bigger ")) {
      cmp = Comparison.LARGER;
    } else if (joined.contains(" smaller ")) {
      cmp = Comparison.SMALLER;
    } else if (joined.contains(" more ")) {
      cmp = Comparison.MORE;
    } else if (joined.contains(" fewer ") || joined.contains(" less ")) {
      cmp = Comparison.FEWER;
    }
    ImmutableList<Claim> claims = ImmutableList.of();
    Focus focus;
    MmhalType inferred;
    Relation which = whichRelation(joined);
    int sizes = 0;
    int colours = 0;
    for (int k = 0; k < t.size(); k++) {
      String w = t.get(k);
      String next = k + 1 < t.size() ? t.get(k + 1) : "";
      // only bare adjectives offer alternatives ("big or small"), not "the orange square"
      boolean bare = !Vocabulary.SHAPES.containsKey(next) && !Vocabulary.GENERIC_NOUNS.contains(next)
          && !Vocabulary.COLOURS.containsKey(next) && !next.equals("one") && !next.equals("ones");
      sizes += Vocabulary.SIZES.containsKey(w) && !w.endsWith("er") && !w.endsWith("est") && bare
          ? 1 : 0;
      colours += Vocabulary.COLOURS.containsKey(w) && bare ? 1 : 0;
    }
    boolean alternatives = joined.contains(" or ");
    if (joined.contains(" how many ") || joined.contains(" number of ")
        || !t.isEmpty() && (t.get(0).equals("count") || t.get(0).equals("tally"))
        || joined.contains(" count the ") || joined.contains(" how much ")) {
      focus = Focus.COUNT;
      inferred = MmhalType.COUNTING;
    } else if (which != null && (joined.contains(" which ") || joined.contains(" what ")
        || alternatives)) {
      // "Which is further left, the star or the circle?" (no "than")
      focus = Focus.WHICH;
      inferred = MmhalType.SPATIAL_RELATION;
    } else if (alternatives && sizes >= 2 && cmp == null) {
      focus = Focus.SIZE; // "Is it big or small?"
      inferred = MmhalType.ATTRIBUTE;
    } else if (alternatives && colours >= 2 && cmp == null) {
      focus = Focus.COLOUR; // "Is the star red or blue?"
      inferred = MmhalType.ATTRIBUTE;
    } else if (yesNo) {
      claims = extractor.extractQuestion(String.join(" ", t));
      focus = Focus.YES_NO;
      inferred = claims.isEmpty() ? MmhalType.OTHER : typeOf(claims.get(0));
    } else if (joined.contains(" colour ") || joined.contains(" color ")
        || joined.contains(" colours ") || joined.contains(" colors ")) {
      focus = Focus.COLOUR;
      inferred = MmhalType.ATTRIBUTE;
    } else if (joined.contains(" what size ") || joined.contains(" how big ")
        || joined.contains(" how large ") || joined.contains(" which size ")) {
      focus = Focus.SIZE;
      inferred = MmhalType.ATTRIBUTE;
    } else if (cmp != null && (joined.contains(" which ") || joined.contains(" what "))) {
      focus = Focus.WHICH;
      inferred = MmhalType.COMPARISON;
    } else if (joined.contains(" shape ") || joined.contains(" kind of object ")
        || joined.contains(" type of object ")
        || (joined.startsWith(" what is the ") || joined.startsWith(" what is that ")
            || joined.startsWith(" what is this ")) && t.size() <= 6
            && !hasAny(t, POSITION_WORDS) && !hasAny(t, ENVIRONMENT_WORDS)) {
      focus = Focus.SHAPE;
      inferred = MmhalType.ATTRIBUTE;
    } else if (hasAny(t, ENVIRONMENT_WORDS) || hasAnyEnvironment(t)) {
      focus = Focus.ENVIRONMENT;
      inferred = MmhalType.ENVIRONMENT;
    } else if (hasAny(t, POSITION_WORDS)) {
      focus = Focus.POSITION;
      inferred = MmhalType.SPATIAL_RELATION;
    } else if (joined.contains(" describe ") || joined.contains(" description ")
        || joined.contains(" what is in ") || joined.contains(" what do you see ")
        || joined.contains(" what can you see ") || joined.contains(" what is shown ")) {
      focus = Focus.OPEN;
      inferred = MmhalType.HOLISTIC_DESCRIPTION;
    } else {
      focus = Focus.OPEN;
      inferred = MmhalType.OTHER;
    }
    return new QuestionContext(question, type != null ? type : inferred, focus, yesNo, claims,
        topics, cmp, focus == Focus.WHICH ? which : null);
  }

  /** The relation a "which is further left / higher up" question asks for, or null. */
  private static Relation whichRelation(String j) {
    if (has(j, "further left", "farther left", "more to the left", "leftmost", "more left",
        "closer to the left", "nearer the left", "most to the left", "furthest left",
        "farthest left")) {
      return Relation.LEFT_OF;
    }
    if (has(j, "further right", "farther right", "more to the right", "rightmost", "more right",
        "closer to the right", "nearer the right", "most to the right", "furthest right",
        "farthest right")) {
      return Relation.RIGHT_OF;
    }
    if (has(j, "higher", "further up", "farther up", "highest", "topmost", "uppermost",
        "closer to the top", "nearer the top", "more to the top")) {
      return Relation.ABOVE;
    }
    if (has(j, "lower", "further down", "farther down", "lowest", "bottommost", "lowermost",
        "closer to the bottom", "nearer the bottom", "more to the bottom")) {
      return Relation.BELOW;
    }
    return null;
  }

  private static boolean has(String joined, String... phrases) {
    for (String p : phrases) {
      if (joined.contains(" " + p + " ")) {
        return true;
      }
    }
    return false;
  }

  private static MmhalType typeOf(Claim c) {
    return switch (c.kind()) {
      case OBJECT, NEGATED -> MmhalType.ADVERSARIAL_OBJECT;
      case COUNT -> MmhalType.COUNTING;
      case ATTRIBUTE -> MmhalType.ATTRIBUTE;
      case RELATION, POSITION -> MmhalType.SPATIAL_RELATION;
      case ALL, MOST, MOST_COMMON, SAME -> MmhalType.OTHER;
      case COMPARISON -> MmhalType.COMPARISON;
      case ENVIRONMENT -> MmhalType.ENVIRONMENT;
    };
  }

  private static boolean hasAny(List<String> t, ImmutableSet<String> words) {
    for (String w : t) {
      if (words.contains(w)) {
        return true;
      }
    }
    return false;
  }

  private static boolean hasAnyEnvironment(List<String> t) {
    for (String w : t) {
      if (Vocabulary.ENVIRONMENT_WORDS.containsKey(w)) {
        return true;
      }
    }
    return false;
  }
}

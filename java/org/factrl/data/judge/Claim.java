package org.factrl.data.judge;

import com.google.common.base.Preconditions;
import org.factrl.data.shapes.Environment;
import org.factrl.data.shapes.Relation;

/**
 * One checkable assertion found in a text. Build with the factory methods; unused parts are null
 * ({@code count} is -1 unless {@link ClaimKind#COUNT}).
 *
 * <ul>
 *   <li>OBJECT: {@code subject} is present.
 *   <li>NEGATED: nothing matches {@code subject} (always {@code negated}).
 *   <li>COUNT: exactly {@code count} objects match {@code subject} (or not, when negated).
 *   <li>ATTRIBUTE: some object matching {@code subject} also matches {@code attribute}.
 *   <li>RELATION: {@code subject} stands in {@code relation} to {@code object}.
 *   <li>COMPARISON: {@code subject} compares to {@code object} as {@code comparison} says.
 *   <li>ENVIRONMENT: the scene is set in {@code environment}.
 * </ul>
 *
 * Claims compare by value, so the judge can drop repeats of the same assertion.
 */
public record Claim(ClaimKind kind, Descriptor subject, int count, Descriptor attribute,
    Relation relation, Comparison comparison, Descriptor object, Environment environment,
    boolean negated, Region region, Aspect aspect) {

  /** What "the same colour / shape / size" and "the most common colour" are about. */
  public enum Aspect { COLOUR, SHAPE, SIZE }

  public Claim {
    Preconditions.checkNotNull(kind, "kind");
    switch (kind) {
      case OBJECT -> Preconditions.checkArgument(subject != null && !negated, "OBJECT: subject");
      case NEGATED -> Preconditions.checkArgument(subject != null && negated, "NEGATED: subject");
      case COUNT -> Preconditions.checkArgument(subject != null && count >= 0, "COUNT: count");
      case ATTRIBUTE -> Preconditions.checkArgument(subject != null && attribute != null,
          "ATTRIBUTE: subject and attribute");
      case RELATION -> Preconditions.checkArgument(subject != null && relation != null
          && object != null, "RELATION: subject, relation, object");
      case COMPARISON -> Preconditions.checkArgument(subject != null && comparison != null
          && object != null, "COMPARISON: subject, comparison, object");
      case ENVIRONMENT -> Preconditions.checkArgument(environment != null, "ENVIRONMENT");
      case POSITION -> Preconditions.checkArgument(subject != null && region != null,
          "POSITION: subject and region");
      case ALL, MOST -> Preconditions.checkArgument(subject != null && attribute != null,
          "ALL/MOST: subject and attribute");
      case MOST_COMMON -> Preconditions.checkArgument(subject != null && attribute != null
          && aspect != null, "MOST_COMMON: subject, attribute, aspect");
      case SAME -> Preconditions.checkArgument(subject != null && aspect != null,
          "SAME: subject and aspect");
    }
  }

  public static Claim present(Descriptor d) {
    return new Claim(ClaimKind.OBJECT, d, -1, null, null, null, null, null, false, null, null);
  }

  public static Claim absent(Descriptor d) {
    return new Claim(ClaimKind.NEGATED, d, -1, null, null, null, null, null, true, null, null);
  }

  public static Claim count(Descriptor d, int n) {
    return new Claim(ClaimKind.COUNT, d, n, null, null, null, null, null, false, null, null);
  }

  public static Claim attribute(Descriptor subject, Descriptor attribute) {
    return new Claim(ClaimKind.ATTRIBUTE, subject, -1, attribute, null, null, null, null, false, null, null);
  }

  public static Claim relation(Descriptor subject, Relation relation, Descriptor object) {
    return new Claim(ClaimKind.RELATION, subject, -1, null, relation, null, object, null, false, null, null);
  }

  public static Claim comparison(Descriptor subject, Comparison comparison, Descriptor object) {
    return new Claim(ClaimKind.COMPARISON, subject, -1, null, null, comparison, object, null,
        false, null, null);
  }

  /** {@code subject} is in {@code region} of the picture. */
  public static Claim position(Descriptor subject, Region region) {
    return new Claim(ClaimKind.POSITION, subject, -1, null, null, null, null, null, false, region,
        null);
  }

  /** Every object matching {@code subject} matches {@code attribute} ("all circles are red"). */
  public static Claim all(Descriptor subject, Descriptor attribute) {
    return new Claim(ClaimKind.ALL, subject, -1, attribute, null, null, null, null, false, null,
        null);
  }

  /** More than half of the objects matching {@code subject} match {@code attribute}. */
  public static Claim most(Descriptor subject, Descriptor attribute) {
    return new Claim(ClaimKind.MOST, subject, -1, attribute, null, null, null, null, false, null,
        null);
  }

  /**
   * Among the objects matching {@code subject}, {@code attribute}'s value of {@code aspect} is
   * the most common (a tie for first place counts).
   */
  public static Claim mostCommon(Descriptor subject, Aspect aspect, Descriptor attribute) {
    return new Claim(ClaimKind.MOST_COMMON, subject, -1, attribute, null, null, null, null, false,
        null, aspect);
  }

  /** All objects matching {@code subject} share one value of {@code aspect}. */
  public static Claim same(Descriptor subject, Aspect aspect) {
    return new Claim(ClaimKind.SAME, subject, -1, null, null, null, null, null, false, null,
        aspect);
  }

  public static Claim environment(Environment e) {
    return new Claim(ClaimKind.ENVIRONMENT, null, -1, null, null, null, null, e, false, null, null);
  }

  /** Whether a descriptor of the claim rests on a vague word ({@link Vague}). */
  public boolean isVague() {
    return vagueWord() != null;
  }

  /** The first vague word of the claim, or null. */
  String vagueWord() {
    for (Descriptor d : new Descriptor[] {subject, attribute, object}) {
      if (d != null && d.isVague()) {
        return d.vague().word();
      }
    }
    return null;
  }

  /** The opposite assertion: "there is a X" ↔ "there is no X", otherwise the negated flag flips. */
  public Claim negate() {
    return switch (kind) {
      case OBJECT -> absent(subject);
      case NEGATED -> present(subject);
      default -> new Claim(kind, subject, count, attribute, relation, comparison, object,
          environment, !negated, region, aspect);
    };
  }

  /**
   * The claim as one simple English sentence; {@link ClaimExtractor} reads it back as this claim
   * (the bootstrap relies on it).
   */
  public String sentence() {
    String not = negated ? "not " : "";
    return switch (kind) {
      case OBJECT -> "There is " + Vocabulary.article(subject.phrase()) + " " + subject.phrase()
          + ".";
      case NEGATED -> "There is no " + subject.phrase() + ".";
      case COUNT -> count == 0 ? "There are no " + subject.phrase(true) + "."
          : (count == 1 ? "There is " + not + "one " + subject.phrase() + "."
              : "There are " + not + Vocabulary.numberWord(count) + " " + subject.phrase(true)
                  + ".");
      case ATTRIBUTE -> "The " + subject.phrase() + " is " + not + predicate(attribute) + ".";
      case RELATION -> "The " + subject.phrase() + " is " + not + relation.phrase() + " the "
          + object.phrase() + ".";
      case COMPARISON -> switch (comparison) {
        case LARGER, SMALLER, SAME_SIZE -> "The " + subject.phrase() + " is " + not
            + comparison.phrase() + " the " + object.phrase() + ".";
        case MORE, FEWER -> "There are " + not + comparison.phrase() + " "
            + subject.phrase(true) + " than " + object.phrase(true) + ".";
        case SAME_NUMBER -> "There are " + not + "as many " + subject.phrase(true) + " as "
            + object.phrase(true) + ".";
      };
      case ENVIRONMENT -> "The background is " + not + environment.phrase() + ".";
      case POSITION -> "The " + subject.phrase() + " is " + not + region.phrase()
          + " of the image.";
      case ALL -> (negated ? "Not all " : "All ") + subject.phrase(true) + " are "
          + plural(attribute) + ".";
      case MOST -> (negated ? "Not most " : "Most ") + subject.phrase(true) + " are "
          + plural(attribute) + ".";
      case MOST_COMMON -> "The most common " + aspect.name().toLowerCase(java.util.Locale.ROOT)
          + " among the " + subject.phrase(true) + " is " + not + attribute.phrase() + ".";
      case SAME -> "The " + subject.phrase(true) + " are " + not + "all the same "
          + aspect.name().toLowerCase(java.util.Locale.ROOT) + ".";
    };
  }

  /** "red", "circles", "small red circles". */
  static String plural(Descriptor d) {
    if (!d.hasNoun()) {
      String p = d.phrase();
      return p.substring(0, p.length() - " object".length());
    }
    return d.phrase(true);
  }

  /** "red", "small", "a circle", "a small red circle". */
  static String predicate(Descriptor d) {
    if (!d.hasNoun()) {
      String p = d.phrase();
      return p.substring(0, p.length() - " object".length());
    }
    return Vocabulary.article(d.phrase()) + " " + d.phrase();
  }

  @Override
  public String toString() {
    return kind + "[" + sentence() + "]";
  }
}

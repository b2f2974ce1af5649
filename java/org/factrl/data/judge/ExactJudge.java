package org.factrl.data.judge;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.factrl.data.MmhalType;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Size;

/**
 * Judges a free-text answer against a scene's ground truth: extracts the claims
 * ({@link ClaimExtractor}), decides each ({@link Verdict}), and scores the answer 0–6 on the
 * MMHal scale. Stateless and thread-safe.
 *
 * <h2>Scoring rubric</h2>
 *
 * Let C be the number of informative correct claims, K the number of distinct {@link ClaimKind}s
 * among them, and A the number of them that answer the question ({@link #answers}; for
 * holistic, other, or no question A = C). Unverifiable claims count for nothing. A correct claim is
 * informative unless
 * <ul>
 *   <li>it is negative ("There is no dog.", "It is not snowy.", "The star is not blue.") and does
 *       not answer the question: only the "no" reading of a yes/no question and the absence of an
 *       object the question names count. Every shapes-world image lacks a dog, so listing what is
 *       absent must not make an answer (or a description) informative; or
 *   <li>it says an object exists that another informative claim already names more precisely
 *       ("There is a star." beside "There is a large yellow star.").
 * </ul>
 * Uninformative correct claims are still checked: a false one is a hallucination.
 *
 * <p>An object that does not exist is one hallucination however often the answer mentions it: a
 * later claim that presupposes an object already found missing ("There is a dog. The dog is left of
 * the circle.") is unverifiable, not a second hallucination.
 *
 * <p>Informativeness:
 * <ul>
 *   <li>Holistic description, other, or no question: NOT if C = 0; SOMEWHAT if C is 1–2; VERY if
 *       C ≥ 3; VERY_WITH_ANALYSIS if C ≥ 5 and K ≥ 3.
 *   <li>Any other type: NOT if A = 0 (the question is not answered); SOMEWHAT if A ≥ 1 and C = 1
 *       (the bare answer: "Yes.", "Two."); VERY if A ≥ 1 and C ≥ 2 (the answer and a supporting
 *       fact); VERY_WITH_ANALYSIS if A ≥ 1, C ≥ 4 and K ≥ 3.
 * </ul>
 *
 * <p>Score (the MMHal scale): without any hallucinated claim, 6 = very informative with good
 * analysis, 5 = very informative, 4 = somewhat informative, 3 = not informative; with at least one
 * hallucinated claim, 2 = very informative (with or without analysis), 1 = somewhat informative,
 * 0 = not informative. So score &lt; 3 exactly when the answer hallucinates, and the hallucination
 * rate ({@link #hallucinationRate}) is the share of scores below 3, as in MMHal.
 *
 * <h2>Questions</h2>
 *
 * With a question, an answer starting with a yes/no word asserts (or denies) the statement a yes/no
 * question asks about, and a fragment answering a wh-question ("Two.", "Blue.", "A circle.", "The
 * red one.", "To the left.") is completed from the question's objects.
 */
public final class ExactJudge {
  private final ClaimExtractor extractor = new ClaimExtractor();

  public ClaimExtractor extractor() {
    return extractor;
  }

  /** Judges an answer with no question (informativeness as for a holistic description). */
  public Judgement judge(Scene scene, String answer) {
    return judge(scene, (QuestionContext) null, answer);
  }

  /** Judges an answer to {@code question}, inferring the question's MMHal type. */
  public Judgement judge(Scene scene, String question, String answer) {
    return judge(scene, QuestionContext.parse(extractor, question), answer);
  }

  /** Judges an answer to a question of known type. */
  public Judgement judge(Scene scene, MmhalType type, String question, String answer) {
    Preconditions.checkNotNull(type, "type");
    return judge(scene, QuestionContext.parse(extractor, question, type), answer);
  }

  /** Judges an answer; {@code context} may be null (no question). */
  public Judgement judge(Scene scene, QuestionContext context, String answer) {
    Preconditions.checkNotNull(scene, "scene");
    Preconditions.checkNotNull(answer, "answer");
    List<Descriptor> topics = context == null ? List.of() : context.topics();
    Set<Claim> claims = new LinkedHashSet<>();
    if (context != null && context.yesNo()) {
      PopeAnswer yn = PopeScorer.leadingYesNo(answer);
      if (yn != PopeAnswer.UNPARSEABLE) {
        for (Claim c : context.claims()) {
          claims.add(yn == PopeAnswer.YES ? c : c.negate());
        }
      }
    }
    List<Claim> answerClaims = new ArrayList<>(extractor.extract(answer, topics));
    if (context != null) {
      completeFragment(context, answer, answerClaims);
    }
    claims.addAll(answerClaims);
    ImmutableList.Builder<ClaimVerdict> verdicts = ImmutableList.builder();
    Set<Descriptor> missing = new java.util.HashSet<>();
    for (Claim c : claims) {
      ClaimVerdict v = ClaimChecker.check(scene, c);
      Descriptor absent = v.verdict() == Verdict.HALLUCINATED ? ClaimChecker.missing(scene, c)
          : null;
      if (absent != null && !missing.add(absent)) {
        v = new ClaimVerdict(c, Verdict.UNVERIFIABLE,
            "refers to the " + absent.phrase() + " already counted as hallucinated");
      }
      verdicts.add(v);
    }
    ImmutableList<ClaimVerdict> vs = verdicts.build();
    MmhalType type = context == null ? MmhalType.OTHER : context.type();
    List<ClaimVerdict> informative = informative(vs, context);
    Informativeness info = informativeness(informative, type);
    boolean hallucinated = vs.stream().anyMatch(v -> v.verdict() == Verdict.HALLUCINATED);
    return new Judgement(vs, info, score(info, hallucinated), type, informative.size());
  }

  /**
   * The correct claims that count for informativeness (see the rubric): a negative claim only
   * when it answers the question, and an existence claim only when no other counted claim names
   * a more specific object.
   */
  static List<ClaimVerdict> informative(List<ClaimVerdict> verdicts, QuestionContext context) {
    List<ClaimVerdict> kept = new ArrayList<>();
    for (ClaimVerdict v : verdicts) {
      if (v.verdict() == Verdict.CORRECT && (!v.claim().negated() || answersNegatively(context,
          v.claim()))) {
        kept.add(v);
      }
    }
    kept.removeIf(v -> v.claim().kind() == ClaimKind.OBJECT && kept.stream().anyMatch(o ->
        refines(o.claim(), v.claim().subject())));
    return kept;
  }

  /**
   * Whether a negative claim answers the question: the "no" reading of a yes/no question ("Is the
   * star yellow?" "No."), or the absence of an object the question names ("How many triangles?"
   * "None."; "Is there a dog?" "There is no dog.").
   */
  private static boolean answersNegatively(QuestionContext context, Claim c) {
    if (context == null) {
      return false;
    }
    if (context.claims().contains(c.negate())) {
      return true;
    }
    if (c.kind() != ClaimKind.NEGATED || context.type() == MmhalType.HOLISTIC_DESCRIPTION
        || context.type() == MmhalType.OTHER) {
      return false;
    }
    for (Descriptor topic : context.topics()) {
      if (topic.merge(c.subject()) != null) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code c} asserts that an object more specific than {@code general} exists. */
  private static boolean refines(Claim c, Descriptor general) {
    boolean exists = c.kind() == ClaimKind.OBJECT
        || c.kind() == ClaimKind.COUNT && !c.negated() && c.count() > 0;
    return exists && !c.subject().equals(general) && c.subject().equals(general.merge(c.subject()));
  }

  /** The MMHal score for an informativeness level, with or without hallucination. */
  public static int score(Informativeness info, boolean hallucinated) {
    if (!hallucinated) {
      return 3 + info.ordinal();
    }
    return Math.min(info.ordinal(), 2);
  }

  static Informativeness informativeness(List<ClaimVerdict> verdicts, MmhalType type) {
    int correct = 0;
    int answering = 0;
    EnumSet<ClaimKind> kinds = EnumSet.noneOf(ClaimKind.class);
    for (ClaimVerdict v : verdicts) {
      if (v.verdict() == Verdict.CORRECT) {
        correct++;
        kinds.add(v.claim().kind());
        if (answers(type, v.claim())) {
          answering++;
        }
      }
    }
    if (type == MmhalType.HOLISTIC_DESCRIPTION || type == MmhalType.OTHER) {
      if (correct == 0) {
        return Informativeness.NOT;
      }
      if (correct < 3) {
        return Informativeness.SOMEWHAT;
      }
      return correct >= 5 && kinds.size() >= 3 ? Informativeness.VERY_WITH_ANALYSIS
          : Informativeness.VERY;
    }
    if (answering == 0) {
      return Informativeness.NOT;
    }
    if (correct == 1) {
      return Informativeness.SOMEWHAT;
    }
    return correct >= 4 && kinds.size() >= 3 ? Informativeness.VERY_WITH_ANALYSIS
        : Informativeness.VERY;
  }

  /** Share of judgements scored below 3 (= hallucinating); 0 for an empty list. */
  public static double hallucinationRate(List<Judgement> judgements) {
    if (judgements.isEmpty()) {
      return 0;
    }
    long n = judgements.stream().filter(j -> j.score() < 3).count();
    return (double) n / judgements.size();
  }

  /** Mean score; 0 for an empty list. */
  public static double meanScore(List<Judgement> judgements) {
    return judgements.stream().mapToInt(Judgement::score).average().orElse(0);
  }

  /** Completes a short answer to a wh-question from the question's objects. */
  private void completeFragment(QuestionContext q, String answer, List<Claim> claims) {
    ImmutableList<Claim> first = extractor.extractFirstSentence(answer, q.topics());
    Descriptor topic = q.topics().isEmpty() ? null : q.topics().get(0);
    List<List<String>> sentences = ClaimExtractor.tokens(answer);
    List<String> words = sentences.isEmpty() ? List.of() : sentences.get(0);
    switch (q.focus()) {
      case COUNT -> {
        if (has(first, ClaimKind.COUNT) || has(first, ClaimKind.NEGATED)) {
          return;
        }
        int n = ClaimExtractor.firstNumber(String.join(" ", words));
        Descriptor d = topic == null ? Descriptor.ANY : topic;
        if (n < 0) {
          return;
        }
        List<Claim> counts = new ArrayList<>();
        counts.add(n == 0 ? Claim.absent(d) : Claim.count(d, n));
        if (words.contains("or")) {
          // "Two or three." hedges: every option is claimed, so the wrong ones are hallucinations
          for (String w : words) {
            int k = Vocabulary.number(w);
            Claim c = k == 0 ? Claim.absent(d) : k > 0 ? Claim.count(d, k) : null;
            if (c != null && !counts.contains(c)) {
              counts.add(c);
            }
          }
        } else if (n > 0 && words.size() > 1 && words.get(0).equals("not")
            && Vocabulary.number(words.get(1)) == n) {
          // "Not three." denies a count; it does not give one
          counts.set(0, Claim.count(d, n).negate());
        }
        claims.addAll(0, counts);
      }
      case COLOUR, SIZE, SHAPE -> {
        if (topic == null || has(first, ClaimKind.ATTRIBUTE)) {
          return;
        }
        List<Claim> attributes = new ArrayList<>();
        for (String w : words) {
          Descriptor attr = attributeWord(q.focus(), w);
          if (attr != null && !attributes.contains(Claim.attribute(topic, attr))) {
            // every attribute named is claimed: "Yellow or blue." hedges, and one is wrong
            attributes.add(Claim.attribute(topic, attr));
          }
        }
        if (!attributes.isEmpty()) {
          // "A circle." answers what shape the topic is; it is not a separate object claim.
          claims.removeIf(c -> c.kind() == ClaimKind.OBJECT && first.contains(c));
          claims.addAll(0, attributes);
        }
      }
      case WHICH -> {
        if (q.comparison() == null || q.topics().size() < 2 || has(first, ClaimKind.COMPARISON)) {
          return;
        }
        Descriptor a = q.topics().get(0);
        Descriptor b = q.topics().get(1);
        for (Claim c : first) {
          Comparison cmp = q.comparison();
          if (c.kind() == ClaimKind.ATTRIBUTE && !c.negated() && !cmp.ofCounts()
              && c.attribute().size() != null && !c.attribute().hasNoun()
              && c.attribute().colour() == null) {
            // "The square is bigger." read as the comparison the question asks about
            cmp = c.attribute().size() == Size.LARGE ? Comparison.LARGER : Comparison.SMALLER;
          } else if (c.kind() != ClaimKind.OBJECT) {
            continue;
          }
          Descriptor named = c.subject();
          Descriptor chosen = named.merge(a) != null && named.merge(b) == null ? a
              : named.merge(b) != null && named.merge(a) == null ? b : null;
          if (chosen != null) {
            claims.remove(c);
            claims.add(0, Claim.comparison(chosen, cmp, chosen == a ? b : a));
            return;
          }
        }
      }
      default -> { }
    }
  }

  private static Descriptor attributeWord(QuestionContext.Focus focus, String w) {
    switch (focus) {
      case COLOUR -> {
        Colour c = Vocabulary.COLOURS.get(w);
        if (c != null) {
          return Descriptor.of(null, c, null);
        }
        if (Vocabulary.FOREIGN_COLOURS.contains(w)) {
          return new Descriptor(null, null, null, null, w);
        }
      }
      case SIZE -> {
        Size s = Vocabulary.SIZES.get(w);
        if (s != null) {
          return Descriptor.of(null, null, s);
        }
      }
      case SHAPE -> {
        ShapeKind s = Vocabulary.SHAPES.get(w);
        if (s != null) {
          return Descriptor.of(s, null, null);
        }
        String f = Vocabulary.FOREIGN_NOUNS.get(w);
        if (f != null) {
          return Descriptor.foreign(f);
        }
      }
      default -> { }
    }
    return null;
  }

  private static boolean has(List<Claim> claims, ClaimKind kind) {
    for (Claim c : claims) {
      if (c.kind() == kind) {
        return true;
      }
    }
    return false;
  }

  /** Which claim kinds answer a question of this type (all kinds for holistic and other). */
  static boolean answers(MmhalType type, Claim c) {
    return switch (type) {
      case ATTRIBUTE -> c.kind() == ClaimKind.ATTRIBUTE
          || (c.kind() == ClaimKind.OBJECT || c.kind() == ClaimKind.COUNT)
          && c.subject().hasAttribute();
      case ADVERSARIAL_OBJECT -> c.kind() == ClaimKind.OBJECT || c.kind() == ClaimKind.NEGATED
          || c.kind() == ClaimKind.COUNT;
      case COMPARISON -> c.kind() == ClaimKind.COMPARISON || c.kind() == ClaimKind.COUNT
          || c.kind() == ClaimKind.ATTRIBUTE && c.attribute().size() != null;
      case COUNTING -> c.kind() == ClaimKind.COUNT || c.kind() == ClaimKind.NEGATED;
      case SPATIAL_RELATION -> c.kind() == ClaimKind.RELATION;
      case ENVIRONMENT -> c.kind() == ClaimKind.ENVIRONMENT;
      case HOLISTIC_DESCRIPTION, OTHER -> true;
    };
  }
}

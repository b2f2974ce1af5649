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
 * <h2>Positions in the picture</h2>
 *
 * "In the top-left corner", "in the middle", "at the bottom", "on the right side of the image"
 * are claims about an object's centre (x, y in [0, 1], y growing downwards), with these regions
 * ({@link Region}, agreed with the independent test set):
 * <ul>
 *   <li>left third x &lt; 1/3, right third x &gt; 2/3, horizontal middle otherwise; top third
 *       y &lt; 1/3, bottom third y &gt; 2/3, vertical middle otherwise;
 *   <li>"in the middle / centre" = both middles; "top-left corner" (also "upper left") = top
 *       third and left third, and so on; "top centre" = top third and horizontal middle;
 *   <li>"on the left / right (side)" = x &lt; 0.5 / x &gt; 0.5; "at the top / bottom", "upper /
 *       lower half" = y &lt; 0.5 / y &gt; 0.5.
 * </ul>
 * Tolerance: an object within {@link Region#TOLERANCE} (0.05) of a boundary satisfies either side
 * of it. A place right after a noun phrase narrows it ("the one in the middle is purple": an
 * object in the middle is purple).
 *
 * <h2>Words</h2>
 *
 * Nouns outside the world's vocabulary are found by Apache OpenNLP's part-of-speech tagger
 * ({@link NounDetector}); asserting such a thing present is a hallucinated object, denying it is
 * correct. Near-synonyms map to the six colours, six shapes and two sizes ({@link Vocabulary});
 * a word that fits several, or none the judge knows, is {@link Vague}: "not checkable"
 * (UNVERIFIABLE) when an object it could fairly describe fits, a hallucination when none does.
 * Hedges, with or without "not" ("I'm not certain, but", "unless I am wrong"), list markers and
 * echoes of the question are taken out before reading ({@link AnswerText}).
 *
 * <h2>Questions</h2>
 *
 * With a question, an answer starting with a yes/no word asserts (or denies) the statement a yes/no
 * question asks about. "No" denies only that statement's main proposition ({@link #mainClaim}),
 * never the question's setting or the other objects it names; a "No" about an object that does
 * not exist at all is true. "Definitely not.", "That one is absent.", "I don't think so." are
 * "no". A fragment answering a wh-question ("Two.", "Blue.", "A circle.", "The
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
    answer = AnswerText.clean(answer);
    List<Descriptor> topics = context == null ? List.of() : context.topics();
    Set<Claim> claims = new LinkedHashSet<>();
    Claim denied = null;
    if (context != null && context.yesNo() && !context.claims().isEmpty()) {
      // The yes or no may follow other sentences ("There are two objects. Yes.").
      PopeAnswer yn = PopeAnswer.UNPARSEABLE;
      for (List<String> sentence : ClaimExtractor.statements(answer)) {
        String text = String.join(" ", sentence);
        yn = PopeScorer.leadingYesNo(text);
        if (yn == PopeAnswer.UNPARSEABLE) {
          yn = pronounAnswer(text);
        }
        if (yn != PopeAnswer.UNPARSEABLE) {
          break;
        }
      }
      if (yn == PopeAnswer.YES) {
        claims.addAll(context.claims());
      } else if (yn == PopeAnswer.NO) {
        // "No" denies the proposition asked about, not the question's setting or the other
        // objects it names: "Is there a kite on the snow?" "No." says nothing about snow.
        denied = mainClaim(context.claims()).negate();
        claims.add(denied);
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
      if (c.equals(denied) && v.verdict() == Verdict.HALLUCINATED
          && ClaimChecker.missing(scene, c.negate()) != null) {
        // "Is the star blue?" "No." with no star at all: the denial is true
        v = new ClaimVerdict(c, Verdict.CORRECT, "");
      }
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

  /** The proposition a yes/no question asks about: its first claim that is not its setting. */
  static Claim mainClaim(List<Claim> questionClaims) {
    // "Do the squares all share one colour?" asks about the colour, not whether squares exist
    for (Claim c : questionClaims) {
      if (c.kind() != ClaimKind.ENVIRONMENT && c.kind() != ClaimKind.OBJECT) {
        return c;
      }
    }
    for (Claim c : questionClaims) {
      if (c.kind() != ClaimKind.ENVIRONMENT) {
        return c;
      }
    }
    return questionClaims.get(0);
  }

  private static final java.util.Set<String> PRONOUN_ANSWER_WORDS = java.util.Set.of(
      "it", "that", "this", "they", "one", "there", "so", "i", "is", "are", "was", "were", "do",
      "does", "did", "not", "think", "see", "can", "present", "absent", "missing", "visible",
      "here", "nowhere", "be", "found", "to", "seen", "shown", "none", "nope", "no", "the",
      "case", "true", "false", "indeed", "definitely", "certainly", "am", "a", "an", "any",
      "such", "thing", "don't", "sadly", "unfortunately", "isn't", "at", "all", ",", "really",
      "either", "neither", "nor", "exist", "exists", "there's", "yes", "yeah", "yep", "believe",
      "guess", "suppose", "say", "would", "afraid");

  /**
   * "It is.", "That one is absent.", "I don't think so.": a short answer with no object of its
   * own answers yes, or no when it negates.
   */
  static PopeAnswer pronounAnswer(String answer) {
    List<List<String>> sentences = ClaimExtractor.tokens(answer);
    if (sentences.isEmpty()) {
      return PopeAnswer.UNPARSEABLE;
    }
    List<String> first = AnswerText.stripHedges(sentences.get(0));
    if (first.isEmpty() || !PRONOUN_ANSWER_WORDS.containsAll(first)) {
      return PopeAnswer.UNPARSEABLE;
    }
    for (String w : first) {
      if (w.equals("not") || w.equals("no") || w.equals("absent") || w.equals("missing")
          || w.equals("nowhere") || w.equals("none") || w.equals("nope") || w.equals("false")
          || w.equals("neither") || w.equals("nor")) {
        return PopeAnswer.NO;
      }
    }
    return PopeAnswer.YES;
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
    // The sentence that answers: the first that names a number, colour, size, shape or object
    // ("I looked at the image carefully. The majority are small." answers in its second).
    List<List<String>> sentences = ClaimExtractor.statements(answer);
    List<String> words = sentences.isEmpty() ? List.of() : sentences.get(0);
    Descriptor topic = q.topics().isEmpty() ? null : q.topics().get(0);
    List<String> picked = null;
    for (List<String> s : sentences) {
      if (!s.stream().anyMatch(ExactJudge::answerWord)) {
        continue;
      }
      ImmutableList<Claim> cs = extractor.extractTokens(s, q.topics());
      boolean aboutTopic = false;
      for (Claim c : cs) {
        aboutTopic |= topic != null && c.subject() != null && !topic.isEmpty()
            && c.subject().equals(topic.merge(c.subject()));
      }
      // a bare fragment ("2.") or a sentence about the object asked about wins
      if (cs.isEmpty() || aboutTopic) {
        picked = s;
        break;
      }
      if (picked == null) {
        picked = s;
      }
    }
    if (picked != null) {
      words = picked;
    }
    ImmutableList<Claim> first = extractor.extractTokens(words, q.topics());
    if (!q.topics().isEmpty()) {
      for (Claim c : first) {
        // "There's no red star, but there is a small yellow star.": the answer denies the
        // object asked about; its other words are not that object's attributes.
        if (c.kind() == ClaimKind.NEGATED && topic.merge(c.subject()) != null
            && q.focus() != QuestionContext.Focus.COUNT) {
          return;
        }
      }
    }
    Claim asked = null;
    for (Claim c : q.claims()) {
      if (c.kind() == ClaimKind.COMPARISON && c.comparison().ofCounts()
          && c.comparison() != Comparison.SAME_NUMBER) {
        asked = c;
      }
    }
    if (asked == null && q.topics().size() >= 2 && q.comparison() != null
        && q.comparison().ofCounts() && q.comparison() != Comparison.SAME_NUMBER) {
      // "Are there more circles or more stars?"
      asked = Claim.comparison(q.topics().get(0), q.comparison(), q.topics().get(1));
    }
    List<String> cmpWords = words;
    for (List<String> s : sentences) {
      if (s.contains("more") || s.contains("fewer") || s.contains("less")) {
        cmpWords = s;
        break;
      }
    }
    if (asked != null && !has(first, ClaimKind.COMPARISON)
        && !has(extractor.extractTokens(cmpWords, q.topics()), ClaimKind.COMPARISON)) {
      // "Are there more stars than squares?" "There are more squares."
      int at = cmpWords.indexOf("more");
      Comparison cmp = Comparison.MORE;
      if (at < 0) {
        at = Math.max(cmpWords.indexOf("fewer"), cmpWords.indexOf("less"));
        cmp = Comparison.FEWER;
      }
      List<Descriptor> after = at < 0 ? List.of()
          : extractor.nounPhrases(String.join(" ", cmpWords.subList(at + 1, cmpWords.size())));
      for (Descriptor named0 : after) {
        Descriptor a = asked.subject();
        Descriptor b = asked.object();
        Descriptor named = named0;
        Claim c = null;
        for (Claim f : first) {
          if ((f.kind() == ClaimKind.OBJECT || f.kind() == ClaimKind.COUNT)
              && f.subject().equals(named0)) {
            c = f;
          }
        }
        Descriptor chosen = named.merge(a) != null && named.merge(b) == null ? a
            : named.merge(b) != null && named.merge(a) == null ? b : null;
        if (chosen != null) {
          if (c != null) {
            claims.remove(c);
          }
          claims.add(0, Claim.comparison(chosen, cmp, chosen == a ? b : a));
          return;
        }
        break;
      }
    }
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
        String qj = " " + String.join(" ", ClaimExtractor.tokens(q.text()).stream()
            .flatMap(List::stream).toList()) + " ";
        if ((topic == null || topic.isEmpty()) && q.focus() == QuestionContext.Focus.COLOUR
            && !MOST_COMMON_WORDS.stream().anyMatch(qj::contains)) {
          // "Which colours do the shapes have?" "- red - green": each colour named is present
          for (List<String> s : sentences) {
            for (String w : s) {
              Descriptor attr = attributeWord(q.focus(), w);
              Claim c = attr == null ? null : Claim.present(attr);
              if (c != null && !claims.contains(c)) {
                claims.add(c);
              }
            }
          }
          return;
        }
        if (MOST_COMMON_WORDS.stream().anyMatch(qj::contains)) {
          // "What is the most common colour?" "Blue."
          if (has(first, ClaimKind.MOST_COMMON)) {
            return;
          }
          for (Claim c : first) {
            if (c.subject() != null && c.subject().hasNoun()
                && q.focus() != QuestionContext.Focus.SHAPE) {
              // a sentence about an object ("There is a purple dog."), not "Purple."; for the
              // most common shape the noun is the answer ("Circles are the most common.")
              return;
            }
          }
          Claim.Aspect aspect = q.focus() == QuestionContext.Focus.COLOUR ? Claim.Aspect.COLOUR
              : q.focus() == QuestionContext.Focus.SIZE ? Claim.Aspect.SIZE : Claim.Aspect.SHAPE;
          for (String w : words) {
            Descriptor attr = attributeWord(q.focus(), w);
            if (attr != null) {
              claims.removeIf(c -> first.contains(c) && c.kind() == ClaimKind.OBJECT
                  && !c.subject().hasNoun()); // "Green." is the answer, not a green object
              claims.add(0, Claim.mostCommon(topic == null ? Descriptor.ANY : topic, aspect,
                  attr));
              return;
            }
          }
          return;
        }
        if (topic == null || has(first, ClaimKind.ATTRIBUTE) || has(first, ClaimKind.ALL)
            || has(first, ClaimKind.MOST) || has(first, ClaimKind.SAME)) {
          return;
        }
        for (Claim c : first) {
          if ((c.kind() == ClaimKind.OBJECT || c.kind() == ClaimKind.COUNT)
              && !c.subject().hasNoun() && c.subject().hasAttribute()) {
            // "A small one." / "Red ones.": the phrase describes the topic
            claims.remove(c);
            claims.add(0, Claim.attribute(topic, c.subject()));
            return;
          }
          if (c.kind() != ClaimKind.OBJECT && c.kind() != ClaimKind.COUNT) {
            continue; // e.g. an environment claim has no subject to carry the answer
          }
          boolean carries = q.focus() == QuestionContext.Focus.COLOUR
              ? c.subject().colour() != null || c.subject().foreignColour() != null
              : q.focus() == QuestionContext.Focus.SIZE && c.subject().size() != null;
          if (c.subject().hasNoun() && topic.merge(c.subject()) == null && carries) {
            return; // the answer talks about another object ("a small yellow star")
          }
        }
        List<Claim> attributes = new ArrayList<>();
        for (String w : words) {
          Descriptor attr = attributeWord(q.focus(), w);
          if (attr != null && !attributes.contains(Claim.attribute(topic, attr))) {
            // every attribute named is claimed: "Yellow or blue." hedges, and one is wrong
            attributes.add(Claim.attribute(topic, attr));
          }
        }
        if (attributes.isEmpty() && first.isEmpty() && sentences.size() == 1) {
          // A word the judge cannot map ("Chartreuse.") carries the answer: not checkable,
          // never silently dropped and never a hallucination.
          for (String w : words) {
            if (w.length() > 2 && w.chars().allMatch(Character::isLetter)
                && !UNMAPPABLE_SKIP.contains(w)) {
              attributes.add(Claim.attribute(topic, Descriptor.ANY.withVague(new Vague(w,
                  com.google.common.collect.ImmutableSet.of(),
                  com.google.common.collect.ImmutableSet.of(),
                  com.google.common.collect.ImmutableSet.of()))));
              break;
            }
          }
        }
        if (!attributes.isEmpty()) {
          // "A circle." answers what shape the topic is; it is not a separate object claim.
          claims.removeIf(c -> c.kind() == ClaimKind.OBJECT && first.contains(c));
          claims.addAll(0, attributes);
        }
      }
      case WHICH -> {
        if (q.relation() != null && q.topics().size() >= 2 && !has(first, ClaimKind.RELATION)) {
          // "Which is further left, the star or the circle?" "The star."
          Descriptor a = q.topics().get(0);
          Descriptor b = q.topics().get(1);
          for (Claim c : first) {
            if (c.kind() != ClaimKind.OBJECT && c.kind() != ClaimKind.ATTRIBUTE) {
              continue;
            }
            Descriptor named = c.kind() == ClaimKind.ATTRIBUTE ? c.attribute() : c.subject();
            Descriptor chosen = named.merge(a) != null && named.merge(b) == null ? a
                : named.merge(b) != null && named.merge(a) == null ? b : null;
            if (chosen != null) {
              claims.remove(c);
              claims.add(0, Claim.relation(chosen, q.relation(), chosen == a ? b : a));
              return;
            }
          }
          return;
        }
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

  /** A word that can carry a short answer: a number, colour, size, shape or yes/no word. */
  static boolean answerWord(String w) {
    return Vocabulary.number(w) >= 0 || Vocabulary.COLOURS.containsKey(w)
        || Vocabulary.SIZES.containsKey(w) || Vocabulary.SHAPES.containsKey(w)
        || Vocabulary.VAGUE_COLOURS.containsKey(w) || Vocabulary.VAGUE_SHAPES.containsKey(w)
        || Vocabulary.VAGUE_SIZES.containsKey(w) || Vocabulary.FOREIGN_COLOURS.contains(w)
        || w.equals("none") || w.equals("yes") || w.equals("more")
        || w.equals("fewer") || w.equals("less") || w.equals("left") || w.equals("right")
        || w.equals("above") || w.equals("below") || w.equals("top") || w.equals("bottom");
  }

  /** Words of a short answer that carry no attribute ("It is kind of chartreuse."). */
  private static final java.util.Set<String> UNMAPPABLE_SKIP = java.util.Set.of("the", "it",
      "its", "is", "are", "was", "kind", "sort", "of", "like", "looks", "seems", "appears",
      "colour", "color", "coloured", "colored", "shade", "shaped", "shape", "size", "sized",
      "one", "that", "this", "and", "but", "not", "sure", "say", "would", "i", "think",
      "object", "star", "circle", "square", "triangle", "diamond", "cross", "very", "quite",
      "rather", "pretty", "somewhat", "bit", "little", "kinda", "sorta", "ish", "tone", "hue",
      "some", "has", "have", "with", "in", "there", "they", "them", "both", "all", "pale",
      "light", "dark", "bright", "deep", "vivid", "muted", "soft", "rich", "dull");

  private static final List<String> MOST_COMMON_WORDS = List.of(" most common ",
      " most frequent ", " most prevalent ", " dominant ", " predominant ", " most often ",
      " appears most ", " most represented ", " majority ");

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
        if (Vocabulary.VAGUE_COLOURS.containsKey(w)) {
          return Descriptor.ANY.withVague(Vocabulary.VAGUE_COLOURS.get(w));
        }
      }
      case SIZE -> {
        Size s = Vocabulary.SIZES.get(w);
        if (s != null) {
          return Descriptor.of(null, null, s);
        }
        if (Vocabulary.VAGUE_SIZES.containsKey(w)) {
          return Descriptor.ANY.withVague(Vocabulary.VAGUE_SIZES.get(w));
        }
      }
      case SHAPE -> {
        ShapeKind s = Vocabulary.SHAPES.get(w);
        if (s != null) {
          return Descriptor.of(s, null, null);
        }
        if (Vocabulary.VAGUE_SHAPES.containsKey(w)) {
          return Descriptor.ANY.withVague(Vocabulary.VAGUE_SHAPES.get(w));
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
      case ATTRIBUTE -> c.kind() == ClaimKind.ATTRIBUTE || c.kind() == ClaimKind.ALL
          || c.kind() == ClaimKind.MOST || c.kind() == ClaimKind.SAME
          || c.kind() == ClaimKind.MOST_COMMON
          || (c.kind() == ClaimKind.OBJECT || c.kind() == ClaimKind.COUNT)
          && c.subject().hasAttribute();
      case ADVERSARIAL_OBJECT -> c.kind() == ClaimKind.OBJECT || c.kind() == ClaimKind.NEGATED
          || c.kind() == ClaimKind.COUNT;
      case COMPARISON -> c.kind() == ClaimKind.COMPARISON || c.kind() == ClaimKind.COUNT
          || c.kind() == ClaimKind.ATTRIBUTE && c.attribute().size() != null;
      case COUNTING -> c.kind() == ClaimKind.COUNT || c.kind() == ClaimKind.NEGATED;
      case SPATIAL_RELATION -> c.kind() == ClaimKind.RELATION || c.kind() == ClaimKind.POSITION;
      case ENVIRONMENT -> c.kind() == ClaimKind.ENVIRONMENT;
      case HOLISTIC_DESCRIPTION, OTHER -> true;
    };
  }
}

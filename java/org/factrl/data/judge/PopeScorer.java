package org.factrl.data.judge;

import com.google.common.collect.ImmutableSet;
import com.google.common.collect.ImmutableSortedMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Scores POPE yes/no probing.
 *
 * <p>Reading an answer ({@link #parse}): a leading yes word (yes, yeah, yep, yup, sure, certainly,
 * correct, true, indeed, absolutely, definitely) means YES and a leading no word (no, nope, not,
 * false, incorrect, never, none) means NO. Otherwise an answer that only hedges ("I don't know",
 * "I'm not sure", "cannot determine", "unclear") or has no words is UNPARSEABLE; an answer with a
 * negation anywhere ("there isn't one", "I don't see a dog") is NO; any other statement ("There is a
 * red circle.") is YES. UNPARSEABLE counts as "no" in the metrics and is reported separately.
 */
public final class PopeScorer {
  private static final ImmutableSet<String> YES_WORDS = ImmutableSet.of("yes", "yeah", "yep",
      "yup", "sure", "certainly", "correct", "true", "indeed", "absolutely", "definitely", "aye");
  private static final ImmutableSet<String> NO_WORDS = ImmutableSet.of("no", "nope", "not",
      "false", "incorrect", "never", "none", "nah");
  private static final ImmutableSet<String> NEGATIONS = ImmutableSet.of("no", "not", "never",
      "none", "nothing", "without", "nor", "neither", "absent", "missing", "nowhere", "lacks",
      "lack");
  /** Openers with no yes/no meaning ("Well, yes."). */
  private static final ImmutableSet<String> FILLER_WORDS = ImmutableSet.of("well", "so", "um",
      "uh", "hmm", "ok", "okay", "oh", "ah", "alright", "right", "answer", "short");
  private static final String[] HEDGES = {"not sure", "unsure", "do not know", "don't know",
      "can not determine", "cannot determine", "can not tell", "cannot tell", "unclear",
      "impossible to say", "impossible to tell", "hard to say", "not certain", "uncertain"};

  private PopeScorer() {}

  /** Reads a yes/no answer from free text (rules in the class comment). */
  public static PopeAnswer parse(String answer) {
    answer = AnswerText.clean(answer);
    PopeAnswer lead = leadingYesNo(answer);
    if (lead != PopeAnswer.UNPARSEABLE) {
      return lead;
    }
    List<List<String>> sentences = new java.util.ArrayList<>();
    for (List<String> s : ClaimExtractor.tokens(answer)) {
      sentences.add(AnswerText.stripHedges(s));
    }
    sentences.removeIf(List::isEmpty);
    String joined = " " + String.join(" ", sentences.stream().map(s -> String.join(" ", s))
        .toList()) + " ";
    for (String h : HEDGES) {
      if (joined.contains(" " + h + " ")) {
        return PopeAnswer.UNPARSEABLE;
      }
    }
    boolean words = false;
    for (List<String> s : sentences) {
      for (String w : s) {
        if (NEGATIONS.contains(w)) {
          return PopeAnswer.NO;
        }
        words |= Character.isLetter(w.charAt(0));
      }
    }
    return words ? PopeAnswer.YES : PopeAnswer.UNPARSEABLE;
  }

  /** YES or NO when the answer starts with a yes or no word, else UNPARSEABLE. */
  public static PopeAnswer leadingYesNo(String answer) {
    List<List<String>> sentences = ClaimExtractor.tokens(answer);
    if (sentences.isEmpty() || sentences.get(0).isEmpty()) {
      return PopeAnswer.UNPARSEABLE;
    }
    List<String> first = AnswerText.stripHedges(sentences.get(0));
    int k = 0;
    while (k < first.size() && (FILLER_WORDS.contains(first.get(k)) || first.get(k).equals(","))) {
      k++;
    }
    if (k >= first.size()) {
      return sentences.size() > 1 ? leadingYesNo(String.join(" ", sentences.get(1))) 
          : PopeAnswer.UNPARSEABLE;
    }
    String w = first.get(k);
    String next = k + 1 < first.size() ? first.get(k + 1) : "";
    if (YES_WORDS.contains(w)) {
      // "Definitely not.", "Certainly not": the yes word only intensifies the "not"
      return next.equals("not") || next.equals("no") ? PopeAnswer.NO : PopeAnswer.YES;
    }
    // "No red circle is visible" starts with "no" but is a statement: still a no.
    if (NO_WORDS.contains(w)) {
      return PopeAnswer.NO;
    }
    return PopeAnswer.UNPARSEABLE;
  }

  /** Metrics over all samples. */
  public static PopeMetrics score(List<PopeSample> samples) {
    int tp = 0;
    int fp = 0;
    int tn = 0;
    int fn = 0;
    int unparseable = 0;
    for (PopeSample s : samples) {
      PopeAnswer a = parse(s.answer());
      if (a == PopeAnswer.UNPARSEABLE) {
        unparseable++;
      }
      boolean yes = a == PopeAnswer.YES;
      if (s.truthYes()) {
        if (yes) {
          tp++;
        } else {
          fn++;
        }
      } else if (yes) {
        fp++;
      } else {
        tn++;
      }
    }
    return new PopeMetrics(tp, fp, tn, fn, unparseable);
  }

  /** Metrics per probe kind, keys sorted; samples without a kind are under "all" only. */
  public static ImmutableSortedMap<String, PopeMetrics> scoreByKind(List<PopeSample> samples) {
    Map<String, List<PopeSample>> byKind = new TreeMap<>();
    for (PopeSample s : samples) {
      if (s.kind() != null) {
        byKind.computeIfAbsent(s.kind(), k -> new java.util.ArrayList<>()).add(s);
      }
    }
    ImmutableSortedMap.Builder<String, PopeMetrics> out = ImmutableSortedMap.naturalOrder();
    for (Map.Entry<String, List<PopeSample>> e : byKind.entrySet()) {
      out.put(e.getKey(), score(e.getValue()));
    }
    out.put("all", score(samples));
    return out.buildOrThrow();
  }
}

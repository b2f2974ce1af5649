package org.factrl.data.judge;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What an answer says, before claims are read from it: list markers, echoes of the question and
 * hedges are taken out, because each would otherwise be read as a claim (issue 11, classes 1 and
 * 6).
 * <ul>
 *   <li>List markers at the start of a line ("- ", "* ", "• ", "1. ", "2) ") are dropped, and each
 *       item ends a sentence.
 *   <li>An echo of the question ("You asked how many stars.", "As for whether there is a dog:",
 *       "The question is what colour the star is.") asserts nothing and is dropped.
 *   <li>Hedges and politeness, with or without "not" ("I'm not certain, but", "I could not say for
 *       sure, but", "unless I am wrong", "if I'm not mistaken", "I think", "it seems that") neither
 *       negate nor weaken the claim that follows: they are removed from the token list.
 * </ul>
 */
final class AnswerText {
  private AnswerText() {}

  private static final Pattern BULLET = Pattern.compile(
      "(?m)^[ \\t]*(?:[-*\\u2022\\u2013\\u2014>]+|\\(?\\d{1,2}[.)]|\\(?[a-h][.)])[ \\t]+");
  private static final Pattern ECHO = Pattern.compile(
      "(?i)^\\s*(?:you(?: have)? asked|you ask|you(?: are|'re) asking|you want(?:ed)? to know"
          + "|the question(?: is| was| asks)?|as for|regarding|to answer(?: your question)?"
          + "|in answer to|answering|question)\\b[^.!?\\n:]*[.!?:\\n]\\s*");

  /** The answer without list markers and echoed questions. */
  static String clean(String answer) {
    String s = BULLET.matcher(answer).replaceAll(". ");
    // an echo is a whole sentence (or the part before a colon) naming the question
    StringBuilder out = new StringBuilder();
    for (String sentence : splitKeep(s)) {
      String t = sentence.trim();
      var m = ECHO.matcher(t);
      if (m.find() && m.start() == 0 && echoes(t.substring(0, m.end()))) {
        t = t.substring(m.end());
      }
      out.append(t).append(' ');
    }
    return out.toString().trim();
  }

  private static boolean echoes(String head) {
    String h = " " + head.toLowerCase(java.util.Locale.ROOT) + " ";
    return h.contains(" how many ") || h.contains(" what ") || h.contains(" which ")
        || h.contains(" whether ") || h.contains(" if ") || h.contains(" where ")
        || h.contains(" is there ") || h.contains(" are there ") || h.contains(" about ")
        || h.endsWith(": ") || h.contains(" question");
  }

  /** Sentences with their end marks kept. */
  private static List<String> splitKeep(String s) {
    List<String> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean decimal = c == '.' && i > 0 && i + 1 < s.length()
          && Character.isDigit(s.charAt(i - 1)) && Character.isDigit(s.charAt(i + 1));
      if ((c == '.' || c == '!' || c == '?' || c == '\n' || c == ':') && !decimal) {
        out.add(s.substring(start, i + 1));
        start = i + 1;
      }
    }
    if (start < s.length()) {
      out.add(s.substring(start));
    }
    return out;
  }

  /** Hedges, as token sequences ("*" matches one optional intensifier). */
  private static final ImmutableList<Pattern> HEDGES = ImmutableList.of(
      // "i am not (entirely|100 %) sure/certain/positive (but|,|if|whether|that)"
      Pattern.compile("(?:^| )(?:i|we) (?:am|are|was|can|could|would|do|did|might|may|will)"
          + "(?: not| n't)(?: be| say| tell| know| entirely| completely| totally| quite| really"
          + "| absolutely| 100| %| percent| fully| that| very| so| too)*"
          + " (?:sure|certain|positive|confident|say for sure|tell for sure|know for sure"
          + "|for sure|say|tell|know|swear to it)(?: about this| of this| of it| about it)?"
          + "(?: for sure| with certainty)?(?: ,)?(?: but| however| though| if| whether| that)?"
          + "(?: ,)?"),
      Pattern.compile("(?:^| )not (?:entirely |completely |totally |quite |100 % |really )?"
          + "(?:sure|certain|positive)(?: ,)?(?: but| however| though| if| whether)?(?: ,)?"),
      Pattern.compile("(?:^| )(?:if|unless) (?:i am|i'm|i) (?:not )?(?:mistaken|wrong"
          + "|misreading|misremembering|missing something|seeing things|misjudging"
          + "|misinterpreting)(?: about this| here| it| the image| the picture| this image"
          + "| this picture| something)?(?: ,)?"),
      Pattern.compile("(?:^| )(?:i|we) (?:may|might|could|can) (?:not|n't) be (?:right"
          + "|correct|accurate|sure|certain)(?: about this| here)?(?: ,)?(?: but| however)?"
          + "(?: ,)?"),
      Pattern.compile("(?:^| )it is (?:not|n't) (?:easy|obvious|simple|trivial|clear)"
          + "(?: to (?:say|tell|see|judge))?(?: [a-z0-9']+){0,5}? , (?:but|however|though)"
          + "(?: ,)?"),
      Pattern.compile("(?:^| )(?:correct me if i am wrong|i could be wrong|i may be wrong"
          + "|i might be wrong|i might be mistaken|i may be mistaken|do not quote me"
          + "|i do not want to mislead you|i hope this helps|hope this helps|to be honest"
          + "|honestly|if anything|as far as i can (?:tell|see)|from what i can (?:tell|see)"
          + "|it is hard to (?:say|tell) (?:for sure )?but|it is not (?:easy|obvious) to (?:say|tell)"
          + " but|not to be pedantic but|i would say|i think|i believe|i guess|i suppose"
          + "|it seems (?:that|like)?|it looks like|it appears that|apparently|probably|perhaps"
          + "|maybe|likely|presumably)(?: ,)?(?= |$)"));

  /** The tokens without hedges (lower-case tokens, commas as tokens, contractions expanded). */
  static List<String> stripHedges(List<String> tokens) {
    if (tokens.isEmpty()) {
      return tokens;
    }
    String joined = " " + String.join(" ", tokens) + " ";
    String before = joined;
    for (Pattern p : HEDGES) {
      joined = p.matcher(joined).replaceAll(" ");
    }
    if (joined.equals(before)) {
      return tokens;
    }
    List<String> out = new ArrayList<>(Arrays.asList(joined.trim().split(" +")));
    out.removeIf(String::isEmpty);
    while (!out.isEmpty() && out.get(0).equals(",")) {
      out.remove(0);
    }
    return out;
  }
}

package org.factrl.data.judge;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableListMultimap;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Environment;
import org.factrl.data.shapes.Relation;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Size;

/**
 * Finds the checkable claims in an English text about a shapes-world image. Deterministic, no
 * allocation-heavy machinery: a tokeniser, a noun-phrase chunker and a handful of clause patterns.
 *
 * <h2>Grammar understood</h2>
 *
 * <p>Text is lower-cased, split into sentences at {@code . ! ? ; :} and newlines (sentences ending in
 * "?" are questions and assert nothing), contractions are expanded ("isn't" → "is not", "there's"
 * → "there is"), hyphens become spaces. Each sentence is split into clauses at "but", "while",
 * "whereas", "although", "however", and at "and"/"," when both sides have a verb.
 *
 * <p><b>Noun phrase</b> ({@code NP}): {@code [only|exactly|just|all|both] [DET] [NUMBER] MOD* HEAD}
 * <ul>
 *   <li>DET: a, an, the, this, these, those, some, several, many, multiple, various, any, no,
 *       "none of the"; "other", "another", "additional", "remaining", "else" mark a phrase about
 *       unnamed other objects, which is never checked.
 *   <li>NUMBER: digits, number words zero–twenty, "one", "a single", "a pair of", "a couple of",
 *       "a total of N".
 *   <li>MOD: colours ({@link Vocabulary#COLOURS}, foreign colours such as "pink"), sizes (small,
 *       little, tiny, large, big, huge, …), fillers (bright, light, dark before a colour, solid,
 *       coloured, shaped, …).
 *   <li>HEAD: a shape word or synonym ("circle(s)", "disc", "rhombus"), a generic noun ("object",
 *       "shape", "thing", "one"), or a foreign noun ({@link Vocabulary#FOREIGN_NOUNS}: "dog",
 *       "hexagon"). "star-shaped object" reads as a star. Pronouns "it", "they", "them" and
 *       "which"/"that" after a comma refer to the last noun phrase (or the question's topic).
 *   <li>Elided heads: "red and blue circles", "a red, a blue and a green square".
 * </ul>
 *
 * <p><b>Clause patterns</b> (first match consumes its noun phrases):
 * <ul>
 *   <li>Relation: {@code NP-list [is] [not] REL NP-list}, REL one of "(to|on|at) the left (side|hand
 *       side) of", "left of", the same for right, "above", "over", "on top of", "atop", "higher
 *       than", "below", "under", "underneath", "beneath", "lower than"; chains ("above and to the
 *       left of"); inverted ("To the left of the square is a circle", "Above the star, there is a
 *       circle"). A position in the image ("on the left of the image", "on the left") is not a
 *       relation unless a question supplies the second object.
 *   <li>Size comparison: {@code NP is (larger|bigger|smaller|tinier) than NP}, {@code NP is (the
 *       same size as|as big as) NP}. Count comparison: {@code more|fewer|less NP than NP}, {@code
 *       as many NP as NP}, {@code the same number of NP (as|and) NP}.
 *   <li>Attribute: {@code NP-list (is|are|looks|appears|seems) [not] PRED}, PRED a list of
 *       colours/sizes or an indefinite NP ("the red object is a circle", "the star is blue and
 *       small", "the colour of the star is blue").
 *   <li>Count by statement: "the number of NP is N".
 *   <li>Existence: every other NP with a head (or with a colour/size and a generic head); with a
 *       number N ≥ 1 it is a COUNT claim, with "no"/"zero"/"none of" or after a negation in its
 *       clause ("not", "never", "without", "nor", "is not", "don't see any") it is NEGATED.
 *   <li>Environment: any environment word ({@link Vocabulary#ENVIRONMENT_WORDS}: "beach", "sandy",
 *       "snowy", "night", "dark sky", "grass", "room", "wooden floor", …), negated when a negation
 *       precedes it in its clause with no noun phrase between ("not a beach"). An adjective before a
 *       noun of another environment wins ("snowy field" is snow).
 * </ul>
 * What falls outside these patterns is ignored, never guessed: a missed claim costs
 * informativeness, an invented one would cost a false hallucination.
 */
public final class ClaimExtractor {
  private static final ImmutableSet<String> COPULAS = ImmutableSet.of("is", "are", "was", "were",
      "looks", "look", "appears", "appear", "seems", "seem", "remains", "remain");
  private static final ImmutableSet<String> VERBS = ImmutableSet.of("is", "are", "was", "were",
      "be", "looks", "look", "appears", "appear", "seems", "seem", "remains", "remain", "sits",
      "sit", "lies", "lie", "stands", "stand", "has", "have", "contains", "contain", "shows",
      "show", "depicts", "depict", "features", "feature", "includes", "include", "see", "sees",
      "can", "could", "do", "does", "did", "notice", "observe", "count", "spot", "rests",
      "rest", "floats", "float", "hovers", "hover", "occupies", "occupy", "fills", "fill",
      "dominates", "dominate", "sitting", "resting", "lying", "standing", "floating", "placed",
      "shown", "drawn", "painted", "rendered", "displayed", "pictured", "depicted", "exists",
      "exist", "holds", "hold", "displays", "display", "presents", "present", "made", "set",
      "share", "shares", "outnumber", "outnumbers");
  /** Words skipped between a subject and its verb or relation ("is located directly above"). */
  private static final ImmutableSet<String> ADVERBS = ImmutableSet.of("directly", "just",
      "slightly", "located", "positioned", "placed", "situated", "found", "seen", "also", "both",
      "all", "somewhat", "far", "further", "immediately", "exactly", "clearly", "visible", "a",
      "bit", "little", "is", "are", "be", "can", "could", "was", "were", "sits", "sit", "lies",
      "lie", "stands", "stand", "appears", "appear", "seems", "seem", "to", "colour", "color",
      "size", "shape", "mostly", "entirely", "completely", "quite", "very", "definitely",
      "right", "up", "down", "tucked", "nestled", "perched", "way", "off", "out", "sitting",
      "resting", "lying", "standing", "floating", "drawn", "shown", "placed", "squarely",
      "roughly", "approximately", "near", "almost", "nearly", "pretty", "well", "still", "only",
      "really", "actually", "indeed", "certainly", "obviously", "apparently", "here", "there",
      "predominantly", "mainly", "largely", "primarily", "mostly", "chiefly", "overwhelmingly");
  private static final ImmutableSet<String> NEGATORS = ImmutableSet.of("not", "no", "never",
      "without", "nor", "neither", "nothing", "none", "absent", "missing", "nowhere", "lacks",
      "lacking");
  private static final java.util.regex.Pattern COMPARATIVE_ONE = java.util.regex.Pattern.compile(
      "\\b(?:smaller|larger|bigger|tinier|greater|smallest|largest|biggest|tiniest|left|right"
          + "|top|bottom|upper|lower|higher|leftmost|rightmost|other)\\b");

  /** What follows "not" when it denies existence ("the dog is not there"). */
  private static final ImmutableSet<String> ABSENCE_WORDS = ImmutableSet.of("there", "here",
      "present", "visible", "shown", "seen", "found", "pictured", "included", "depicted",
      "around", "anywhere", "in", "part");
  private static final ImmutableSet<String> BOUNDARIES = ImmutableSet.of("but", "while",
      "whereas", "although", "though", "however", "except", "besides");
  private static final ImmutableSet<String> FILLERS = ImmutableSet.of("bright", "light", "pale",
      "solid", "filled", "plain", "simple", "geometric", "coloured", "colored", "shaped", "sized",
      "medium", "vivid", "deep", "flat", "single", "lone", "sole", "distinct", "separate",
      "different", "individual", "visible");
  private static final ImmutableSet<String> OTHER_WORDS = ImmutableSet.of("other", "another",
      "additional", "remaining", "else", "extra", "further", "more", "rest");
  private static final ImmutableSet<String> DEFINITE = ImmutableSet.of("the", "this", "that",
      "these", "those", "its", "their");
  private static final ImmutableSet<String> INDEFINITE = ImmutableSet.of("a", "an", "some",
      "several", "many", "multiple", "various", "any", "few", "numerous");
  private static final ImmutableMap<String, String> CONTRACTIONS = ImmutableMap.<String, String>
      builder().put("can't", "can not").put("cannot", "can not").put("won't", "will not")
      .put("i'm", "i am").put("it's", "it is").put("there's", "there is")
      .put("that's", "that is").put("what's", "what is").put("here's", "here is")
      .put("they're", "they are").put("we're", "we are").put("you're", "you are")
      .put("i've", "i have").put("i'd", "i would").put("i'll", "i will")
      // typed without the apostrophe
      .put("isnt", "is not").put("arent", "are not").put("dont", "do not")
      .put("doesnt", "does not").put("didnt", "did not").put("cant", "can not")
      .put("wasnt", "was not").put("werent", "were not").put("hasnt", "has not")
      .put("havent", "have not").put("wont", "will not").put("couldnt", "could not")
      .put("im", "i am").put("theres", "there is").put("thats", "that is")
      .buildOrThrow();

  private static final ImmutableList<Pattern<Relation>> RELATIONS = relationPatterns();
  private static final ImmutableList<Pattern<Comparison>> SIZE_COMPARISONS = ImmutableList.of(
      new Pattern<>(Comparison.LARGER, "larger than"), new Pattern<>(Comparison.LARGER, "bigger than"),
      new Pattern<>(Comparison.LARGER, "greater in size than"),
      new Pattern<>(Comparison.SMALLER, "smaller than"),
      new Pattern<>(Comparison.SMALLER, "tinier than"),
      new Pattern<>(Comparison.SMALLER, "littler than"),
      new Pattern<>(Comparison.SAME_SIZE, "the same size as"),
      new Pattern<>(Comparison.SAME_SIZE, "same size as"),
      new Pattern<>(Comparison.SAME_SIZE, "as big as"), new Pattern<>(Comparison.SAME_SIZE, "as large as"),
      new Pattern<>(Comparison.SAME_SIZE, "as small as"));

  /** A token sequence that means {@code value}; {@code needsObject} when it ends in "of"/"than". */
  private record Pattern<T>(T value, ImmutableList<String> words, boolean needsObject) {
    Pattern(T value, String words) {
      this(value, ImmutableList.copyOf(words.split(" ")), true);
    }
  }

  private static ImmutableList<Pattern<Relation>> relationPatterns() {
    List<Pattern<Relation>> out = new ArrayList<>();
    for (Relation r : new Relation[] {Relation.LEFT_OF, Relation.RIGHT_OF}) {
      String side = r == Relation.LEFT_OF ? "left" : "right";
      for (String prefix : new String[] {"to the ", "on the ", "at the ", "towards the ", ""}) {
        for (String middle : new String[] {side, side + " side", side + " hand side",
            side + "hand side"}) {
          out.add(new Pattern<>(r, ImmutableList.copyOf((prefix + middle + " of").split(" ")),
              true));
          if (!prefix.isEmpty()) {
            out.add(new Pattern<>(r, ImmutableList.copyOf((prefix + middle).split(" ")), false));
          }
        }
      }
      out.add(new Pattern<>(r, ImmutableList.of(side + "ward", "of"), true));
    }
    for (String w : new String[] {"above", "over", "on top of", "atop", "higher than",
        "higher up than", "further up than", "up from"}) {
      out.add(new Pattern<>(Relation.ABOVE, w));
    }
    for (String w : new String[] {"below", "under", "underneath", "beneath", "lower than",
        "lower down than", "further down than", "down from"}) {
      out.add(new Pattern<>(Relation.BELOW, w));
    }
    // Longest first so "to the left of" wins over "to the left".
    out.sort((a, b) -> b.words().size() - a.words().size());
    return ImmutableList.copyOf(out);
  }

  /** What a run of tokens is, after chunking. */
  private enum Kind { NP, REL, REGION, SAME, SIZE_CMP, COUNT_CMP, THAN, NEG, VERB, CONJ, BOUNDARY, WHICH, ENV,
    IMAGE, NUMBER, THERE, WORD }

  /** A noun phrase. */
  private static final class Np {
    Descriptor desc;
    int number = -1;
    boolean negated;
    boolean other;
    boolean pronoun;
    boolean headless;
    boolean definite;
    boolean used;
    /** "all / every / each / both" before the phrase. */
    boolean all;
    /** "most / the majority of" before the phrase. */
    boolean most;
    /** "only" before the phrase (without a number: nothing else is like it). */
    boolean only;
    /** Headed by "one(s)": "the red one", "a small one" name the object talked about. */
    boolean one;
  }

  private static final class Item {
    final Kind kind;
    final String word;
    Np np;
    Relation rel;
    boolean relNeedsObject;
    Region region;
    Claim.Aspect aspect;
    boolean different;
    Comparison cmp;
    Environment env;
    int number;
    /** For "which": the noun phrase right before it in the same clause, if any. */
    Item antecedent;

    Item(Kind kind, String word) {
      this.kind = kind;
      this.word = word;
    }

    @Override
    public String toString() {
      return kind + (np != null ? "(" + np.desc + "#" + np.number + ")" : ":" + word);
    }
  }

  /** The claims of {@code text}, in order of appearance, repeats dropped. */
  public ImmutableList<Claim> extract(String text) {
    return extract(text, ImmutableList.of());
  }

  /**
   * As {@link #extract(String)}, with the noun phrases of the question being answered: they resolve
   * "it" before any other phrase is mentioned, and give a relation without a second object ("it is
   * on the left") its object.
   */
  public ImmutableList<Claim> extract(String text, List<Descriptor> topics) {
    Set<Claim> out = new LinkedHashSet<>();
    State state = new State(topics);
    for (Sentence s : sentences(text)) {
      if (!s.question) {
        extractSentence(s.tokens, state, out);
      }
    }
    return ImmutableList.copyOf(out);
  }

  /** Claims of the first statement sentence only (for short answers to questions). */
  ImmutableList<Claim> extractFirstSentence(String text, List<Descriptor> topics) {
    Set<Claim> out = new LinkedHashSet<>();
    for (Sentence s : sentences(text)) {
      if (!s.question) {
        extractSentence(s.tokens, new State(topics), out);
        break;
      }
    }
    return ImmutableList.copyOf(out);
  }

  /** Claims of one statement's tokens (as {@link #statements} gives them). */
  ImmutableList<Claim> extractTokens(List<String> tokens, List<Descriptor> topics) {
    Set<Claim> out = new LinkedHashSet<>();
    extractSentence(tokens, new State(topics), out);
    return ImmutableList.copyOf(out);
  }

  /** Lower-case tokens of a text's statements (questions left out), hedges removed. */
  static List<List<String>> statements(String text) {
    List<List<String>> out = new ArrayList<>();
    for (Sentence s : sentences(text)) {
      if (!s.question) {
        List<String> t = AnswerText.stripHedges(s.tokens);
        if (!t.isEmpty()) {
          out.add(t);
        }
      }
    }
    return out;
  }

  /**
   * A yes/no question read as the statement it asks about: "Is the circle red?" → the circle is
   * red; "Are there three stars?" → there are three stars; "Do you see a dog?" → you see a dog.
   */
  public ImmutableList<Claim> extractQuestion(String question) {
    Set<Claim> out = new LinkedHashSet<>();
    State state = new State(ImmutableList.of());
    for (Sentence s : sentences(question)) {
      List<String> t = s.tokens;
      if (t.size() > 1 && (t.get(0).equals("do") || t.get(0).equals("does"))
          && (t.contains("outnumber") || t.contains("outnumbers"))) {
        t = t.subList(1, t.size());
      }
      extractSentence(declarative(t), state, out);
    }
    return ImmutableList.copyOf(out);
  }

  /**
   * The noun phrases of a text (a question's topics), in order, without bare "object"/"shape"
   * unless nothing else is named ("what shape is the blue object" → [blue object]; "how many
   * objects" → [object]).
   */
  public ImmutableList<Descriptor> nounPhrases(String text) {
    List<Descriptor> out = new ArrayList<>();
    boolean generic = false;
    for (Sentence s : sentences(text)) {
      for (Item it : chunk(s.tokens)) {
        if (it.kind == Kind.NP && !it.np.pronoun && !it.np.headless && !it.np.other) {
          if (it.np.desc.isEmpty()) {
            generic = true;
          } else {
            out.add(it.np.desc);
          }
        }
      }
    }
    if (out.isEmpty() && !(" " + text.toLowerCase(java.util.Locale.ROOT) + " ").contains(" or ")) {
      // "Which shape is purple?": the object asked about is the purple one ("large or small"
      // offers alternatives instead)
      for (Sentence s : sentences(text)) {
        for (Item it : chunk(s.tokens)) {
          if (it.kind == Kind.NP && it.np.headless && !it.np.other && it.np.desc.hasAttribute()) {
            out.add(it.np.desc);
          }
        }
      }
    }
    if (out.isEmpty() && generic) {
      out.add(Descriptor.ANY);
    }
    return ImmutableList.copyOf(out);
  }

  /** The first number a text states ("two", "2", "none" → 0), or -1. */
  public static int firstNumber(String text) {
    for (Sentence s : sentences(text)) {
      for (String t : s.tokens) {
        int n = Vocabulary.number(t);
        if (n >= 0) {
          return n;
        }
        if (t.equals("none") || t.equals("no") || t.equals("nothing")) {
          return 0;
        }
      }
    }
    return -1;
  }

  /** Lower-case tokens of a text's sentences. */
  static List<List<String>> tokens(String text) {
    List<List<String>> out = new ArrayList<>();
    for (Sentence s : sentences(text)) {
      out.add(s.tokens);
    }
    return out;
  }

  // ---------------------------------------------------------------- tokenising

  private record Sentence(List<String> tokens, boolean question) {}

  private static List<Sentence> sentences(String text) {
    List<Sentence> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    String lower = text.toLowerCase(java.util.Locale.ROOT);
    for (int i = 0; i <= lower.length(); i++) {
      char c = i < lower.length() ? lower.charAt(i) : '\n';
      boolean decimalPoint = c == '.' && i > 0 && i + 1 < lower.length()
          && Character.isDigit(lower.charAt(i - 1)) && Character.isDigit(lower.charAt(i + 1));
      if ((c == '.' || c == '!' || c == '?' || c == ';' || c == ':' || c == '\n'
          || c == '\u2014' || c == '\u2013' || c == '(' || c == ')') && !decimalPoint) {
        List<String> toks = tokenize(cur);
        if (!toks.isEmpty()) {
          out.add(new Sentence(toks, c == '?'));
        }
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    return out;
  }

  private static List<String> tokenize(CharSequence s) {
    List<String> out = new ArrayList<>();
    StringBuilder w = new StringBuilder();
    for (int i = 0; i <= s.length(); i++) {
      char c = i < s.length() ? s.charAt(i) : ' ';
      if (c == '\u2019' || c == '\u2018' || c == '`') {
        c = '\'';
      }
      if (Character.isLetterOrDigit(c) || (c == '\'' && w.length() > 0)) {
        w.append(c);
      } else {
        if (w.length() > 0) {
          addWord(w.toString(), out);
          w.setLength(0);
        }
        if (c == ',') {
          out.add(",");
        }
      }
    }
    return out;
  }

  private static void addWord(String w, List<String> out) {
    while (w.endsWith("'")) {
      w = w.substring(0, w.length() - 1);
    }
    if (w.isEmpty()) {
      return;
    }
    String expanded = CONTRACTIONS.get(w);
    if (expanded != null) {
      for (String p : expanded.split(" ")) {
        out.add(p);
      }
    } else if (w.endsWith("n't")) {
      out.add(w.substring(0, w.length() - 3));
      out.add("not");
    } else if (w.endsWith("'s")) {
      out.add(w.substring(0, w.length() - 2));
    } else if (w.endsWith("'re") || w.endsWith("'ve") || w.endsWith("'ll") || w.endsWith("'d")) {
      out.add(w.substring(0, w.lastIndexOf('\'')));
    } else {
      out.add(w);
    }
  }

  /** Undo a yes/no question's inversion. */
  private List<String> declarative(List<String> t) {
    if (t.isEmpty()) {
      return t;
    }
    List<String> out = new ArrayList<>(t);
    String first = out.get(0);
    if (COPULAS.contains(first) && !first.startsWith("look") && !first.startsWith("seem")
        && !first.startsWith("appear")) {
      if (out.size() > 1 && out.get(1).equals("there")) {
        out.set(0, "there");
        out.set(1, first);
        return out;
      }
      out.remove(0);
      // Put the verb back after the subject: the first noun phrase list.
      int j = 0;
      List<Item> scratch = new ArrayList<>();
      while (j < out.size()) {
        int n = nounPhrase(out, j, scratch, null);
        if (n == 0) {
          break;
        }
        j += n;
        if (j + 1 < out.size() && (out.get(j).equals("and") || out.get(j).equals(","))
            && nounPhrase(out, j + 1, new ArrayList<>(), null) > 0) {
          j++;
        } else {
          break;
        }
      }
      out.add(j, first);
      return out;
    }
    if (first.equals("does") || first.equals("do") || first.equals("did") || first.equals("can")
        || first.equals("could")) {
      out.remove(0);
    }
    return out;
  }

  // ---------------------------------------------------------------- chunking

  private List<Item> chunk(List<String> t) {
    List<Item> items = new ArrayList<>();
    boolean[] outside = NounDetector.outsideNouns(t, ClaimExtractor::knownWord);
    int i = 0;
    while (i < t.size()) {
      String w = t.get(i);
      int n;
      if ((n = region(t, i, items)) > 0
          || (n = matchPattern(t, i, items)) > 0
          || (n = sameAspect(t, i, items)) > 0
          || (n = countComparison(t, i, items)) > 0
          || (n = environment(t, i, items)) > 0
          || (n = nounPhrase(t, i, items, outside)) > 0) {
        i += n;
        continue;
      }
      Item it;
      if (w.equals(",") || w.equals("and") || w.equals("or") || w.equals("nor")
          || w.equals("plus") || w.equals("along") || w.equals("with") || w.equals("as")) {
        it = new Item(Kind.CONJ, w);
      } else if (w.equals("than")) {
        it = new Item(Kind.THAN, w);
      } else if (NEGATORS.contains(w)) {
        it = new Item(Kind.NEG, w);
      } else if (BOUNDARIES.contains(w)) {
        it = new Item(Kind.BOUNDARY, w);
      } else if (VERBS.contains(w)) {
        it = new Item(Kind.VERB, w);
      } else if (w.equals("which") || w.equals("who") || (w.equals("that") && !items.isEmpty()
          && items.get(items.size() - 1).kind == Kind.NP)) {
        it = new Item(Kind.WHICH, w);
      } else if (Vocabulary.IMAGE_NOUNS.contains(w)) {
        it = new Item(Kind.IMAGE, w);
      } else if (w.equals("there") || w.equals("here")) {
        it = new Item(Kind.THERE, w);
      } else if (Vocabulary.number(w) >= 0) {
        it = new Item(Kind.NUMBER, w);
        it.number = Vocabulary.number(w);
      } else {
        it = new Item(Kind.WORD, w);
      }
      items.add(it);
      i++;
    }
    inheritElidedHeads(items);
    attachRegions(items);
    return items;
  }

  /**
   * "the circle in the top-left corner", "one in the middle": a place right after a noun phrase
   * narrows the phrase (the object there), unless a verb comes first ("the circle is in ...").
   */
  private static void attachRegions(List<Item> items) {
    for (int k = 1; k < items.size(); k++) {
      Item it = items.get(k);
      Item prev = items.get(k - 1);
      if (it.kind == Kind.REGION && prev.kind == Kind.NP && !prev.np.pronoun
          && !prev.np.other && (prev.np.desc.hasNoun() || prev.np.one
          || prev.np.desc.hasAttribute() || prev.np.desc.isEmpty())
          && prev.np.desc.region() == null) {
        prev.np.desc = prev.np.desc.withRegion(it.region);
        items.remove(k);
        k--;
      }
    }
  }

  /** "X outnumber Y" → "there are more X than Y" (a count comparison the clauses read). */
  private static List<String> rewriteOutnumber(List<String> t) {
    int k = t.indexOf("outnumber");
    if (k < 0) {
      k = t.indexOf("outnumbers");
    }
    if (k <= 0 || k + 1 >= t.size()) {
      return t;
    }
    List<String> out = new ArrayList<>();
    out.add("there");
    out.add("are");
    out.add("more");
    out.addAll(t.subList(0, k));
    out.add("than");
    out.addAll(t.subList(k + 1, t.size()));
    return out;
  }

  /** Patterns by first word, longest first, so each token tries only its own few. */
  private static final ImmutableListMultimap<String, Pattern<?>> PATTERNS_BY_FIRST_WORD;

  static {
    ImmutableListMultimap.Builder<String, Pattern<?>> b = ImmutableListMultimap.builder();
    for (Pattern<?> p : RELATIONS) {
      b.put(p.words().get(0), p);
    }
    for (Pattern<?> p : SIZE_COMPARISONS) {
      b.put(p.words().get(0), p);
    }
    PATTERNS_BY_FIRST_WORD = b.build();
  }

  private static int matchPattern(List<String> t, int i, List<Item> items) {
    for (Pattern<?> p : PATTERNS_BY_FIRST_WORD.get(t.get(i))) {
      List<String> w = p.words();
      if (i + w.size() <= t.size() && t.subList(i, i + w.size()).equals(w)) {
        Item it;
        if (p.value() instanceof Relation r) {
          it = new Item(Kind.REL, String.join(" ", w));
          it.rel = r;
          it.relNeedsObject = p.needsObject();
        } else {
          it = new Item(Kind.SIZE_CMP, String.join(" ", w));
          it.cmp = (Comparison) p.value();
        }
        items.add(it);
        return w.size();
      }
    }
    return 0;
  }

  private static Claim.Aspect aspect(String w) {
    return switch (w) {
      case "colour", "color", "colours", "colors", "hue", "hues" -> Claim.Aspect.COLOUR;
      case "shape", "shapes", "form", "forms", "type", "types", "kind", "kinds" ->
          Claim.Aspect.SHAPE;
      case "size", "sizes" -> Claim.Aspect.SIZE;
      default -> null;
    };
  }

  /**
   * "(all) the same colour / shape / size", "one colour", "identical in size", "different
   * colours": whether the subject's objects share one value.
   */
  private static int sameAspect(List<String> t, int i, List<Item> items) {
    int n = t.size();
    int j = i;
    if (j < n && t.get(j).equals("all")) {
      j++;
    }
    boolean different;
    if (j + 1 < n && t.get(j).equals("the") && t.get(j + 1).equals("same")) {
      different = false;
      j += 2;
    } else if (j < n && (t.get(j).equals("same") || t.get(j).equals("identical")
        || t.get(j).equals("matching") || t.get(j).equals("uniform"))) {
      different = false;
      j++;
    } else if (j + 1 < n && (t.get(j).equals("one") || t.get(j).equals("a"))
        && (t.get(j + 1).equals("single") || aspect(t.get(j + 1)) != null)
        && (j > i || i > 0 && (t.get(i - 1).equals("share") || t.get(i - 1).equals("shares")
            || t.get(i - 1).equals("have") || t.get(i - 1).equals("has")
            || t.get(i - 1).equals("are") || t.get(i - 1).equals("is")))) {
      different = false;
      j += t.get(j + 1).equals("single") ? 2 : 1;
    } else if (j < n && (t.get(j).equals("different") || t.get(j).equals("differing")
        || t.get(j).equals("various") || t.get(j).equals("distinct") || t.get(j).equals("varied")
        || t.get(j).equals("mixed") || t.get(j).equals("multiple"))) {
      different = true;
      j++;
    } else {
      return 0;
    }
    if (j < n && t.get(j).equals("in")) {
      j++;
    }
    if (j >= n || aspect(t.get(j)) == null) {
      return 0;
    }
    if (different && !t.get(j).endsWith("s")) {
      return 0; // "a different colour" compares with something unnamed
    }
    Item it = new Item(Kind.SAME, String.join(" ", t.subList(i, j + 1)));
    it.aspect = aspect(t.get(j));
    it.different = different;
    items.add(it);
    return j + 1 - i;
  }

  private static final ImmutableSet<String> REGION_PREPOSITIONS = ImmutableSet.of("in", "at",
      "on", "near", "towards", "toward", "to", "along", "across", "by", "within", "into",
      "around", "occupies", "occupy", "dominates", "dominate", "fills", "fill", "hugs", "hug");
  private static final ImmutableSet<String> REGION_NOUNS = ImmutableSet.of("corner", "side",
      "part", "half", "area", "region", "section", "portion", "edge", "third", "end", "zone",
      "quadrant", "sector", "corners", "sides", "parts");
  private static final ImmutableSet<String> TOP_WORDS = ImmutableSet.of("top", "upper");
  private static final ImmutableSet<String> BOTTOM_WORDS = ImmutableSet.of("bottom", "lower");
  private static final ImmutableSet<String> MIDDLE_WORDS = ImmutableSet.of("middle", "centre",
      "center", "central", "centered", "centred");

  /**
   * A place in the picture ({@link Region}): "[in|at|on|near|towards] [the] [very|far] (top|upper|
   * bottom|lower|left|right|middle|centre …)+ [hand] [corner|side|half|third|part|area|edge …] [of
   * the image]". A preposition is needed except at the start of a sentence ("Top left."), and a
   * side followed by "of" and an object is a relation ("on the left of the star"), not a place.
   */
  private static int region(List<String> t, int i, List<Item> items) {
    int j = i;
    int n = t.size();
    boolean prep = REGION_PREPOSITIONS.contains(t.get(j));
    if (prep) {
      j++;
    } else if (i != 0) {
      return 0;
    }
    if (j < n && (t.get(j).equals("the") || t.get(j).equals("its") || t.get(j).equals("their"))) {
      j++;
    }
    while (j < n && (t.get(j).equals("very") || t.get(j).equals("far") || t.get(j).equals("extreme")
        || t.get(j).equals("exact"))) {
      j++;
    }
    if (j >= n) {
      return 0;
    }
    String v = t.get(j);
    String w = j + 1 < n ? t.get(j + 1) : "";
    boolean vTop = TOP_WORDS.contains(v);
    boolean vBottom = BOTTOM_WORDS.contains(v);
    boolean wSide = w.equals("left") || w.equals("right");
    Region r;
    int len;
    if ((vTop || vBottom) && wSide) {
      r = vTop ? (w.equals("left") ? Region.TOP_LEFT : Region.TOP_RIGHT)
          : (w.equals("left") ? Region.BOTTOM_LEFT : Region.BOTTOM_RIGHT);
      len = 2;
    } else if ((v.equals("left") || v.equals("right"))
        && (TOP_WORDS.contains(w) || BOTTOM_WORDS.contains(w))) {
      r = TOP_WORDS.contains(w) ? (v.equals("left") ? Region.TOP_LEFT : Region.TOP_RIGHT)
          : (v.equals("left") ? Region.BOTTOM_LEFT : Region.BOTTOM_RIGHT);
      len = 2;
    } else if ((vTop || vBottom) && MIDDLE_WORDS.contains(w)) {
      r = vTop ? Region.TOP_CENTRE : Region.BOTTOM_CENTRE;
      len = 2;
    } else if (MIDDLE_WORDS.contains(v) && wSide) {
      r = w.equals("left") ? Region.LEFT_SIDE : Region.RIGHT_SIDE;
      len = 2;
    } else if (MIDDLE_WORDS.contains(v) && (v.equals("middle") || v.equals("centre")
        || v.equals("center"))) {
      r = Region.CENTRE;
      len = 1;
    } else if (vTop || vBottom) {
      r = w.equals("third") ? (vTop ? Region.TOP_THIRD : Region.BOTTOM_THIRD)
          : (vTop ? Region.TOP_HALF : Region.BOTTOM_HALF);
      len = 1;
    } else if (v.equals("left") || v.equals("right")) {
      r = w.equals("third") ? (v.equals("left") ? Region.LEFT_THIRD : Region.RIGHT_THIRD)
          : (v.equals("left") ? Region.LEFT_SIDE : Region.RIGHT_SIDE);
      len = 1;
      if (!prep && !(j > i)) {
        // "Left." alone is a fragment; "left of the star" is a relation
        if (w.equals("of")) {
          return 0;
        }
      }
    } else {
      return 0;
    }
    j += len;
    if (j < n && t.get(j).equals("hand")) {
      j++;
    }
    if (j < n && REGION_NOUNS.contains(t.get(j))) {
      j++;
    }
    if (j < n && (t.get(j).equals("of") || t.get(j).equals("in"))) {
      int k = j + 1;
      if (k < n && (t.get(k).equals("the") || t.get(k).equals("this") || t.get(k).equals("our"))) {
        k++;
      }
      if (k < n && Vocabulary.IMAGE_NOUNS.contains(t.get(k))) {
        j = k + 1;
      } else if (t.get(j).equals("of")) {
        return 0; // "to the left of the star", "on top of the square", "in the middle of them"
      }
    }
    if (r == Region.CENTRE && j < n && (t.get(j).equals("horizontally")
        || t.get(j).equals("vertically"))) {
      // "in the middle horizontally": only that axis
      r = t.get(j).equals("horizontally") ? Region.MIDDLE_COLUMN : Region.MIDDLE_ROW;
      j++;
    }
    Item it = new Item(Kind.REGION, String.join(" ", t.subList(i, j)));
    it.region = r;
    items.add(it);
    return j - i;
  }

  /** "more", "fewer", "less", "as many", "the same number of" when a "than"/"as"/"and" follows. */
  private static int countComparison(List<String> t, int i, List<Item> items) {
    String w = t.get(i);
    Comparison c = null;
    int len = 0;
    String closer = "than";
    if ((w.equals("more") || w.equals("fewer") || w.equals("less"))) {
      c = w.equals("more") ? Comparison.MORE : Comparison.FEWER;
      len = 1;
    } else if (w.equals("as") && i + 1 < t.size() && t.get(i + 1).equals("many")) {
      c = Comparison.SAME_NUMBER;
      len = 2;
      closer = "as";
    } else if (i + 3 < t.size() && t.get(i).equals("the") && t.get(i + 1).equals("same")
        && t.get(i + 2).equals("number") && t.get(i + 3).equals("of")) {
      c = Comparison.SAME_NUMBER;
      len = 4;
      closer = "and";
    }
    if (c == null) {
      return 0;
    }
    for (int j = i + len; j < t.size(); j++) {
      if (t.get(j).equals(closer) || (c == Comparison.SAME_NUMBER && t.get(j).equals("as"))) {
        Item it = new Item(Kind.COUNT_CMP, String.join(" ", t.subList(i, i + len)));
        it.cmp = c;
        items.add(it);
        return len;
      }
    }
    return 0;
  }

  private static int environment(List<String> t, int i, List<Item> items) {
    String w = t.get(i);
    String next = i + 1 < t.size() ? t.get(i + 1) : "";
    Environment e = Vocabulary.ENVIRONMENT_WORDS.get(w);
    if ((w.equals("black") || w.equals("dark")) && (next.equals("sky")
        || next.equals("background") || next.equals("backdrop"))) {
      e = Environment.NIGHT;
    } else if (w.equals("dark") && (Vocabulary.COLOURS.containsKey(next)
        || Vocabulary.FOREIGN_COLOURS.contains(next) || Vocabulary.SHAPES.containsKey(next))) {
      return 0; // "dark blue": a shade, not the night
    }
    if (e == null) {
      return 0;
    }
    Item prev = items.isEmpty() ? null : items.get(items.size() - 1);
    if (prev != null && prev.kind == Kind.ENV) {
      // "snowy field": the first word of a run of environment words decides.
      return 1;
    }
    Item it = new Item(Kind.ENV, w);
    it.env = e;
    items.add(it);
    return 1;
  }

  /**
   * Parses a noun phrase at {@code i}; returns the tokens used (0 when none). {@code outside}
   * (may be null) marks the tokens {@link NounDetector} found to be nouns for things outside the
   * shapes world: they head a phrase like a foreign noun.
   */
  private static int nounPhrase(List<String> t, int i, List<Item> items, boolean[] outside) {
    int j = i;
    Np np = new Np();
    boolean determiner = false;
    ShapeKind shape = null;
    Colour colour = null;
    Size size = null;
    String foreignNoun = null;
    String foreignColour = null;
    Vague vague = null;
    boolean head = false;
    boolean modifier = false;
    boolean conflict = false;
    // Pre-determiners and determiners.
    while (j < t.size()) {
      String w = t.get(j);
      String next = j + 1 < t.size() ? t.get(j + 1) : "";
      if (w.equals("only") || w.equals("exactly") || w.equals("just") || w.equals("precisely")
          || w.equals("all") || w.equals("both") || w.equals("each") || w.equals("every")
          || w.equals("of") && (determiner || np.all || np.most)) {
        np.all |= w.equals("all") || w.equals("both") || w.equals("each") || w.equals("every");
        np.only |= w.equals("only") && !determiner;
        j++;
      } else if ((w.equals("most") && (next.equals("of") || isNpStart(next)))
          || (w.equals("majority") && next.equals("of"))) {
        np.most = true;
        j++;
      } else if (w.equals("the") && next.equals("majority")) {
        np.most = true;
        j += 2;
      } else if (w.equals("most") && VERBS.contains(next)) {
        np.most = true;
        j++;
      } else if ((w.equals("a") || w.equals("the")) && next.equals("total")
          && j + 2 < t.size() && t.get(j + 2).equals("of")) {
        j += 3;
      } else if (w.equals("a") && (next.equals("pair") || next.equals("couple"))
          && j + 2 < t.size() && t.get(j + 2).equals("of")) {
        np.number = 2;
        determiner = true;
        j += 3;
      } else if (w.equals("a") && next.equals("single")) {
        np.number = 1;
        determiner = true;
        j += 2;
      } else if (DEFINITE.contains(w) && !(w.equals("that") && !isNpStart(next))) {
        np.definite = true;
        determiner = true;
        j++;
      } else if (INDEFINITE.contains(w)) {
        determiner = true;
        j++;
      } else if ((w.equals("no") || w.equals("zero") || w.equals("neither"))
          && isNpStart(next)) {
        np.negated = true;
        determiner = true;
        j++;
      } else if ((w.equals("none") || w.equals("neither")) && next.equals("of")) {
        np.negated = true;
        determiner = true;
        j += 2;
      } else if ((w.equals("none") || w.equals("neither")) && VERBS.contains(next)) {
        np.negated = true; // "none is red"
        j++;
      } else if (OTHER_WORDS.contains(w) && (isNpStart(next) || OTHER_WORDS.contains(next))) {
        np.other = true;
        determiner = true;
        j++;
      } else if (Vocabulary.number(w) > 0 && !(w.equals("one") && determiner && np.number < 0)
          && np.number < 0) {
        np.number = Vocabulary.number(w);
        determiner = true;
        j++;
        if (j < t.size() && t.get(j).equals("of")) {
          j++; // "two of the circles"
        }
      } else {
        break;
      }
    }
    // Modifiers and head.
    while (j < t.size()) {
      String w = t.get(j);
      String next = j + 1 < t.size() ? t.get(j + 1) : "";
      if (Vocabulary.COLOURS.containsKey(w)) {
        Colour c = Vocabulary.COLOURS.get(w);
        conflict |= colour != null && colour != c;
        colour = c;
        modifier = true;
      } else if (Vocabulary.FOREIGN_COLOURS.contains(w)) {
        foreignColour = w;
        modifier = true;
      } else if (Vocabulary.VAGUE_COLOURS.containsKey(w) && vague == null) {
        vague = Vocabulary.VAGUE_COLOURS.get(w);
        modifier = true;
      } else if (Vocabulary.VAGUE_SIZES.containsKey(w) && vague == null && !next.equals("of")) {
        vague = Vocabulary.VAGUE_SIZES.get(w);
        modifier = true;
      } else if (Vocabulary.VAGUE_SHAPES.containsKey(w) && (vague == null || !vague.aboutShape())) {
        // a vague colour or size and a vague shape cannot share one record: the shape wins
        vague = Vocabulary.VAGUE_SHAPES.get(w);
        head = true;
        j += next.equals("shaped") || next.equals("like") ? 2 : 1;
        break;
      } else if ((w.equals("plus") || w.equals("x")) && (next.equals("sign")
          || next.equals("symbol") || next.equals("shape") || next.equals("shaped")
          || next.equals("mark") || next.equals("signs") || next.equals("shapes"))) {
        shape = ShapeKind.CROSS;
        head = true;
        np.headless = false;
        j += 2;
        break;
      } else if (Vocabulary.SIZES.containsKey(w) && !next.equals("than")
          && !(w.equals("little") && !isNpStart(next))) {
        size = Vocabulary.SIZES.get(w);
        modifier = true;
      } else if (FILLERS.contains(w) || (w.equals("dark") && (modifier || determiner))) {
        // shade or filler words: keep going
      } else if (Vocabulary.SHAPES.containsKey(w)) {
        ShapeKind s = Vocabulary.SHAPES.get(w);
        if (next.equals("shaped") || next.equals("like")) {
          shape = s;
          j += 2;
          continue;
        }
        conflict |= shape != null && shape != s;
        shape = s;
        head = true;
        np.headless = false;
        j++;
        break;
      } else if (Vocabulary.FOREIGN_NOUNS.containsKey(w)) {
        foreignNoun = Vocabulary.FOREIGN_NOUNS.get(w);
        if (next.equals("shaped") || next.equals("like")) {
          j += 2;
          continue;
        }
        head = true;
        j++;
        break;
      } else if (Vocabulary.GENERIC_NOUNS.contains(w)
          || ((w.equals("one") || w.equals("ones")) && (modifier || np.definite))) {
        head = true;
        np.one = w.equals("one") || w.equals("ones");
        j++;
        break;
      } else if (outside != null && outside[j]) {
        foreignNoun = NounDetector.singular(w);
        head = true;
        j++;
        break;
      } else {
        break;
      }
      j++;
    }
    if (!head && !modifier) {
      String w = j < t.size() ? t.get(j) : "";
      String next = j + 1 < t.size() ? t.get(j + 1) : "";
      boolean quantified = np.all || np.most || np.negated
          || np.number > 0 && j > i && t.get(j - 1).equals("of"); // "three of them"
      // "none of them", "each of these", "both are large", "the majority are small": a
      // quantified pronoun, resolved like "they"
      if (quantified && j > i && (w.equals("them") || w.equals("these") || w.equals("those")
          || w.equals("they") || VERBS.contains(w) || w.isEmpty())) {
        np.pronoun = true;
        np.desc = Descriptor.ANY;
        int end = w.equals("them") || w.equals("these") || w.equals("those")
            || w.equals("they") ? j + 1 : j;
        Item it = new Item(Kind.NP, String.join(" ", t.subList(i, end)));
        it.np = np;
        items.add(it);
        return end - i;
      }
      // A lone pronoun is a phrase of its own.
      if (j == i && (t.get(i).equals("it") || t.get(i).equals("they")
          || t.get(i).equals("them"))) {
        np.pronoun = true;
        np.desc = Descriptor.ANY;
        Item it = new Item(Kind.NP, t.get(i));
        it.np = np;
        items.add(it);
        return 1;
      }
      return 0;
    }
    if (conflict || (shape != null && foreignNoun != null)) {
      // "red blue circle" or "circle dog": not a description we can check.
      np.other = true;
    }
    if (foreignNoun != null) {
      shape = null;
    }
    if (colour != null && foreignColour != null) {
      foreignColour = null;
    }
    np.headless = !head;
    if (vague != null && (vague.aboutShape() ? shape != null || foreignNoun != null
        : !vague.colours().isEmpty() && (colour != null || foreignColour != null))) {
      vague = null; // an exact word beside it says more
    }
    np.desc = new Descriptor(shape, colour, size, foreignNoun, foreignColour, vague);
    Item it = new Item(Kind.NP, String.join(" ", t.subList(i, j)));
    it.np = np;
    items.add(it);
    return j - i;
  }

  /** Whether the judge's own vocabulary reads {@code w} (so the noun detector leaves it alone). */
  static boolean knownWord(String w) {
    return isNpStart(w) || Vocabulary.SCENERY.contains(w) || Vocabulary.IMAGE_NOUNS.contains(w)
        || Vocabulary.ENVIRONMENT_WORDS.containsKey(w) || VERBS.contains(w)
        || ADVERBS.contains(w) || NEGATORS.contains(w) || BOUNDARIES.contains(w)
        || Vocabulary.PLURAL_GENERIC_NOUNS.contains(w);
  }

  private static boolean isNpStart(String w) {
    return Vocabulary.COLOURS.containsKey(w) || Vocabulary.VAGUE_COLOURS.containsKey(w)
        || Vocabulary.VAGUE_SIZES.containsKey(w) || Vocabulary.VAGUE_SHAPES.containsKey(w)
        || Vocabulary.FOREIGN_COLOURS.contains(w)
        || Vocabulary.SIZES.containsKey(w) || Vocabulary.SHAPES.containsKey(w)
        || Vocabulary.FOREIGN_NOUNS.containsKey(w) || Vocabulary.GENERIC_NOUNS.contains(w)
        || Vocabulary.number(w) >= 0 || FILLERS.contains(w) || OTHER_WORDS.contains(w)
        || w.equals("one") || w.equals("ones");
  }

  /** "red and blue circles": headless phrases in a list take the next phrase's noun. */
  private static void inheritElidedHeads(List<Item> items) {
    // "two circles, one large and one small, ...": an apposition splitting the phrase before it;
    // it must not take the noun of the phrase after it.
    for (int k = 2; k < items.size(); k++) {
      Item it = items.get(k);
      if (it.kind == Kind.NP && it.np.headless && it.np.number > 0
          && items.get(k - 1).word.equals(",") && items.get(k - 2).kind == Kind.NP
          && !items.get(k - 2).np.headless) {
        for (int j = k; j < items.size(); j += 2) {
          if (items.get(j).kind != Kind.NP || !items.get(j).np.headless) {
            break;
          }
          items.get(j).np.other = true;
          if (j + 1 >= items.size() || items.get(j + 1).kind != Kind.CONJ) {
            break;
          }
        }
      }
    }
    for (int k = items.size() - 1; k >= 0; k--) {
      Item it = items.get(k);
      if (it.kind != Kind.NP || !it.np.headless || it.np.other) {
        continue;
      }
      // Not when the next phrase is definite or starts a clause: "the circle is red and the
      // square is blue", "circles are red and squares are blue".
      if (k + 2 < items.size() && items.get(k + 1).kind == Kind.CONJ
          && !items.get(k + 1).word.equals("with") && items.get(k + 2).kind == Kind.NP
          && !items.get(k + 2).np.headless && !items.get(k + 2).np.pronoun
          && !items.get(k + 2).np.definite
          && !(k + 3 < items.size() && items.get(k + 3).kind == Kind.VERB)) {
        Descriptor h = items.get(k + 2).np.desc;
        if (h.hasNoun() || (h.isEmpty() || !h.hasAttribute())) {
          Descriptor d = it.np.desc;
          it.np.desc = new Descriptor(h.shape(), d.colour(), d.size(), h.foreignNoun(),
              d.foreignColour(), d.vague() != null ? d.vague() : h.vague());
          it.np.headless = false;
        }
      }
    }
  }

  // ---------------------------------------------------------------- clauses

  /** What carries across clauses and sentences: the last phrase and subject, for pronouns. */
  private static final class State {
    final List<Descriptor> topics;
    Descriptor last;
    List<Descriptor> lastSubject = List.of();

    State(List<Descriptor> topics) {
      this.topics = topics;
      this.last = topics.isEmpty() ? null : topics.get(0);
    }
  }

  private static final java.util.regex.Pattern MOST_COMMON_FIRST = java.util.regex.Pattern.compile(
      "(?:^| )(?:the )?(?:most (?:common|frequent|prevalent|popular|represented)|predominant"
          + "|dominant|prevailing) (colour|color|shape|size)\\b[a-z ,]*? (?:is|are|would be|seems"
          + " to be) (?:a |an |the )?([a-z]+)");
  private static final java.util.regex.Pattern MOST_COMMON_LAST = java.util.regex.Pattern.compile(
      "(?:^| )(?:the )?([a-z]+) (?:ones |shapes |objects )?(?:is|are) the (?:most (?:common|"
          + "frequent|prevalent|popular|represented)|predominant|dominant) (colour|color|shape"
          + "|size)");

  private static final java.util.regex.Pattern MOST_OFTEN = java.util.regex.Pattern.compile(
      "(?:^| )([a-z]+) (?:ones |shapes |objects )?(?:appears?|occurs?|shows? up|is used|comes? up"
          + "|is seen|wins|dominates|leads)(?: the)? most(?: often| frequently| commonly)?\\b");

  /** "The most common colour is blue", "blue is the dominant colour". */
  private static Claim mostCommonStatement(List<String> t) {
    String joined = String.join(" ", t);
    java.util.regex.Matcher m = MOST_COMMON_FIRST.matcher(joined);
    String aspectWord;
    String value;
    if (m.find()) {
      aspectWord = m.group(1);
      value = m.group(2);
    } else if ((m = MOST_COMMON_LAST.matcher(joined)).find()) {
      aspectWord = m.group(2);
      value = m.group(1);
    } else if ((m = MOST_OFTEN.matcher(joined)).find() && valueWord(m.group(1)) != null) {
      value = m.group(1);
      aspectWord = Vocabulary.COLOURS.containsKey(value) ? "colour"
          : Vocabulary.SIZES.containsKey(value) ? "size" : "shape";
    } else {
      return null;
    }
    Descriptor d = valueWord(value);
    return d == null ? null : Claim.mostCommon(Descriptor.ANY, aspect(aspectWord), d);
  }

  /** A single colour, size or shape word as a descriptor ("blue", "large", "circles"). */
  static Descriptor valueWord(String w) {
    if (Vocabulary.COLOURS.containsKey(w)) {
      return Descriptor.of(null, Vocabulary.COLOURS.get(w), null);
    }
    if (Vocabulary.SIZES.containsKey(w)) {
      return Descriptor.of(null, null, Vocabulary.SIZES.get(w));
    }
    if (Vocabulary.SHAPES.containsKey(w)) {
      return Descriptor.of(Vocabulary.SHAPES.get(w), null, null);
    }
    if (Vocabulary.FOREIGN_COLOURS.contains(w)) {
      return new Descriptor(null, null, null, null, w);
    }
    if (Vocabulary.VAGUE_COLOURS.containsKey(w)) {
      return Descriptor.ANY.withVague(Vocabulary.VAGUE_COLOURS.get(w));
    }
    return null;
  }

  private void extractSentence(List<String> tokens, State state, Set<Claim> out) {
    Claim common = mostCommonStatement(AnswerText.stripHedges(tokens));
    if (common != null) {
      out.add(common);
      return;
    }
    List<Item> items = chunk(rewriteOutnumber(stripInterjection(AnswerText.stripHedges(tokens))));
    for (List<Item> clause : clauses(items)) {
      extractClause(clause, state, out);
    }
  }

  /** Drops a leading "yes,"/"no," so that "No, there is a circle" asserts the circle. */
  static List<String> stripInterjection(List<String> t) {
    if (!t.isEmpty() && ANSWER_WORDS.contains(t.get(0))
        && (t.size() == 1 || !isNpStart(t.get(1)) || t.get(1).equals(","))) {
      int k = 1;
      while (k < t.size() && t.get(k).equals(",")) {
        k++;
      }
      return t.subList(k, t.size());
    }
    return t;
  }

  private static final ImmutableSet<String> ANSWER_WORDS = ImmutableSet.of("yes", "no", "yeah",
      "yep", "nope", "correct", "incorrect", "true", "false", "indeed");

  private static List<List<Item>> clauses(List<Item> items) {
    List<List<Item>> out = new ArrayList<>();
    List<Item> cur = new ArrayList<>();
    for (int k = 0; k < items.size(); k++) {
      Item it = items.get(k);
      boolean split = it.kind == Kind.BOUNDARY;
      if (!split && it.kind == Kind.CONJ && (it.word.equals("and") || it.word.equals(","))
          && hasVerb(cur) && segmentHasVerb(items, k + 1)) {
        split = true;
      }
      if (split) {
        if (!cur.isEmpty()) {
          out.add(cur);
        }
        cur = new ArrayList<>();
        continue;
      }
      cur.add(it);
    }
    if (!cur.isEmpty()) {
      out.add(cur);
    }
    return out;
  }

  private static boolean hasVerb(List<Item> items) {
    for (Item it : items) {
      if (it.kind == Kind.VERB) {
        return true;
      }
    }
    return false;
  }

  /** Whether the part from {@code k} up to the next conjunction has a verb of its own. */
  private static boolean segmentHasVerb(List<Item> items, int k) {
    while (k < items.size() && items.get(k).kind == Kind.CONJ) {
      k++;
    }
    for (int j = k; j < items.size(); j++) {
      Item it = items.get(j);
      if (it.kind == Kind.BOUNDARY || (it.kind == Kind.CONJ && j > k)) {
        return false;
      }
      if (it.kind == Kind.VERB || it.kind == Kind.WHICH || it.kind == Kind.THERE) {
        return true;
      }
    }
    return false;
  }

  private void extractClause(List<Item> c, State state, Set<Claim> out) {
    // Resolve pronouns and relative "which" to the last phrase before anything else.
    // An object pronoun never means its own clause's subject ("the star is below it"), so phrases
    // before the clause's first verb only count for pronouns before that verb.
    Descriptor lastBefore = state.last;
    Descriptor beforeClause = state.last;
    Descriptor lastAny = null;
    boolean afterVerb = false;
    for (Item it : c) {
      if (!afterVerb && (it.kind == Kind.VERB || it.kind == Kind.REL
          || it.kind == Kind.SIZE_CMP)) {
        afterVerb = true;
        lastBefore = beforeClause;
      }
      if (it.kind == Kind.NP && it.np.one && COMPARATIVE_ONE.matcher(it.word).find()) {
        it.np.other = true; // "the smaller one": the comparison says it, not an object claim
      } else if (it.kind == Kind.NP && it.np.one && !it.np.desc.hasNoun()
          && (lastAny != null ? lastAny : lastBefore) != null
          && (lastAny != null ? lastAny : lastBefore).hasNoun()) {
        // "Is there a purple triangle?" "Yes, a small one."; "the large red circle is left of
        // the small one": the nearest object named, with this phrase's own words winning
        Descriptor base = lastAny != null ? lastAny : lastBefore;
        Descriptor d = it.np.desc;
        it.np.desc = new Descriptor(base.shape(),
            d.colour() != null || d.foreignColour() != null ? d.colour() : base.colour(),
            d.size() != null ? d.size() : base.size(), base.foreignNoun(),
            d.colour() != null || d.foreignColour() != null ? d.foreignColour()
                : base.foreignColour(), d.vague(), d.region());
      }
      if (it.kind == Kind.NP && !it.np.pronoun && !it.np.one && !it.np.headless
          && !it.np.other && !it.np.negated && it.np.desc.hasNoun()) {
        lastAny = it.np.desc;
      }
      if (it.kind == Kind.NP && it.np.pronoun) {
        if (lastBefore == null) {
          it.np.other = true;
        } else {
          it.np.desc = lastBefore;
        }
      } else if (it.kind == Kind.WHICH && lastBefore != null) {
        Np np = new Np();
        np.pronoun = true;
        np.desc = lastBefore;
        it.np = np;
        int idx = c.indexOf(it);
        int p = idx - 1;
        if (p >= 0 && c.get(p).kind == Kind.CONJ && c.get(p).word.equals(",")) {
          p--;
        }
        if (p >= 0 && c.get(p).kind == Kind.NP && !c.get(p).np.pronoun) {
          it.antecedent = c.get(p);
        }
      } else if (it.kind == Kind.NP && !it.np.headless && !it.np.other) {
        lastBefore = it.np.desc;
      }
    }
    List<Descriptor> subjects = new ArrayList<>();
    for (int k = 0; k < c.size(); k++) {
      Item it = c.get(k);
      switch (it.kind) {
        case REL -> relation(c, k, state, out, subjects);
        case REGION -> position(c, k, state, out, subjects);
        case SAME -> same(c, k, out);
        case SIZE_CMP -> sizeComparison(c, k, state, out, subjects);
        case COUNT_CMP -> countComparison(c, k, state, out);
        default -> { }
      }
    }
    for (int k = 0; k < c.size(); k++) {
      if (c.get(k).kind == Kind.VERB && COPULAS.contains(c.get(k).word)) {
        attribute(c, k, state, out, subjects);
      }
    }
    existence(c, out);
    quantifiedApposition(c, out);
    environment(c, out);
    boolean seenNeg = false;
    for (Item it : c) {
      seenNeg |= it.kind == Kind.NEG;
      // a denied object cannot be what a later "it" means ("There is no shell. It is ...")
      if (it.kind == Kind.NP && !it.np.pronoun && !it.np.headless && !it.np.other
          && !it.np.negated && !seenNeg && it.np.number <= 1 && !it.np.desc.isEmpty()) {
        state.last = it.np.desc; // "four objects" is not what a later "it" means
      }
    }
    if (!subjects.isEmpty()) {
      state.lastSubject = subjects;
    }
  }

  /** Noun phrases of the list ending just before {@code k}, skipping adverbs; negation noted. */
  private static Group groupBefore(List<Item> c, int k) {
    Group g = new Group();
    int j = k - 1;
    while (j >= 0 && (c.get(j).kind == Kind.NEG || c.get(j).kind == Kind.VERB
        || (c.get(j).kind == Kind.REGION && j > 0 && c.get(j - 1).kind == Kind.NP)
        || (c.get(j).kind == Kind.WORD && ADVERBS.contains(c.get(j).word))
        || (c.get(j).kind == Kind.CONJ && c.get(j).word.equals(",") && j > 0
            && c.get(j - 1).kind != Kind.NP))) {
      if (c.get(j).kind == Kind.NEG) {
        g.negated = !g.negated;
      }
      j--;
    }
    g.end = j;
    while (j >= 0) {
      Item it = c.get(j);
      if ((it.kind == Kind.NP || it.kind == Kind.WHICH && it.np != null) && !isOther(it)) {
        g.items.add(0, it);
        j--;
        if (j >= 1 && c.get(j).kind == Kind.CONJ && !c.get(j).word.equals("with")
            && !c.get(j).word.equals("as") && c.get(j - 1).kind == Kind.NP) {
          j--;
          continue;
        }
      }
      break;
    }
    g.start = j + 1;
    return g;
  }

  /** Noun phrases of the list starting at {@code k}. */
  private static Group groupAfter(List<Item> c, int k) {
    Group g = new Group();
    int j = k;
    while (j < c.size() && c.get(j).kind == Kind.WORD && ADVERBS.contains(c.get(j).word)) {
      j++;
    }
    g.start = j;
    while (j < c.size()) {
      Item it = c.get(j);
      if (it.kind == Kind.NP && !isOther(it)) {
        g.items.add(it);
        j++;
        if (j + 1 < c.size() && c.get(j).kind == Kind.CONJ && !c.get(j).word.equals("with")
            && !c.get(j).word.equals("as") && c.get(j + 1).kind == Kind.NP) {
          j++;
          continue;
        }
      }
      break;
    }
    g.end = j;
    if (g.items.isEmpty() && j < c.size() && c.get(j).kind == Kind.IMAGE) {
      g.image = true;
    }
    return g;
  }

  private static boolean isOther(Item it) {
    return it.np != null && it.np.other;
  }

  private static final class Group {
    final List<Item> items = new ArrayList<>();
    boolean negated;
    boolean image;
    int start;
    int end;

    boolean usable() {
      for (Item it : items) {
        if (it.np.headless && !it.np.desc.hasAttribute()) {
          return false;
        }
      }
      return !items.isEmpty();
    }

    List<Descriptor> descriptors() {
      List<Descriptor> out = new ArrayList<>();
      for (Item it : items) {
        out.add(it.np.desc);
      }
      return out;
    }

    void markUsed() {
      for (Item it : items) {
        it.np.used = true;
        if (it.antecedent != null && it.antecedent.np.number < 0) {
          it.antecedent.np.used = true;
        }
      }
    }
  }

  private void relation(List<Item> c, int k, State state, Set<Claim> out,
      List<Descriptor> subjects) {
    Item rel = c.get(k);
    // Object: right after, or after a chained relation ("above and to the left of the star").
    Group obj = groupAfter(c, k + 1);
    if (obj.items.isEmpty() && k + 2 < c.size() && c.get(k + 1).kind == Kind.CONJ
        && c.get(k + 2).kind == Kind.REL) {
      obj = groupAfter(c, k + 3);
    }
    if (obj.image || (obj.items.isEmpty() && k + 1 < c.size() && c.get(k + 1).kind == Kind.IMAGE)) {
      return; // a position in the image, not a relation between objects
    }
    Group subj = groupBefore(c, k);
    if (subj.items.isEmpty() && k >= 2 && c.get(k - 1).kind == Kind.CONJ
        && c.get(k - 2).kind == Kind.REL) {
      // chained: the subject belongs to the first relation of the chain
      int first = k - 2;
      while (first >= 2 && c.get(first - 1).kind == Kind.CONJ && c.get(first - 2).kind == Kind.REL) {
        first -= 2;
      }
      subj = groupBefore(c, first);
    }
    boolean negated = subj.negated;
    List<Descriptor> s;
    if (subj.usable()) {
      s = subj.descriptors();
    } else if (!subjects.isEmpty() && !onlyFillerBefore(c, k)) {
      s = new ArrayList<>(subjects); // "X is left of Y and below Z"
    } else if (subj.start == 0 && subj.end < 0 || onlyFillerBefore(c, k)) {
      // Inverted ("To the left of the square is a circle") or a fragment ("On the left.").
      Group inv = groupAfter(c, skipInverted(c, obj.end));
      if (inv.usable() && !obj.items.isEmpty()) {
        s = inv.descriptors();
        inv.markUsed();
      } else if (!state.lastSubject.isEmpty() && !obj.items.isEmpty()) {
        s = state.lastSubject;
      } else if (!state.topics.isEmpty()) {
        s = List.of(state.topics.get(0));
      } else {
        return;
      }
    } else if (!state.lastSubject.isEmpty()) {
      s = state.lastSubject;
    } else {
      return;
    }
    List<Descriptor> o;
    if (obj.usable()) {
      o = obj.descriptors();
    } else if (state.topics.size() >= 2) {
      o = List.of(s.get(0).equals(state.topics.get(1)) ? state.topics.get(0) : state.topics.get(1));
    } else {
      return;
    }
    if (!rel.relNeedsObject && obj.usable()) {
      return; // "on the left, a circle": ambiguous; do not guess
    }
    if (o.size() == 1 && s.size() == 1 && o.get(0).equals(s.get(0)) && state.topics.size() >= 2
        && state.topics.contains(s.get(0))) {
      // "How is the triangle placed with respect to the square?" "Over it.": "it" is the square
      o = List.of(s.get(0).equals(state.topics.get(0)) ? state.topics.get(1)
          : state.topics.get(0));
    }
    subj.markUsed();
    obj.markUsed();
    for (Descriptor a : s) {
      for (Descriptor b : o) {
        if (!a.equals(b) || a.hasNoun()) {
          Claim claim = Claim.relation(a, rel.rel, b);
          out.add(negated ? claim.negate() : claim);
        }
      }
    }
    subjects.clear();
    subjects.addAll(s);
  }

  /** "six crosses, all of them orange", "the circles, both red". */
  private static void quantifiedApposition(List<Item> c, Set<Claim> out) {
    for (int k = 0; k + 1 < c.size(); k++) {
      Item q = c.get(k);
      Item attr = c.get(k + 1);
      if (q.kind == Kind.NP && q.np.pronoun && (q.np.all || q.np.most || q.np.negated)
          && !q.np.used && attr.kind == Kind.NP && attr.np.headless && !attr.np.used
          && attr.np.desc.hasAttribute() && q.np.desc != null && !q.np.other) {
        Claim claim = q.np.negated ? Claim.absent(q.np.desc.merge(attr.np.desc) == null
            ? attr.np.desc : q.np.desc.merge(attr.np.desc))
            : q.np.all ? Claim.all(q.np.desc, attr.np.desc) : Claim.most(q.np.desc, attr.np.desc);
        out.add(claim);
        q.np.used = true;
        attr.np.used = true;
      }
    }
  }

  /** "The shapes are all the same colour", "the circle and the star are the same size". */
  private void same(List<Item> c, int k, Set<Claim> out) {
    Item it = c.get(k);
    Group subj = groupBefore(c, k);
    boolean negated = subj.negated ^ it.different;
    List<Claim> claims = new ArrayList<>();
    if (subj.usable() && subj.items.size() == 2) {
      if (it.aspect == Claim.Aspect.SIZE) {
        claims.add(Claim.comparison(subj.items.get(0).np.desc, Comparison.SAME_SIZE,
            subj.items.get(1).np.desc));
      } else {
        return; // "the star and the square are the same colour": not expressible, not guessed
      }
    } else if (subj.usable() && subj.items.size() == 1) {
      claims.add(Claim.same(subj.items.get(0).np.desc, it.aspect));
    } else {
      claims.add(Claim.same(Descriptor.ANY, it.aspect));
    }
    subj.markUsed();
    for (Claim claim : claims) {
      out.add(negated ? claim.negate() : claim);
    }
  }

  /** "X is in the top-left corner", "In the middle is X", "Top left." (a question's topic). */
  private void position(List<Item> c, int k, State state, Set<Claim> out,
      List<Descriptor> subjects) {
    Region region = c.get(k).region;
    Group subj = groupBefore(c, k);
    boolean negated = subj.negated;
    List<Descriptor> s;
    boolean markSubject = true;
    if (subj.usable()) {
      s = subj.descriptors();
    } else if (subj.end < 0 || onlyFillerBefore(c, k)) {
      Group inv = groupAfter(c, skipInverted(c, k + 1));
      if (inv.usable()) {
        s = inv.descriptors();
        subj = inv;
      } else if (!subjects.isEmpty()) {
        s = new ArrayList<>(subjects);
      } else if (!state.lastSubject.isEmpty()) {
        s = state.lastSubject;
      } else if (!state.topics.isEmpty()) {
        s = List.of(state.topics.get(0));
      } else {
        return;
      }
    } else if (!subjects.isEmpty()) {
      s = new ArrayList<>(subjects); // "the star is red and in the corner"
      markSubject = false;
    } else if (state.last != null) {
      // "Yes, there is one in the corner.", "Actually, more precisely, at the bottom."
      s = List.of(state.last);
      markSubject = false;
    } else {
      return;
    }
    for (Item it : subj.items) {
      negated |= it.np.negated; // "no star is in the corner"
    }
    if (markSubject) {
      for (Item it : subj.items) {
        if (it.np.number <= 0) {
          it.np.used = true; // "two circles are on the left" still counts two circles
        }
      }
    }
    Relation side = switch (region) {
      case LEFT_SIDE -> Relation.LEFT_OF;
      case RIGHT_SIDE -> Relation.RIGHT_OF;
      case TOP_HALF -> Relation.ABOVE;
      case BOTTOM_HALF -> Relation.BELOW;
      default -> null;
    };
    for (Descriptor a : s) {
      Claim claim;
      if (side != null && state.topics.size() >= 2 && state.topics.contains(a)) {
        // "Is the circle left of the square?" "Yes, it is on the left.": the relation asked about
        Descriptor other = a.equals(state.topics.get(1)) ? state.topics.get(0)
            : state.topics.get(1);
        claim = Claim.relation(a, side, other);
      } else {
        claim = Claim.position(a, region);
      }
      out.add(negated ? claim.negate() : claim);
    }
    subjects.clear();
    subjects.addAll(s);
  }

  private static boolean onlyFillerBefore(List<Item> c, int k) {
    for (int j = 0; j < k; j++) {
      Item it = c.get(j);
      if (!(it.kind == Kind.WORD && ADVERBS.contains(it.word)) && it.kind != Kind.CONJ
          && it.kind != Kind.NEG && it.kind != Kind.REL) {
        return false;
      }
    }
    return true;
  }

  /** After an inverted relation's object: skip ", there is", "you can see", "lies". */
  private static int skipInverted(List<Item> c, int j) {
    while (j < c.size() && (c.get(j).kind == Kind.CONJ || c.get(j).kind == Kind.THERE
        || c.get(j).kind == Kind.VERB || c.get(j).kind == Kind.WORD
        && (ADVERBS.contains(c.get(j).word) || c.get(j).word.equals("you")
        || c.get(j).word.equals("i") || c.get(j).word.equals("we")))) {
      j++;
    }
    return j;
  }

  private void sizeComparison(List<Item> c, int k, State state, Set<Claim> out,
      List<Descriptor> subjects) {
    Group obj = groupAfter(c, k + 1);
    Group subj = groupBefore(c, k);
    List<Descriptor> s = subj.usable() ? subj.descriptors()
        : (!state.lastSubject.isEmpty() ? state.lastSubject : null);
    if (s == null || !obj.usable()) {
      // "X and Y are the same size"
      if (c.get(k).cmp == Comparison.SAME_SIZE && subj.items.size() >= 2 && subj.usable()) {
        subj.markUsed();
        out.add(Claim.comparison(subj.items.get(0).np.desc, Comparison.SAME_SIZE,
            subj.items.get(1).np.desc));
      }
      return;
    }
    subj.markUsed();
    obj.markUsed();
    for (Descriptor a : s) {
      for (Descriptor b : obj.descriptors()) {
        Claim claim = Claim.comparison(a, c.get(k).cmp, b);
        out.add(subj.negated ? claim.negate() : claim);
      }
    }
    subjects.clear();
    subjects.addAll(s);
  }

  private void countComparison(List<Item> c, int k, State state, Set<Claim> out) {
    Group a = groupAfter(c, k + 1);
    if (a.items.isEmpty() || a.end >= c.size()) {
      return;
    }
    int j = a.end;
    Item closer = c.get(j);
    if (a.items.size() == 2 && c.get(k).cmp == Comparison.SAME_NUMBER) {
      // "the same number of circles and squares" (the list swallowed the "and")
      a.markUsed();
      out.add(Claim.comparison(a.items.get(0).np.desc, Comparison.SAME_NUMBER,
          a.items.get(1).np.desc));
      return;
    }
    if (!(closer.kind == Kind.THAN || closer.kind == Kind.CONJ)) {
      return;
    }
    Group b = groupAfter(c, j + 1);
    if (!a.usable() || !b.usable()) {
      return;
    }
    boolean negated = false;
    for (int n = 0; n < k; n++) {
      negated ^= c.get(n).kind == Kind.NEG;
    }
    a.markUsed();
    b.markUsed();
    Descriptor da = a.items.get(0).np.desc;
    Descriptor db = b.items.get(0).np.desc;
    if (da.equals(db) && state.topics.size() >= 2) {
      // "No, the diamonds outnumber them": "them" is the other thing the question named
      db = da.equals(state.topics.get(0)) ? state.topics.get(1) : state.topics.get(0);
    }
    Claim claim = Claim.comparison(da, c.get(k).cmp, db);
    out.add(negated ? claim.negate() : claim);
  }

  private void attribute(List<Item> c, int k, State state, Set<Claim> out,
      List<Descriptor> subjects) {
    // Predicate: colours/sizes or an indefinite noun phrase, possibly a list.
    int j = k + 1;
    boolean negated = false;
    while (j < c.size() && (c.get(j).kind == Kind.NEG || c.get(j).kind == Kind.WORD
        && (ADVERBS.contains(c.get(j).word) || c.get(j).word.equals("in")
        || c.get(j).word.equals("of")))) {
      negated ^= c.get(j).kind == Kind.NEG;
      j++;
    }
    if (j < c.size() && c.get(j).kind == Kind.NUMBER) {
      countStatement(c, k, c.get(j).number, negated, out);
      return;
    }
    List<Item> pred = new ArrayList<>();
    while (j < c.size()) {
      Item it = c.get(j);
      if (it.kind == Kind.NP && !it.np.definite && !it.np.pronoun && !it.np.other
          && it.np.number < 0 && !it.np.negated && !it.np.used) {
        pred.add(it);
        j++;
        if (j + 1 < c.size() && c.get(j).kind == Kind.CONJ && !c.get(j).word.equals("with")
            && c.get(j + 1).kind == Kind.NP) {
          j++;
          continue;
        }
        // "red in colour", "large in size"
        while (j < c.size() && c.get(j).kind == Kind.WORD && (c.get(j).word.equals("in")
            || c.get(j).word.equals("colour") || c.get(j).word.equals("color")
            || c.get(j).word.equals("size"))) {
          j++;
        }
        if (j + 1 < c.size() && c.get(j).kind == Kind.CONJ && c.get(j + 1).kind == Kind.NP) {
          j++;
          continue;
        }
      }
      break;
    }
    if (pred.isEmpty()) {
      return;
    }
    Group subj = groupBefore(c, k);
    List<Descriptor> s;
    if (subj.usable()) {
      s = subj.descriptors();
      negated ^= subj.negated;
    } else if (subj.end < 0 && !state.lastSubject.isEmpty()) {
      s = state.lastSubject; // "... and is red"
    } else {
      return;
    }
    for (Item it : subj.items) {
      if (it.np.negated) {
        // "none of the objects is a triangle": nothing is both
        subj.markUsed();
        for (Item p : pred) {
          p.np.used = true;
          Descriptor both = it.np.desc.merge(p.np.desc);
          if (both != null) {
            out.add(Claim.absent(both));
          }
        }
        return;
      }
    }
    if (subj.items.size() == 1 && subj.items.get(0).antecedent != null && !negated) {
      // "two circles that are red": the attribute narrows the phrase it follows
      Item ante = subj.items.get(0).antecedent;
      Descriptor merged = ante.np.desc;
      for (Item p : pred) {
        merged = merged == null ? null : merged.merge(p.np.desc);
      }
      if (merged != null) {
        ante.np.desc = merged;
        for (Item p : pred) {
          p.np.used = true;
        }
        subjects.clear();
        subjects.add(merged);
        return;
      }
    }
    subj.markUsed();
    for (Item p : pred) {
      p.np.used = true;
    }
    boolean mostly = false;
    boolean allAfter = false;
    for (int q = k + 1; q < c.size() && c.get(q).kind == Kind.WORD; q++) {
      String w = c.get(q).word;
      mostly |= w.equals("mostly") || w.equals("mainly") || w.equals("predominantly")
          || w.equals("largely") || w.equals("primarily");
      allAfter |= w.equals("all") || w.equals("both") || w.equals("each") || w.equals("every");
    }
    if (k > 0 && c.get(k - 1).kind == Kind.WORD && (c.get(k - 1).word.equals("all")
        || c.get(k - 1).word.equals("both") || c.get(k - 1).word.equals("each"))) {
      allAfter = true; // "they all are red"
    }
    List<Descriptor> attrs = new ArrayList<>();
    Descriptor cur = null;
    for (Item p : pred) {
      Descriptor d = p.np.desc;
      Descriptor m = cur == null ? d : cur.merge(d);
      if (m == null) {
        attrs.add(cur);
        cur = d;
      } else {
        cur = m;
      }
    }
    attrs.add(cur);
    if (subj.usable() && subj.items.size() == 1 && subj.items.get(0).np.pronoun
        && subj.items.get(0).np.all && state.topics.size() >= 2) {
      // "Are the circle and the triangle the same size?" "Yes, both are large."
      Np q = subj.items.get(0).np;
      subj.items.clear();
      s = new ArrayList<>(state.topics);
      for (Descriptor t : s) {
        for (Descriptor attr : attrs) {
          Claim claim = Claim.all(t, attr);
          out.add(negated ? claim.negate() : claim);
        }
      }
      subjects.clear();
      subjects.addAll(s);
      q.used = true;
      return;
    }
    for (int n = 0; n < s.size(); n++) {
      Descriptor a = s.get(n);
      Np np = n < subj.items.size() && subj.usable() ? subj.items.get(n).np : null;
      for (Descriptor attr : attrs) {
        Claim claim;
        Descriptor both = a.merge(attr);
        if (np != null && np.only && np.number > 0 && both != null) {
          claim = Claim.count(both, np.number); // "only one object is purple"
        } else if (np != null && np.only && np.number < 0) {
          // "only the star is yellow": every yellow object is a star
          claim = Claim.all(attr, a);
        } else if (np != null && np.all || allAfter) {
          claim = Claim.all(a, attr); // "every shape is blue", "both circles are red"
        } else if (np != null && np.most || mostly) {
          claim = Claim.most(a, attr); // "most shapes are blue", "the shapes are mostly blue"
        } else {
          claim = Claim.attribute(a, attr);
        }
        out.add(negated ? claim.negate() : claim);
      }
    }
    subjects.clear();
    subjects.addAll(s);
  }

  /** "the number of circles is three", "the circles are 3". */
  private static void countStatement(List<Item> c, int k, int n, boolean negated, Set<Claim> out) {
    Group subj = groupBefore(c, k);
    if (!subj.usable() || subj.items.size() != 1) {
      return;
    }
    int before = subj.start - 1;
    boolean numberOf = before >= 1 && c.get(before).word.equals("of")
        && c.get(before - 1).word.equals("number");
    if (!numberOf) {
      return;
    }
    subj.markUsed();
    Descriptor d = subj.items.get(0).np.desc;
    Claim claim = n == 0 ? Claim.absent(d) : Claim.count(d, n);
    out.add(negated ? claim.negate() : claim);
  }

  private static int k0(List<Item> c, Item it) {
    return c.indexOf(it);
  }

  private static void existence(List<Item> c, Set<Claim> out) {
    // "seven or eight objects": both counts are claimed, so a wrong option is a hallucination
    for (int k = 0; k + 2 < c.size(); k++) {
      if (c.get(k).kind == Kind.NUMBER && c.get(k + 1).kind == Kind.CONJ
          && c.get(k + 1).word.equals("or") && c.get(k + 2).kind == Kind.NP
          && c.get(k + 2).np.number > 0 && !c.get(k + 2).np.negated
          && (k == 0 || c.get(k - 1).kind != Kind.NEG)) {
        Descriptor d = c.get(k + 2).np.desc;
        if (!c.get(k + 2).np.headless && !c.get(k + 2).np.other) {
          out.add(c.get(k).number == 0 ? Claim.absent(d) : Claim.count(d, c.get(k).number));
        }
      }
    }
    // "The star is absent.", "A dog is not there.": a negation after the verb that follows the
    // last noun phrase denies the phrases before it.
    int lastNp = -1;
    for (int k = 0; k < c.size(); k++) {
      if (c.get(k).kind == Kind.NP) {
        lastNp = k;
      }
    }
    boolean trailing = false;
    boolean verb = false;
    for (int k = lastNp + 1; lastNp >= 0 && k < c.size(); k++) {
      verb |= c.get(k).kind == Kind.VERB;
      if (c.get(k).kind == Kind.NEG && verb) {
        String w = c.get(k).word;
        String next = k + 1 < c.size() ? c.get(k + 1).word : "";
        trailing |= w.equals("absent") || w.equals("missing") || w.equals("nowhere")
            || w.equals("not") && ABSENCE_WORDS.contains(next);
      }
      if (c.get(k).kind == Kind.REL || c.get(k).kind == Kind.SIZE_CMP
          || c.get(k).kind == Kind.ENV) {
        trailing = false;
        break;
      }
    }
    boolean negated = trailing;
    boolean listNegated = false; // "no triangles or stars"
    for (Item it : c) {
      if (it.kind == Kind.NEG) {
        negated = true;
      }
      if (it.kind == Kind.CONJ) {
        listNegated &= !it.word.equals("and") && !it.word.equals("with");
        continue;
      }
      if (it.kind != Kind.NP) {
        listNegated = false;
        continue;
      }
      if (it.np.pronoun && it.np.number > 0 && !it.np.used && !it.np.other && !it.np.negated
          && !it.np.desc.isEmpty()) {
        // "Sure is, three of them actually.": a count of the object talked about
        out.add(negated ? Claim.count(it.np.desc, it.np.number).negate()
            : Claim.count(it.np.desc, it.np.number));
        continue;
      }
      if (it.np.used || it.np.other || it.np.pronoun || it.np.headless
          || trailing && it.np.desc.isEmpty()) {
        continue; // "that one is absent": the phrase it refers to, not "no object at all"
      }
      Np np = it.np;
      Descriptor d = np.desc;
      boolean neg = negated || np.negated || listNegated;
      listNegated = np.negated || listNegated;
      if (np.number == 0 || (neg && np.number < 0)) {
        out.add(Claim.absent(d));
      } else if (np.number > 0) {
        out.add(neg ? Claim.count(d, np.number).negate() : Claim.count(d, np.number));
      } else if (d.hasNoun() || d.hasAttribute()) {
        out.add(Claim.present(d));
        boolean listed = k0(c, it) + 2 < c.size() && c.get(k0(c, it) + 1).kind == Kind.CONJ
            && c.get(k0(c, it) + 2).kind == Kind.NP;
        if (np.only && !neg && !d.isForeign() && !listed) {
          out.add(Claim.all(Descriptor.ANY, d)); // "there are only circles"
        }
      }
    }
  }

  private static void environment(List<Item> c, Set<Claim> out) {
    for (int k = 0; k < c.size(); k++) {
      Item it = c.get(k);
      if (it.kind != Kind.ENV) {
        continue;
      }
      boolean negated = false;
      for (int j = k - 1; j >= 0; j--) {
        Item p = c.get(j);
        if (p.kind == Kind.NP && !p.np.headless) {
          break;
        }
        if (p.kind == Kind.NEG) {
          negated = true;
          break;
        }
      }
      Claim claim = Claim.environment(it.env);
      out.add(negated ? claim.negate() : claim);
    }
  }
}

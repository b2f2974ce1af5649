package org.factrl.data.shapes.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Relation;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Size;
import org.factrl.data.shapes.Words;

/**
 * An independent checker for the generated sentences: it recognises the fixed sentence forms and
 * verifies each against the scene through {@link Scene#count} and {@link Relation#holds}. It counts
 * what it checked, so a test can insist that most sentences were understood (and cannot pass by
 * recognising nothing).
 */
final class SceneTruth {
  private static final String NUM = "(a|an|one|two|three|four|five|six|seven|eight)";
  private static final String PHRASE = "((?:small |large )?(?:red |green |blue |yellow |purple |orange )?"
      + "(?:circle|square|triangle|diamond|star|cross)(?:e?s)?)";
  private static final Pattern THERE_ARE = Pattern.compile("There (?:is|are) " + NUM + " " + PHRASE + "(?: in the image)?");
  private static final Pattern THERE_IS_NO = Pattern.compile("There is no " + PHRASE + "(?: in the image)?");
  private static final Pattern RELATION = Pattern.compile(
      "(?:The|There is an?) " + PHRASE + " (?:is )?(to the left of|to the right of|above|below) the " + PHRASE);
  private static final Pattern TOTAL = Pattern.compile("There (?:is|are) " + NUM + " objects?(?:: (.*))?");
  private static final Pattern SETTING = Pattern.compile("The scene is set (.*)");
  private static final Pattern ATTRIBUTE = Pattern.compile("The " + PHRASE + "(?: in the image)? is (red|green|blue|yellow|purple|orange)");
  private static final Pattern SHAPE_OF = Pattern.compile(
      "The ((?:small |large )?(?:red|green|blue|yellow|purple|orange)) object(?: in the image)? is an? (\\w+)");
  private static final Pattern SHOWS = Pattern.compile("The image (?:shows|contains) (.*)");
  private static final Pattern LIST_THERE = Pattern.compile("There (?:is|are) (.*(?:, | and ).*)");
  private static final Pattern LIST_IN = Pattern.compile("(.*) (?:is|are) in the image");
  private static final Pattern TOTAL_SETTING = Pattern.compile(
      "(?:There (?:is|are) |A picture of )?" + NUM + " objects? ((?:in|on|under) .*)", Pattern.CASE_INSENSITIVE);
  private static final Pattern WITH = Pattern.compile("(.*) with " + NUM + " objects?");
  private static final Pattern BACKGROUND = Pattern.compile("The background is ([a-z ]+)");
  private static final Pattern SO_SET = Pattern.compile(".*, so the scene is set (.*)");
  private static final Pattern ONLY = Pattern.compile("The only object is an? " + PHRASE);

  final Scene scene;
  int checked;
  int unrecognised;
  final List<String> unknown = new ArrayList<>();

  SceneTruth(Scene scene) {
    this.scene = scene;
  }

  /** Checks every recognised sentence of {@code text}; fails on the first false one. */
  void check(String text) {
    for (String sentence : text.split("(?<=\\.) (?=[A-Z])")) {
      String s = sentence.endsWith(".") ? sentence.substring(0, sentence.length() - 1) : sentence;
      if (s.equals("Yes") || s.equals("No")) {
        continue;
      }
      if (checkSentence(s)) {
        checked++;
      } else {
        unrecognised++;
        unknown.add(sentence);
      }
    }
  }

  private boolean checkSentence(String s) {
    Matcher m;
    if ((m = THERE_ARE.matcher(s)).matches()) {
      assertEquals(number(m.group(1)), count(m.group(2)), scene + ": " + s);
      return true;
    }
    if ((m = THERE_IS_NO.matcher(s)).matches()) {
      assertEquals(0, count(m.group(1)), scene + ": " + s);
      return true;
    }
    if ((m = RELATION.matcher(s)).matches()) {
      SceneObject a = unique(m.group(1));
      SceneObject b = unique(m.group(3));
      Relation r = relation(m.group(2));
      assertTrue(r.holds(a, b), scene + ": " + s);
      return true;
    }
    if ((m = TOTAL.matcher(s)).matches()) {
      assertEquals(number(m.group(1)), scene.objects().size(), scene + ": " + s);
      if (m.group(2) != null) {
        for (String part : m.group(2).split(", | and ")) {
          String[] w = part.split(" ");
          assertEquals(number(w[0]), count(w[1]), scene + ": " + s);
        }
      }
      return true;
    }
    if ((m = SETTING.matcher(s)).matches()) {
      assertEquals(Words.setting(scene.environment()), m.group(1), scene + ": " + s);
      return true;
    }
    if ((m = ATTRIBUTE.matcher(s)).matches()) {
      assertEquals(m.group(2), unique(m.group(1)).colour().word(), scene + ": " + s);
      return true;
    }
    if ((m = SHAPE_OF.matcher(s)).matches()) {
      String[] w = m.group(1).split(" ");
      Size size = w.length == 2 ? Words.size(w[0]).orElseThrow() : null;
      Colour colour = Words.colour(w[w.length - 1]).orElseThrow();
      SceneObject match = null;
      for (SceneObject o : scene.objects()) {
        if (o.colour() == colour && (size == null || o.size() == size)) {
          assertTrue(match == null, "not unique: " + s);
          match = o;
        }
      }
      assertEquals(m.group(2), match.shape().singular(), scene + ": " + s);
      return true;
    }
    if ((m = TOTAL_SETTING.matcher(s)).matches()) {
      assertEquals(number(m.group(1).toLowerCase(java.util.Locale.ROOT)), scene.objects().size(), scene + ": " + s);
      assertEquals(Words.setting(scene.environment()), m.group(2), scene + ": " + s);
      return true;
    }
    if ((m = WITH.matcher(s)).matches()) {
      assertEquals(Words.capitalise(scene.environment().phrase()), m.group(1), scene + ": " + s);
      assertEquals(number(m.group(2)), scene.objects().size(), scene + ": " + s);
      return true;
    }
    if ((m = SO_SET.matcher(s)).matches()) {
      assertEquals(Words.setting(scene.environment()), m.group(1), scene + ": " + s);
      return true;
    }
    if ((m = BACKGROUND.matcher(s)).matches()) {
      assertEquals(scene.environment().phrase(), m.group(1), scene + ": " + s);
      return true;
    }
    if ((m = ONLY.matcher(s)).matches()) {
      assertEquals(1, scene.objects().size(), scene + ": " + s);
      assertEquals(1, count(m.group(1)), scene + ": " + s);
      return true;
    }
    if ((m = SHOWS.matcher(s)).matches() && !m.group(1).contains(";")) {
      return checkList(m.group(1), s);
    }
    if ((m = LIST_THERE.matcher(s)).matches()) {
      return checkList(m.group(1), s);
    }
    if ((m = LIST_IN.matcher(s)).matches()) {
      return checkList(Character.toLowerCase(m.group(1).charAt(0)) + m.group(1).substring(1), s);
    }
    return false;
  }

  /** "a red circle, two blue squares and one star" / "two small objects and one large object". */
  private boolean checkList(String list, String s) {
    String[] parts = list.split(", | and ");
    for (String part : parts) {
      if (!part.matches("(?:no|a|an|one|two|three|four|five|six|seven|eight) (?:(?:small|large|red|green|blue|yellow"
          + "|purple|orange) )*(?:object|circle|square|triangle|diamond|star|cross)(?:e?s)?")) {
        return false; // not a counted list
      }
    }
    int total = 0;
    for (String part : parts) {
      int space = part.indexOf(' ');
      int n = number(part.substring(0, space));
      String phrase = part.substring(space + 1);
      assertEquals(n, count(phrase), scene + ": " + s);
      total += n;
    }
    assertTrue(total <= scene.objects().size(), scene + ": " + s);
    return true;
  }

  static int number(String w) {
    return w.equals("a") || w.equals("an") ? 1 : w.equals("no") ? 0 : Words.numberOf(w).orElseThrow();
  }

  /** Objects matching "small red circle", "red circles", "squares", "small objects", ... */
  int count(String phrase) {
    ShapeKind shape = null;
    Colour colour = null;
    Size size = null;
    for (String w : phrase.split(" ")) {
      if (Words.size(w).isPresent()) {
        size = Words.size(w).get();
      } else if (Words.colour(w).isPresent()) {
        colour = Words.colour(w).get();
      } else if (!w.equals("object") && !w.equals("objects")) {
        shape = Words.shape(w).orElseThrow(() -> new AssertionError("not a shape in '" + phrase + "'"));
      }
    }
    return scene.count(shape, colour, size);
  }

  SceneObject unique(String phrase) {
    assertEquals(1, count(phrase), scene + ": '" + phrase + "' must name one object");
    for (SceneObject o : scene.objects()) {
      String p = " " + o.phrase() + " ";
      boolean all = true;
      for (String w : phrase.split(" ")) {
        all &= p.contains(" " + w + " ");
      }
      if (all) {
        return o;
      }
    }
    throw new AssertionError(phrase);
  }

  static Relation relation(String phrase) {
    for (Relation r : Relation.values()) {
      if (r.phrase().equals(phrase)) {
        return r;
      }
    }
    throw new AssertionError(phrase);
  }
}

package org.factrl.data.judge;

import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import java.util.Map;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Environment;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Size;

/**
 * The words the judge knows. Lookups are by lower-case token. Besides the shapes world's own words
 * it lists words for things the world never contains: {@link #FOREIGN_NOUNS} (objects, asserting
 * one present is a hallucinated object) and {@link #FOREIGN_COLOURS} (colours no object has).
 * Scenery words ({@link #SCENERY}) name the backdrop, not objects, and are never claims.
 */
public final class Vocabulary {
  private Vocabulary() {}

  /** Shape words (singular and plural, with a few synonyms) to shapes. */
  public static final ImmutableMap<String, ShapeKind> SHAPES;

  static {
    ImmutableMap.Builder<String, ShapeKind> b = ImmutableMap.builder();
    for (ShapeKind s : ShapeKind.values()) {
      b.put(s.singular(), s).put(s.plural(), s);
    }
    b.put("disc", ShapeKind.CIRCLE).put("discs", ShapeKind.CIRCLE).put("disk", ShapeKind.CIRCLE)
        .put("disks", ShapeKind.CIRCLE).put("rhombus", ShapeKind.DIAMOND)
        .put("rhombuses", ShapeKind.DIAMOND).put("rhombi", ShapeKind.DIAMOND)
        .put("lozenge", ShapeKind.DIAMOND).put("lozenges", ShapeKind.DIAMOND)
        // near-synonyms a describer uses for the same drawing (issue 11, class 5)
        .put("dot", ShapeKind.CIRCLE).put("dots", ShapeKind.CIRCLE).put("ring", ShapeKind.CIRCLE)
        .put("rings", ShapeKind.CIRCLE).put("round", ShapeKind.CIRCLE)
        .put("circular", ShapeKind.CIRCLE).put("roundel", ShapeKind.CIRCLE)
        .put("box", ShapeKind.SQUARE).put("boxes", ShapeKind.SQUARE)
        .put("squarish", ShapeKind.SQUARE).put("block", ShapeKind.SQUARE)
        .put("blocks", ShapeKind.SQUARE).put("tile", ShapeKind.SQUARE)
        .put("tiles", ShapeKind.SQUARE)
        .put("triangular", ShapeKind.TRIANGLE).put("wedge", ShapeKind.TRIANGLE)
        .put("wedges", ShapeKind.TRIANGLE)
        .put("pentagram", ShapeKind.STAR).put("pentagrams", ShapeKind.STAR)
        .put("starburst", ShapeKind.STAR).put("asterisk", ShapeKind.STAR)
        .put("crosses", ShapeKind.CROSS).put("cruciform", ShapeKind.CROSS)
        .put("diamonds", ShapeKind.DIAMOND);
    SHAPES = b.buildKeepingLast();
  }

  public static final ImmutableSet<String> PLURAL_SHAPE_WORDS;

  static {
    ImmutableSet.Builder<String> b = ImmutableSet.builder();
    for (ShapeKind s : ShapeKind.values()) {
      b.add(s.plural());
    }
    PLURAL_SHAPE_WORDS = b.add("discs", "disks", "rhombuses", "rhombi", "lozenges").build();
  }

  public static final ImmutableMap<String, Colour> COLOURS;

  static {
    ImmutableMap.Builder<String, Colour> b = ImmutableMap.builder();
    for (Colour c : Colour.values()) {
      b.put(c.word(), c);
    }
    // Shades that fairly name one of the six colours (issue 11, class 5).
    String[][] shades = {
        {"red", "crimson", "scarlet", "ruby", "cherry", "vermilion", "vermillion", "carmine",
            "reddish", "maroon", "burgundy", "brick", "cardinal", "garnet"},
        {"green", "emerald", "lime", "olive", "jade", "greenish", "mint", "sage", "kelly",
            "verdant"},
        {"blue", "navy", "azure", "cobalt", "sapphire", "royal", "bluish", "blueish", "cerulean",
            "ultramarine", "denim", "cornflower"},
        {"yellow", "lemon", "gold", "golden", "mustard", "canary", "yellowish", "butter",
            "sunflower", "saffron", "banana", "daffodil"},
        {"purple", "violet", "lavender", "lilac", "mauve", "plum", "purplish", "amethyst",
            "grape", "orchid", "eggplant", "aubergine"},
        {"orange", "tangerine", "apricot", "orangish", "orangey", "pumpkin", "carrot", "rust",
            "copper", "ginger", "marigold", "clementine", "mandarin"}};
    for (int i = 0; i < shades.length; i++) {
      for (int k = 1; k < shades[i].length; k++) {
        b.put(shades[i][k], Colour.values()[i]);
      }
    }
    COLOURS = b.buildOrThrow();
  }

  /**
   * Colour words that fairly name more than one of the six colours: "not checkable" when an object
   * of one of them fits, a hallucination only when none does.
   */
  public static final ImmutableMap<String, Vague> VAGUE_COLOURS = ImmutableMap.<String, Vague>
      builder()
      .put("teal", Vague.colour("teal", Colour.BLUE, Colour.GREEN))
      .put("turquoise", Vague.colour("turquoise", Colour.BLUE, Colour.GREEN))
      .put("cyan", Vague.colour("cyan", Colour.BLUE, Colour.GREEN))
      .put("aqua", Vague.colour("aqua", Colour.BLUE, Colour.GREEN))
      .put("aquamarine", Vague.colour("aquamarine", Colour.BLUE, Colour.GREEN))
      .put("indigo", Vague.colour("indigo", Colour.BLUE, Colour.PURPLE))
      .put("magenta", Vague.colour("magenta", Colour.PURPLE, Colour.RED))
      .put("fuchsia", Vague.colour("fuchsia", Colour.PURPLE, Colour.RED))
      .put("amber", Vague.colour("amber", Colour.YELLOW, Colour.ORANGE))
      .put("ochre", Vague.colour("ochre", Colour.YELLOW, Colour.ORANGE))
      .put("peach", Vague.colour("peach", Colour.ORANGE, Colour.YELLOW))
      .put("coral", Vague.colour("coral", Colour.ORANGE, Colour.RED))
      .put("salmon", Vague.colour("salmon", Colour.ORANGE, Colour.RED))
      .put("khaki", Vague.colour("khaki", Colour.YELLOW, Colour.GREEN))
      .put("chartreuse", Vague.colour("chartreuse", Colour.YELLOW, Colour.GREEN))
      .buildKeepingLast();

  /** Size words that fit either size ("medium", "average"): never checkable. */
  public static final ImmutableMap<String, Vague> VAGUE_SIZES = ImmutableMap.of(
      "medium", Vague.size("medium", Size.SMALL, Size.LARGE),
      "moderate", Vague.size("moderate", Size.SMALL, Size.LARGE),
      "average", Vague.size("average", Size.SMALL, Size.LARGE),
      "mid", Vague.size("mid", Size.SMALL, Size.LARGE));

  /** Shape words that fit some of the six shapes without naming one ("rectangle" for a square). */
  public static final ImmutableMap<String, Vague> VAGUE_SHAPES;

  static {
    ImmutableMap.Builder<String, Vague> b = ImmutableMap.builder();
    Object[][] rows = {
        {"rectangle", new ShapeKind[] {ShapeKind.SQUARE}},
        {"rectangular", new ShapeKind[] {ShapeKind.SQUARE}},
        {"quadrilateral", new ShapeKind[] {ShapeKind.SQUARE, ShapeKind.DIAMOND}},
        {"parallelogram", new ShapeKind[] {ShapeKind.SQUARE, ShapeKind.DIAMOND}},
        {"polygon", new ShapeKind[] {ShapeKind.SQUARE, ShapeKind.DIAMOND, ShapeKind.TRIANGLE,
            ShapeKind.STAR, ShapeKind.CROSS}},
        {"oval", new ShapeKind[] {ShapeKind.CIRCLE}},
        {"ellipse", new ShapeKind[] {ShapeKind.CIRCLE}},
        {"orb", new ShapeKind[] {ShapeKind.CIRCLE}},
        {"sphere", new ShapeKind[] {ShapeKind.CIRCLE}},
        {"blob", new ShapeKind[] {ShapeKind.CIRCLE}}};
    for (Object[] r : rows) {
      String w = (String) r[0];
      Vague v = Vague.shape(w, (ShapeKind[]) r[1]);
      b.put(w, v);
      if (!w.endsWith("ar")) {
        b.put(w.endsWith("x") || w.endsWith("s") ? w + "es" : w + "s", v);
      }
    }
    VAGUE_SHAPES = b.buildOrThrow();
  }

  /** Colours no object of the shapes world has. */
  public static final ImmutableSet<String> FOREIGN_COLOURS = ImmutableSet.of("pink", "brown",
      "black", "white", "grey", "gray", "silver", "beige", "tan", "cream", "ivory", "charcoal",
      "bronze", "chocolate", "taupe");

  public static final ImmutableMap<String, Size> SIZES = ImmutableMap.<String, Size>builder()
      .put("small", Size.SMALL).put("little", Size.SMALL).put("tiny", Size.SMALL)
      .put("smaller", Size.SMALL).put("smallest", Size.SMALL).put("mini", Size.SMALL)
      .put("large", Size.LARGE).put("big", Size.LARGE).put("huge", Size.LARGE)
      .put("giant", Size.LARGE).put("larger", Size.LARGE).put("largest", Size.LARGE)
      .put("bigger", Size.LARGE).put("biggest", Size.LARGE).put("enormous", Size.LARGE)
      .put("massive", Size.LARGE)
      // near-synonyms (issue 11, class 5)
      .put("sizeable", Size.LARGE).put("sizable", Size.LARGE).put("hefty", Size.LARGE)
      .put("oversized", Size.LARGE).put("substantial", Size.LARGE).put("bulky", Size.LARGE)
      .put("jumbo", Size.LARGE).put("immense", Size.LARGE).put("vast", Size.LARGE)
      .put("gigantic", Size.LARGE).put("bigger-than-average", Size.LARGE)
      .put("petite", Size.SMALL).put("minute", Size.SMALL).put("miniature", Size.SMALL)
      .put("teeny", Size.SMALL).put("wee", Size.SMALL).put("minuscule", Size.SMALL)
      .put("diminutive", Size.SMALL).put("compact", Size.SMALL).put("itty", Size.SMALL)
      .put("tinier", Size.SMALL).put("tiniest", Size.SMALL).put("littler", Size.SMALL)
      .put("littlest", Size.SMALL).put("greater", Size.LARGE)
      .buildOrThrow();

  /** Heads that name "an object" without saying which shape. */
  public static final ImmutableSet<String> GENERIC_NOUNS = ImmutableSet.of("object", "objects",
      "shape", "shapes", "thing", "things", "item", "items", "figure", "figures", "form", "forms",
      "element", "elements", "ones");

  public static final ImmutableSet<String> PLURAL_GENERIC_NOUNS = ImmutableSet.of("objects",
      "shapes", "things", "items", "figures", "forms", "elements", "ones");

  /**
   * Nouns for objects that the shapes world never contains, plural → singular. A text asserting one
   * present ("there is a dog") hallucinates an object; "there is no dog" is correct. The list covers
   * other geometric shapes and common things a captioning model tends to invent.
   */
  public static final ImmutableMap<String, String> FOREIGN_NOUNS;

  static {
    String[] singular = {"hexagon", "pentagon", "octagon", "heart",
        "arrow", "crescent", "cube", "cylinder", "cone", "pyramid", "spiral", "dog",
        "cat", "bird", "horse", "cow", "sheep", "fish", "duck", "bear", "car", "bus", "truck",
        "bicycle", "bike", "boat", "ship", "plane", "airplane", "train", "person", "man", "woman",
        "boy", "girl", "child", "kid", "tree", "flower", "bush", "plant", "rock", "stone", "shell",
        "umbrella", "ball", "toy", "balloon", "chair", "table", "lamp", "sofa", "couch",
        "bed", "book", "cup", "bottle", "vase", "clock", "window", "door", "rug", "sun", "moon",
        "cloud", "snowman", "house", "building", "fence", "bench", "hat", "bag"};
    ImmutableMap.Builder<String, String> b = ImmutableMap.builder();
    for (String s : singular) {
      b.put(s, s);
      String plural = switch (s) {
        case "person" -> "people";
        case "man" -> "men";
        case "woman" -> "women";
        case "child" -> "children";
        case "sheep", "fish" -> null;
        default -> s.endsWith("s") || s.endsWith("sh") || s.endsWith("ch") || s.endsWith("x")
            ? s + "es" : (s.endsWith("y") && !s.endsWith("ay") && !s.endsWith("oy")
                ? s.substring(0, s.length() - 1) + "ies" : s + "s");
      };
      if (plural != null) {
        b.put(plural, s);
      }
    }
    FOREIGN_NOUNS = b.buildOrThrow();
  }

  private static final ImmutableMap<String, String> FOREIGN_PLURALS;

  static {
    ImmutableMap.Builder<String, String> b = ImmutableMap.builder();
    for (Map.Entry<String, String> e : FOREIGN_NOUNS.entrySet()) {
      if (!e.getKey().equals(e.getValue())) {
        b.put(e.getValue(), e.getKey());
      }
    }
    FOREIGN_PLURALS = b.buildOrThrow();
  }

  /** Backdrop nouns: neither objects nor hallucinations. */
  public static final ImmutableSet<String> SCENERY = ImmutableSet.of("sky", "background",
      "backdrop", "ground", "water", "sea", "ocean", "wall", "walls", "horizon", "landscape",
      "setting", "environment", "surface");

  /** Nouns for the image itself: "on the left of the image" is a position, not a relation. */
  public static final ImmutableSet<String> IMAGE_NOUNS = ImmutableSet.of("image", "picture",
      "scene", "photo", "photograph", "frame", "canvas", "view", "illustration", "drawing");

  /** Environment words; all forms of one environment, adjectives included. */
  public static final ImmutableMap<String, Environment> ENVIRONMENT_WORDS =
      ImmutableMap.<String, Environment>builder()
          .put("beach", Environment.BEACH).put("beaches", Environment.BEACH)
          .put("sand", Environment.BEACH).put("sandy", Environment.BEACH)
          .put("shore", Environment.BEACH).put("seaside", Environment.BEACH)
          .put("seashore", Environment.BEACH).put("coast", Environment.BEACH)
          .put("snow", Environment.SNOW).put("snowy", Environment.SNOW)
          .put("snowfield", Environment.SNOW).put("winter", Environment.SNOW)
          .put("wintry", Environment.SNOW).put("ice", Environment.SNOW)
          .put("icy", Environment.SNOW).put("snowscape", Environment.SNOW)
          .put("night", Environment.NIGHT).put("nighttime", Environment.NIGHT)
          .put("starless", Environment.NIGHT).put("starry", Environment.NIGHT)
          .put("midnight", Environment.NIGHT).put("darkness", Environment.NIGHT)
          .put("dark", Environment.NIGHT)
          .put("field", Environment.FIELD).put("fields", Environment.FIELD)
          .put("grass", Environment.FIELD).put("grassy", Environment.FIELD)
          .put("meadow", Environment.FIELD).put("lawn", Environment.FIELD)
          .put("grassland", Environment.FIELD).put("pasture", Environment.FIELD)
          .put("room", Environment.ROOM).put("floor", Environment.ROOM)
          .put("indoors", Environment.ROOM).put("indoor", Environment.ROOM)
          .put("wooden", Environment.ROOM).put("hardwood", Environment.ROOM)
          .put("parquet", Environment.ROOM).put("interior", Environment.ROOM)
          .buildOrThrow();

  /** Number words to values. */
  public static final ImmutableMap<String, Integer> NUMBERS;
  private static final String[] NUMBER_WORDS = {"zero", "one", "two", "three", "four", "five",
      "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen",
      "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"};

  static {
    ImmutableMap.Builder<String, Integer> b = ImmutableMap.builder();
    for (int i = 0; i < NUMBER_WORDS.length; i++) {
      b.put(NUMBER_WORDS[i], i);
    }
    NUMBERS = b.put("single", 1).put("pair", 2).put("couple", 2).buildOrThrow();
  }

  /** The number a token names ("three", "3"), or -1. */
  public static int number(String token) {
    Integer n = NUMBERS.get(token);
    if (n != null) {
      return n;
    }
    if (!token.isEmpty() && token.length() <= 3 && token.chars().allMatch(Character::isDigit)) {
      return Integer.parseInt(token);
    }
    return -1;
  }

  /** "three" for 3; digits above twenty. */
  public static String numberWord(int n) {
    return n >= 0 && n < NUMBER_WORDS.length ? NUMBER_WORDS[n] : Integer.toString(n);
  }

  /** "a" or "an" before {@code phrase}. */
  public static String article(String phrase) {
    return !phrase.isEmpty() && "aeiou".indexOf(phrase.charAt(0)) >= 0 ? "an" : "a";
  }

  /** Plural of a foreign noun's singular. */
  public static String pluralOf(String foreignSingular) {
    return FOREIGN_PLURALS.getOrDefault(foreignSingular, foreignSingular);
  }
}

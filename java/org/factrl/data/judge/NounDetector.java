package org.factrl.data.judge;

import com.google.common.collect.ImmutableSet;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import opennlp.tools.postag.POSModel;
import opennlp.tools.postag.POSTagFormat;
import opennlp.tools.postag.POSTaggerME;

/**
 * Finds the nouns of a sentence that name things outside the shapes world ("lamp", "sled",
 * "teapot"), with Apache OpenNLP's maximum-entropy part-of-speech tagger and its published English
 * model (UD English-EWT, Maven artifact {@code org.apache.opennlp:opennlp-models-pos-en}). A
 * statistical tagger reads any word in context, so the judge needs no list of the things a model
 * might invent; it only lists the nouns that are <em>not</em> objects ({@link #NOT_OBJECTS}: the
 * picture's layout, colour and size words, hedges), which is a closed set.
 *
 * <p>A token is an "outside noun" when the tagger tags it NOUN or PROPN and it is none of the
 * world's shape, colour, size, environment, scenery, image or generic words, nor one of {@link
 * #NOT_OBJECTS}. The model is loaded once (about 1 MB, a few hundred ms); a tagger per thread,
 * since {@link POSTaggerME} is not thread-safe while the model is.
 */
final class NounDetector {
  private NounDetector() {}

  /** The model file inside the models jar (named by the artifact's model.properties). */
  static final String MODEL_RESOURCE = "/opennlp-en-ud-ewt-pos-1.3-2.5.4.bin";

  private static final class Holder {
    static final POSModel MODEL = load();

    private static POSModel load() {
      try (InputStream in = NounDetector.class.getResourceAsStream(MODEL_RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException("OpenNLP POS model " + MODEL_RESOURCE
              + " is not on the class path (artifact org.apache.opennlp:opennlp-models-pos-en)");
        }
        return new POSModel(in);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read OpenNLP POS model " + MODEL_RESOURCE, e);
      }
    }
  }

  private static final ThreadLocal<POSTaggerME> TAGGER =
      ThreadLocal.withInitial(() -> new POSTaggerME(Holder.MODEL, POSTagFormat.UD));

  /**
   * Nouns that never name an object of the picture: its layout and parts, words about colour,
   * size, number and kind, about the image, and the nouns of hedges and politeness.
   */
  static final ImmutableSet<String> NOT_OBJECTS = ImmutableSet.of(
      // layout and regions of the picture
      "left", "right", "top", "bottom", "middle", "centre", "center", "side", "sides", "corner",
      "corners", "edge", "edges", "half", "halves", "third", "thirds", "quarter", "part", "parts",
      "area", "areas", "region", "regions", "section", "portion", "space", "spaces", "position",
      "positions", "location", "locations", "spot", "place", "places", "front", "back", "rear",
      "row", "rows", "column", "columns", "line", "lines", "distance", "gap", "spacing", "way",
      "direction", "orientation", "arrangement", "layout", "composition", "pattern", "order",
      "relation", "relationship", "level", "height", "width", "length", "axis", "diagonal",
      "border", "outline", "boundary", "upper", "lower", "foreground", "vicinity", "north",
      "south", "east", "west", "bit", "lot", "lots", "rest", "others", "majority", "minority",
      "most", "all", "none", "each", "either", "neither", "both", "remainder",
      // colour, size, number and kind
      "colour", "colours", "color", "colors", "hue", "hues", "shade", "shades", "tone", "tones",
      "tint", "palette", "scheme", "size", "sizes", "scale", "dimension", "dimensions",
      "number", "numbers", "count", "total", "amount", "quantity", "sum", "tally", "pair",
      "couple", "kind", "kinds", "type", "types", "sort", "sorts", "variety", "mix", "mixture",
      "combination", "set", "group", "groups", "collection", "cluster", "bunch", "array",
      "assortment", "selection", "instance", "instances", "example", "copy", "copies", "version",
      "variant", "style", "design", "form", "forms", "outline", "fill", "contrast", "difference",
      "differences", "similarity", "comparison", "match", "point", "points", "tip", "tips",
      "vertex", "vertices", "arm", "arms", "angle", "angles", "surface", "texture",
      // the picture itself and its content
      "image", "images", "picture", "pictures", "photo", "photos", "photograph", "scene",
      "scenes", "view", "frame", "canvas", "illustration", "drawing", "diagram", "graphic",
      "graphics", "artwork", "rendering", "depiction", "content", "contents", "composition",
      "subject", "subjects", "focus", "detail", "details", "feature", "features", "element",
      "elements", "item", "items", "object", "objects", "thing", "things", "shape", "shapes",
      "figure", "figures", "entity", "entities", "presence", "absence", "appearance",
      "background", "backdrop", "setting", "environment", "scenery", "landscape", "terrain",
      "ground", "sky", "horizon", "weather", "atmosphere", "mood", "light", "lighting",
      "daylight", "daytime", "time", "day", "evening", "dusk", "dark", "water", "sea", "ocean",
      "wave", "waves", "planks", "plank", "wood", "board", "boards", "seam", "seams", "dots",
      "flakes", "snowflakes", "drifts", "stripes", "texture", "gradient", "pixel", "pixels",
      // answers, hedges and politeness
      "answer", "answers", "question", "questions", "yes", "no", "doubt", "certainty", "sure",
      "guess", "opinion", "view", "eye", "eyes", "glance", "sight", "look", "impression",
      "sense", "fact", "case", "truth", "mistake", "error", "chance", "honesty", "summary",
      "description", "overview", "note", "word", "words", "term", "terms", "name", "names",
      "list", "response", "reply", "observation", "help", "hope", "thanks", "lol", "hmm",
      "ok", "okay", "sir", "madam", "friend", "user", "assistant", "model", "ai", "me", "i",
      "one", "ones", "nothing", "something", "anything", "everything", "lt", "gt", "etc",
      "x", "y", "plus", "sign", "signs", "mark", "marks", "symbol", "symbols", "glyph",
      "icon", "icons", "altogether", "resolution", "quality", "blur", "clarity", "detail",
      "counting", "count", "tally", "precision", "accuracy", "moment", "glance", "rest", "tad",
      "bit", "touch", "hint", "sort", "kind", "way", "much", "many", "couple", "ton", "tons",
      "lots", "number", "ones", "kinds", "times", "time", "twice", "once", "amount", "scenario",
      "image's", "photo's", "centre's", "frame's", "look", "looks", "outnumber", "half",
      "midpoint", "centerline", "centreline", "diagonal", "fraction", "percent", "thirds",
      "margin", "margins", "boundary", "boundaries", "limit", "limits", "side's", "everything",
      "nobody", "anybody", "someone", "anyone", "everyone", "relative", "respect", "regard",
      "reference", "terms", "relation", "proportion", "ratio", "neighbour", "neighbor",
      "neighbours", "neighbors", "counterpart", "partner", "twin", "sibling", "companion",
      "tie", "draw", "vs", "versus", "appearance", "appearances", "occurrence", "occurrences",
      "frequency", "winner", "lead", "favourite", "favorite", "runner");

  /**
   * For each token of a sentence (lower-case, commas as their own tokens), whether it is a noun
   * naming something outside the shapes world. {@code known} says which tokens the judge's own
   * vocabulary already reads.
   */
  static boolean[] outsideNouns(List<String> tokens, java.util.function.Predicate<String> known) {
    boolean[] out = new boolean[tokens.size()];
    if (tokens.isEmpty()) {
      return out;
    }
    String[] words = tokens.toArray(new String[0]);
    String[] tags = TAGGER.get().tag(words);
    for (int k = 0; k < words.length; k++) {
      String w = words[k];
      boolean noun = tags[k].equals("NOUN") || tags[k].equals("PROPN") || tags[k].startsWith("NN");
      String prev = k > 0 ? words[k - 1] : "";
      String after = k + 1 < words.length ? tags[k + 1] : "PUNCT";
      if (!noun && (tags[k].equals("VERB") || tags[k].equals("ADJ"))
          && (prev.equals("a") || prev.equals("an")) && !w.endsWith("ing")
          && (tags[k].equals("VERB") || after.equals("ADP") || after.equals("PUNCT")
              || after.equals("VERB") || after.equals("AUX") || after.equals("CCONJ"))) {
        noun = true; // "a sled rests": after "a" a word is a noun or an adjective, never a verb
      }
      if (noun && w.endsWith("s") && k > 0 && (known.test(prev) || out[k - 1])
          && (k + 1 >= words.length || !tags[k + 1].equals("NOUN"))
          && (isNounTag(tags[k - 1]) || out[k - 1])) {
        noun = false; // "a sled rests", "the circle sits": a verb the tagger took for a plural
      }
      out[k] = noun && w.length() > 1 && w.chars().allMatch(Character::isLetter)
          && !known.test(w) && !NOT_OBJECTS.contains(w) && !NOT_OBJECTS.contains(singular(w));
    }
    return out;
  }

  private static boolean isNounTag(String tag) {
    return tag.equals("NOUN") || tag.equals("PROPN") || tag.startsWith("NN");
  }

  /** A plain English singular for a plural noun ("lamps" → "lamp", "boxes" → "box"). */
  static String singular(String w) {
    if (w.endsWith("ies") && w.length() > 4) {
      return w.substring(0, w.length() - 3) + "y";
    }
    if ((w.endsWith("ches") || w.endsWith("shes") || w.endsWith("xes") || w.endsWith("sses"))
        && w.length() > 4) {
      return w.substring(0, w.length() - 2);
    }
    if (w.endsWith("s") && !w.endsWith("ss") && !w.endsWith("us") && w.length() > 3) {
      return w.substring(0, w.length() - 1);
    }
    return w;
  }
}

package org.factrl.data.format;

import com.google.common.collect.ImmutableList;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Optional;

/**
 * The conversation rules shared by every format. Turns alternate starting with {@code human};
 * values are non-empty; a record with an image has exactly one {@value #IMAGE_PLACEHOLDER}
 * placeholder, in its first human turn; a record without one has none.
 */
public final class Conversations {
  /** The placeholder LLaVA replaces with the image's visual tokens. */
  public static final String IMAGE_PLACEHOLDER = "<image>";

  /** How a conversation must end. */
  enum Ending {
    /** SFT data: the last turn is the answer to learn. */
    GPT,
    /** A prompt awaiting a response (preference pairs). */
    HUMAN,
    /** Either (RL prompts use only the first question). */
    ANY
  }

  private Conversations() {}

  /** Number of non-overlapping occurrences of {@value #IMAGE_PLACEHOLDER} in {@code text}. */
  public static int countImagePlaceholders(String text) {
    int n = 0;
    for (int at = text.indexOf(IMAGE_PLACEHOLDER); at >= 0;
        at = text.indexOf(IMAGE_PLACEHOLDER, at + IMAGE_PLACEHOLDER.length())) {
      n++;
    }
    return n;
  }

  /** Checks the rules above; the field paths name {@code conversations[i]}. */
  static ImmutableList<Turn> check(List<Turn> turns, boolean hasImage, Ending ending) {
    if (turns == null) {
      throw new InvalidFieldException("conversations", "missing");
    }
    ImmutableList<Turn> copy = ImmutableList.copyOf(turns);
    if (copy.isEmpty()) {
      throw new InvalidFieldException("conversations", "must hold at least one turn");
    }
    for (int i = 0; i < copy.size(); i++) {
      Speaker expected = i % 2 == 0 ? Speaker.HUMAN : Speaker.GPT;
      Speaker got = copy.get(i).from();
      if (got != expected) {
        throw new InvalidFieldException("conversations[" + i + "].from", "expected '" + expected.jsonName()
            + "' (turns alternate starting with 'human'), got '" + got.jsonName() + "'");
      }
      int placeholders = countImagePlaceholders(copy.get(i).value());
      String valuePath = "conversations[" + i + "].value";
      if (!hasImage && placeholders > 0) {
        throw new InvalidFieldException(valuePath, "'" + IMAGE_PLACEHOLDER + "' placeholder in a record without an image");
      }
      if (hasImage && i == 0 && placeholders != 1) {
        throw new InvalidFieldException(valuePath, "expected exactly one '" + IMAGE_PLACEHOLDER
            + "' placeholder in the first human turn of a record with an image, found " + placeholders);
      }
      if (hasImage && i > 0 && placeholders > 0) {
        throw new InvalidFieldException(valuePath, "'" + IMAGE_PLACEHOLDER + "' placeholder outside the first human turn");
      }
    }
    Speaker last = copy.get(copy.size() - 1).from();
    if (ending == Ending.GPT && last != Speaker.GPT) {
      throw new InvalidFieldException("conversations", "must end with a 'gpt' turn, got 'human' last");
    }
    if (ending == Ending.HUMAN && last != Speaker.HUMAN) {
      throw new InvalidFieldException("conversations", "must end with a 'human' turn (the prompt), got 'gpt' last");
    }
    return copy;
  }

  /** Reads the {@code conversations} array of turns (field types only; {@link #check} does the rules). */
  static ImmutableList<Turn> read(JsonObject o) {
    JsonArray a = JsonRecords.array(o, "conversations", "conversations");
    ImmutableList.Builder<Turn> turns = ImmutableList.builderWithExpectedSize(a.size());
    for (int i = 0; i < a.size(); i++) {
      String path = "conversations[" + i + "]";
      JsonObject t = JsonRecords.object(a.get(i), path);
      String from = JsonRecords.string(t, "from", path + ".from");
      Speaker speaker;
      if (from.equals(Speaker.HUMAN.jsonName())) {
        speaker = Speaker.HUMAN;
      } else if (from.equals(Speaker.GPT.jsonName())) {
        speaker = Speaker.GPT;
      } else {
        throw new InvalidFieldException(path + ".from", "expected 'human' or 'gpt', got '" + from + "'");
      }
      turns.add(new Turn(speaker, JsonRecords.text(t, "value", path + ".value")));
    }
    return turns.build();
  }

  static JsonArray toJson(List<Turn> turns) {
    JsonArray a = new JsonArray(turns.size());
    for (Turn t : turns) {
      a.add(turn(t.from().jsonName(), t.value()));
    }
    return a;
  }

  static JsonObject turn(String from, String value) {
    JsonObject o = new JsonObject();
    o.addProperty("from", from);
    o.addProperty("value", value);
    return o;
  }

  static void putImage(JsonObject o, Optional<String> image) {
    image.ifPresent(i -> o.addProperty("image", i));
  }

  static void checkId(String id) {
    if (id == null || id.isBlank()) {
      throw new InvalidFieldException("id", "must not be empty");
    }
  }

  static void checkImage(Optional<String> image) {
    if (image == null) {
      throw new InvalidFieldException("image", "use Optional.empty() for a text-only record");
    }
    if (image.isPresent()) {
      checkImagePath(image.get(), "image");
    }
  }

  /**
   * An image field names a file relative to the data set's image folder: not blank, no control
   * character (a NUL made {@code Path.of} throw InvalidPathException far from the record), relative,
   * and a path this platform can represent. The file itself is checked when it is loaded.
   */
  static void checkImagePath(String value, String field) {
    if (value == null) {
      throw new InvalidFieldException(field, "missing");
    }
    if (value.isBlank()) {
      throw new InvalidFieldException(field, "must not be empty");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw new InvalidFieldException(field, String.format("control character U+%04X at index %d", (int) c, i));
      }
    }
    try {
      if (java.nio.file.Path.of(value).isAbsolute()) {
        throw new InvalidFieldException(field, "must be relative to the image folder, got \"" + value + "\"");
      }
    } catch (java.nio.file.InvalidPathException e) {
      throw new InvalidFieldException(field, "not a usable path: " + e.getReason());
    }
  }
}

package org.factrl.data.format;

import com.google.common.base.Preconditions;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import org.factrl.engine.FactRlException;

/**
 * The one JSON syntax every FactRL reader accepts: RFC 8259 and nothing more. Gson's strict mode
 * rejects comments, single quotes, unquoted keys and strings, raw control characters in strings,
 * NaN and trailing content; this class adds what Gson's tree parser does not check:
 *
 * <ul>
 *   <li>a key may appear once per object. Gson's tree keeps the last of two equal keys, so
 *       {@code "preference": 1, "preference": 2} would read as 2 without a word; here it is an
 *       error naming the field's path ({@code record 3: field 'conversations[2].from'});
 *   <li>at most {@value #MAX_DEPTH} nested arrays/objects. None of our formats nests deeper than 8;
 *       the limit keeps recursive code downstream (Gson's {@code equals}/{@code toString}, the HF
 *       tokenizer's own parser, which stops at 128) from overflowing the stack.
 * </ul>
 *
 * The tree is built with an explicit stack, so no input can overflow the Java stack here.
 */
public final class StrictJson {
  /** Deepest nesting of arrays and objects accepted. */
  public static final int MAX_DEPTH = 64;

  private StrictJson() {}

  /**
   * Parses {@code text}; errors are {@link FactRlException}s starting with {@code source} (a file,
   * or {@code "file: line 7"}). When the top level is an array, an error inside element {@code i}
   * names {@code record i}, as the record readers do.
   */
  public static JsonElement parse(String text, String source) {
    Preconditions.checkNotNull(text, "text");
    Preconditions.checkNotNull(source, "source");
    JsonReader reader = new JsonReader(new StringReader(text));
    reader.setStrictness(Strictness.STRICT);
    reader.setNestingLimit(MAX_DEPTH);
    try {
      JsonElement root = build(reader, source);
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new FactRlException(source + ": not valid JSON: trailing content after the JSON value at "
            + reader.getPath());
      }
      return root;
    } catch (JsonParseException | IOException | IllegalStateException e) {
      // JsonParseException wraps the MalformedJsonException / EOFException of the scalar reads
      Throwable cause = e instanceof JsonParseException && e.getCause() != null ? e.getCause() : e;
      throw new FactRlException(source + ": not valid JSON: " + forUsers(cause.getMessage()), e);
    }
  }

  /** Gson's message without its advice to programmers (switch to lenient mode; a web page). */
  private static String forUsers(String gsonMessage) {
    String m = String.valueOf(gsonMessage);
    int see = m.indexOf("\nSee https://");
    if (see >= 0) {
      m = m.substring(0, see);
    }
    return m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
  }

  /** An open array or object and, for an object, the key whose value is being read. */
  private static final class Open {
    final JsonElement container;
    String key;

    Open(JsonElement container) {
      this.container = container;
    }
  }

  private static JsonElement build(JsonReader reader, String source) throws IOException {
    Deque<Open> open = new ArrayDeque<>();
    while (true) {
      JsonToken token = reader.peek();
      JsonElement value;
      switch (token) {
        case NAME -> {
          Open top = open.peek();
          String key = reader.nextName();
          if (top.container.getAsJsonObject().has(key)) {
            throw duplicate(source, open, key);
          }
          top.key = key;
          continue;
        }
        case BEGIN_ARRAY -> {
          reader.beginArray();
          open.push(new Open(new JsonArray()));
          continue;
        }
        case BEGIN_OBJECT -> {
          reader.beginObject();
          open.push(new Open(new JsonObject()));
          continue;
        }
        case END_ARRAY -> {
          reader.endArray();
          value = open.pop().container;
        }
        case END_OBJECT -> {
          reader.endObject();
          value = open.pop().container;
        }
        // One scalar token: Gson's own parser gives the same primitives (lazily parsed numbers)
        default -> value = JsonParser.parseReader(reader);
      }
      Open parent = open.peek();
      if (parent == null) {
        return value;
      }
      if (parent.container.isJsonArray()) {
        parent.container.getAsJsonArray().add(value);
      } else {
        parent.container.getAsJsonObject().add(parent.key, value);
      }
    }
  }

  private static FactRlException duplicate(String source, Deque<Open> open, String key) {
    List<Open> outerFirst = new ArrayList<>(open);
    Collections.reverse(outerFirst);
    StringBuilder where = new StringBuilder(source);
    StringBuilder path = new StringBuilder();
    for (int i = 0; i < outerFirst.size() - 1; i++) {
      Open o = outerFirst.get(i);
      if (o.container.isJsonArray()) {
        int index = o.container.getAsJsonArray().size(); // the element being read is not added yet
        if (i == 0) {
          where.append(": record ").append(index);
        } else {
          path.append('[').append(index).append(']');
        }
      } else {
        path.append(path.length() == 0 ? "" : ".").append(o.key);
      }
    }
    path.append(path.length() == 0 ? "" : ".").append(key);
    return new FactRlException(where + ": field '" + path + "': duplicate key (a field may appear once per object)");
  }
}

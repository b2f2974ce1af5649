package org.factrl.data.format;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Function;
import org.factrl.engine.FactRlException;

/**
 * The shared machinery of the format codecs: a file holds one JSON array of records (or, for
 * POPE, JSON Lines: {@link #readLines}); reading names the file, the record index (0-based position
 * in the array; the 1-based line for JSON Lines) and the field of the first error; writing is UTF-8
 * and atomic. Unknown fields are ignored (real data sets carry
 * extra ones); a field given twice in one object is an error ({@link StrictJson}).
 */
public final class JsonRecords {
  private static final Gson PRETTY = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();
  private static final Gson COMPACT = new GsonBuilder().disableHtmlEscaping().create();

  private JsonRecords() {}

  /** Parses {@code file} as a JSON array of objects, each turned into a record by {@code parser}. */
  public static <T> ImmutableList<T> read(Path file, Function<JsonObject, T> parser) {
    JsonArray array = readArray(file);
    ImmutableList.Builder<T> records = ImmutableList.builderWithExpectedSize(array.size());
    for (int i = 0; i < array.size(); i++) {
      JsonElement e = array.get(i);
      if (!e.isJsonObject()) {
        throw new FactRlException(file + ": record " + i + ": expected a JSON object, got " + kind(e));
      }
      try {
        records.add(parser.apply(e.getAsJsonObject()));
      } catch (InvalidFieldException x) {
        throw new FactRlException(file + ": record " + i + ": " + x.getMessage(), x);
      }
    }
    return records.build();
  }

  /** Writes {@code records} to {@code file} as a pretty-printed JSON array (atomic, UTF-8). */
  public static <T> void write(Path file, List<T> records, Function<T, JsonObject> toJson) {
    JsonArray array = new JsonArray(records.size());
    for (T r : records) {
      array.add(toJson.apply(r));
    }
    AtomicFiles.writeString(file, toPrettyJson(array) + "\n");
  }

  /** {@code element} as pretty-printed JSON (2-space indent, no HTML escaping). */
  public static String toPrettyJson(JsonElement element) {
    return PRETTY.toJson(element);
  }

  /**
   * Reads a whole JSON document (strict syntax, UTF-8, each key once per object: {@link StrictJson});
   * errors name the file and, for a duplicate key, the record and field.
   */
  public static JsonElement readDocument(Path file) {
    String text = readText(file);
    if (text.isBlank()) {
      throw new FactRlException(file + ": empty file, expected JSON");
    }
    return StrictJson.parse(text, file.toString());
  }

  /**
   * Parses {@code file} as JSON Lines (one object per line, blank lines skipped; the format of
   * POPE's question files); errors name the file, the 1-based line and the field.
   */
  public static <T> ImmutableList<T> readLines(Path file, Function<JsonObject, T> parser) {
    String[] lines = readText(file).split("\n", -1);
    ImmutableList.Builder<T> records = ImmutableList.builder();
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty()) {
        continue;
      }
      String where = file + ": line " + (i + 1) + ": ";
      JsonElement e = StrictJson.parse(line, file + ": line " + (i + 1));
      if (!e.isJsonObject()) {
        throw new FactRlException(where + "expected a JSON object, got " + kind(e));
      }
      try {
        records.add(parser.apply(e.getAsJsonObject()));
      } catch (InvalidFieldException x) {
        throw new FactRlException(where + x.getMessage(), x);
      }
    }
    return records.build();
  }

  /** Writes {@code records} as JSON Lines: one compact object per line (atomic, UTF-8). */
  public static <T> void writeLines(Path file, List<T> records, Function<T, JsonObject> toJson) {
    StringBuilder text = new StringBuilder();
    for (T r : records) {
      text.append(COMPACT.toJson(toJson.apply(r))).append('\n');
    }
    AtomicFiles.writeString(file, text.toString());
  }

  /**
   * The largest file a reader takes: far above any data set we write (200,000 scenes make an SFT
   * file of about 300 MB), far below what would exhaust the heap as a Java string.
   */
  public static final long MAX_FILE_BYTES = 1L << 30;

  /**
   * {@code file} as UTF-8 text. Only regular files are read: a FIFO or device would block or never
   * end. Errors name the file.
   */
  public static String readText(Path file) {
    Preconditions.checkNotNull(file, "file");
    try {
      if (!Files.exists(file)) {
        throw new FactRlException(file + ": no such file");
      }
      if (!Files.isRegularFile(file)) {
        throw new FactRlException(file + ": not a regular file" + (Files.isDirectory(file) ? " (a folder)" : ""));
      }
      long size = Files.size(file);
      if (size > MAX_FILE_BYTES) {
        throw new FactRlException(file + ": too large to read (" + size + " bytes, at most " + MAX_FILE_BYTES + ")");
      }
      return utf8(file, Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      throw new FactRlException(file + ": no such file", e);
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot read: " + e, e);
    }
  }

  /** Strict UTF-8 decoding; the error names the offset and line of the first bad byte. */
  private static String utf8(Path file, byte[] bytes) {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length);
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    CoderResult result = decoder.decode(in, out, true);
    if (!result.isError()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      int at = in.position();
      int line = 1;
      for (int i = 0; i < at; i++) {
        line += bytes[i] == '\n' ? 1 : 0;
      }
      throw new FactRlException(String.format("%s: not UTF-8 text: invalid byte 0x%02X at offset %d (line %d)",
          file, bytes[at] & 0xFF, at, line));
    }
    return out.flip().toString();
  }

  private static JsonArray readArray(Path file) {
    JsonElement root = readDocument(file);
    if (!root.isJsonArray()) {
      throw new FactRlException(file + ": expected a JSON array of records, got " + kind(root));
    }
    return root.getAsJsonArray();
  }

  // ---- field readers: each throws InvalidFieldException naming the field path ----

  static JsonElement required(JsonObject o, String field, String path) {
    JsonElement e = o.get(field);
    if (e == null || e.isJsonNull()) {
      throw new InvalidFieldException(path, "missing");
    }
    return e;
  }

  /** A string field; may be empty. */
  static String string(JsonObject o, String field, String path) {
    return asString(required(o, field, path), path);
  }

  /** A string field holding text: present, a string, not blank. */
  static String text(JsonObject o, String field, String path) {
    return asText(required(o, field, path), path);
  }

  static String asString(JsonElement e, String path) {
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw new InvalidFieldException(path, "expected a string, got " + kind(e));
    }
    return e.getAsString();
  }

  static String asText(JsonElement e, String path) {
    String s = asString(e, path);
    if (s.isBlank()) {
      throw new InvalidFieldException(path, "must not be empty");
    }
    return s;
  }

  /** An optional text field: absent or null gives empty; present must be non-blank text. */
  static Optional<String> optionalText(JsonObject o, String field) {
    JsonElement e = o.get(field);
    return e == null || e.isJsonNull() ? Optional.empty() : Optional.of(asText(e, field));
  }

  /** A record id: non-empty string, or an integer (some LLaVA files use numbers), kept as text. */
  static String id(JsonObject o) {
    JsonElement e = required(o, "id", "id");
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
      return integerText(e, "id");
    }
    return asText(e, "id");
  }

  static int integer(JsonObject o, String field, String path) {
    return Integer.parseInt(integerText(required(o, field, path), path));
  }

  static OptionalInt optionalNonNegative(JsonObject o, String field) {
    JsonElement e = o.get(field);
    if (e == null || e.isJsonNull()) {
      return OptionalInt.empty();
    }
    int v = Integer.parseInt(integerText(e, field));
    if (v < 0) {
      throw new InvalidFieldException(field, "expected a count >= 0, got " + v);
    }
    return OptionalInt.of(v);
  }

  private static String integerText(JsonElement e, String path) {
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw new InvalidFieldException(path, "expected an integer, got " + kind(e));
    }
    try {
      BigDecimal d = e.getAsBigDecimal();
      return Integer.toString(d.stripTrailingZeros().intValueExact());
    } catch (ArithmeticException | NumberFormatException x) {
      // NumberFormatException: an exponent beyond BigDecimal's range (1e3000000000)
      throw new InvalidFieldException(path, "expected an integer, got " + e);
    }
  }

  static JsonArray array(JsonObject o, String field, String path) {
    JsonElement e = required(o, field, path);
    if (!e.isJsonArray()) {
      throw new InvalidFieldException(path, "expected an array, got " + kind(e));
    }
    return e.getAsJsonArray();
  }

  static JsonObject object(JsonElement e, String path) {
    if (!e.isJsonObject()) {
      throw new InvalidFieldException(path, "expected an object, got " + kind(e));
    }
    return e.getAsJsonObject();
  }

  /** A list of strings; each element is non-blank text when {@code text}. */
  static ImmutableList<String> strings(JsonObject o, String field, boolean text) {
    JsonArray a = array(o, field, field);
    ImmutableList.Builder<String> out = ImmutableList.builderWithExpectedSize(a.size());
    for (int i = 0; i < a.size(); i++) {
      String path = field + "[" + i + "]";
      out.add(text ? asText(a.get(i), path) : asString(a.get(i), path));
    }
    return out.build();
  }

  static JsonArray toArray(List<String> strings) {
    JsonArray a = new JsonArray(strings.size());
    strings.forEach(a::add);
    return a;
  }

  static JsonPrimitive json(String s) {
    return new JsonPrimitive(s);
  }

  /** The JSON kind of {@code e} for messages: object, array, string, number, boolean or null. */
  static String kind(JsonElement e) {
    if (e == null || e.isJsonNull()) {
      return "null";
    }
    if (e.isJsonObject()) {
      return "object";
    }
    if (e.isJsonArray()) {
      return "array";
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    return p.isString() ? "string" : p.isNumber() ? "number" : "boolean";
  }
}

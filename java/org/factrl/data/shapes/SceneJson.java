package org.factrl.data.shapes;

import com.google.common.collect.ImmutableList;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.StrictJson;
import org.factrl.engine.FactRlException;

/**
 * The scene annotation format: the ground truth of one image as JSON, all the exact judge reads.
 * Any image set annotated this way can be judged, generated or not.
 *
 * <pre>{@code
 * {
 *   "id": "shapes-000003",          // string, non-empty: unique scene id
 *   "image": "shapes-000003.png",   // string: image file, relative to the data set's image folder
 *   "environment": "beach",         // string: field | beach | snow | night | room
 *   "objects": [                    // array of 1..8 objects
 *     {
 *       "id": 0,                    // integer >= 0, unique within the scene
 *       "shape": "circle",          // circle | square | triangle | diamond | star | cross (singular)
 *       "colour": "red",            // red | green | blue | yellow | purple | orange
 *       "size": "small",            // small | large
 *       "x": 0.25,                  // number in [0, 1]: centre, left edge 0, right edge 1
 *       "y": 0.5                    // number in [0, 1]: centre, top edge 0, bottom edge 1
 *     }
 *   ]
 * }
 * }</pre>
 *
 * <p>Words are lower case, exactly as listed. Unknown extra fields are ignored (so annotations may
 * carry more); a field given twice is an error. The syntax is strict JSON, read by the same
 * {@link StrictJson} as every other format (no comments, single quotes, unquoted keys, raw control
 * characters or trailing content). {@code image} is a non-empty file name without control
 * characters. A list file is a JSON array of such records; {@link #writeList} puts one record per
 * line. Reader errors are {@link FactRlException}s naming the file, the record index (list files)
 * and the field, e.g. {@code annotations.json: record 3: field 'objects[1].colour': unknown colour
 * 'pink' (expected red, green, blue, yellow, purple or orange)}.
 */
public final class SceneJson {
  private static final Gson PRETTY = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();
  private static final Gson COMPACT = new GsonBuilder().disableHtmlEscaping().create();

  private SceneJson() {}

  public static JsonObject toJson(Scene scene) {
    JsonObject o = new JsonObject();
    o.addProperty("id", scene.id());
    o.addProperty("image", scene.image());
    o.addProperty("environment", scene.environment().word());
    JsonArray objects = new JsonArray();
    for (SceneObject s : scene.objects()) {
      JsonObject j = new JsonObject();
      j.addProperty("id", s.id());
      j.addProperty("shape", s.shape().singular());
      j.addProperty("colour", s.colour().word());
      j.addProperty("size", s.size().word());
      j.addProperty("x", s.x());
      j.addProperty("y", s.y());
      objects.add(j);
    }
    o.add("objects", objects);
    return o;
  }

  /** One scene as pretty-printed JSON. */
  public static String toJsonString(Scene scene) {
    return PRETTY.toJson(toJson(scene));
  }

  /** A list of scenes as a JSON array, one compact record per line. */
  public static String toJsonString(List<Scene> scenes) {
    if (scenes.isEmpty()) {
      return "[]\n";
    }
    return scenes.stream().map(s -> COMPACT.toJson(toJson(s)))
        .collect(Collectors.joining(",\n", "[\n", "\n]\n"));
  }

  public static void write(Path file, Scene scene) {
    writeText(file, toJsonString(scene) + "\n");
  }

  public static void writeList(Path file, List<Scene> scenes) {
    writeText(file, toJsonString(scenes));
  }

  /** Reads a file holding one scene record. */
  public static Scene read(Path file) {
    return fromJson(JsonRecords.readDocument(file), new Where(file.toString(), -1));
  }

  /** Reads a list file (a JSON array of scene records). */
  public static ImmutableList<Scene> readList(Path file) {
    return fromList(JsonRecords.readDocument(file), file.toString());
  }

  /** Parses one scene record; {@code source} names the input in errors. */
  public static Scene parse(String json, String source) {
    return fromJson(StrictJson.parse(json, source), new Where(source, -1));
  }

  /** Parses a JSON array of scene records; {@code source} names the input in errors. */
  public static ImmutableList<Scene> parseList(String json, String source) {
    return fromList(StrictJson.parse(json, source), source);
  }

  private static ImmutableList<Scene> fromList(JsonElement tree, String source) {
    if (!tree.isJsonArray()) {
      throw new FactRlException(source + ": expected a JSON array of scene records, got " + kind(tree));
    }
    JsonArray array = tree.getAsJsonArray();
    ImmutableList.Builder<Scene> out = ImmutableList.builderWithExpectedSize(array.size());
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < array.size(); i++) {
      Where where = new Where(source, i);
      Scene scene = fromJson(array.get(i), where);
      if (!ids.add(scene.id())) {
        throw where.error("id", "duplicate scene id '" + scene.id() + "'");
      }
      out.add(scene);
    }
    return out.build();
  }

  /**
   * Converts one record; {@code index} is its position in a list file (or -1 for a single-record
   * file) and only serves the error messages.
   */
  public static Scene fromJson(JsonElement record, String source, int index) {
    return fromJson(record, new Where(source, index));
  }

  private static Scene fromJson(JsonElement record, Where where) {
    if (record == null || !record.isJsonObject()) {
      throw where.error(null, "expected a JSON object (a scene record), got " + kind(record));
    }
    JsonObject o = record.getAsJsonObject();
    String id = string(o, "id", "id", where);
    if (id.isBlank()) {
      throw where.error("id", "must not be empty");
    }
    String image = imageName(string(o, "image", "image", where), where);
    Environment environment = word(o, "environment", "environment", where, "environment",
        Words::environment, Environment.values(), Environment::word);
    JsonElement objectsElement = o.get("objects");
    if (objectsElement == null) {
      throw where.error("objects", "missing");
    }
    if (!objectsElement.isJsonArray()) {
      throw where.error("objects", "expected an array, got " + kind(objectsElement));
    }
    JsonArray array = objectsElement.getAsJsonArray();
    if (array.isEmpty() || array.size() > Scene.MAX_OBJECTS) {
      throw where.error("objects", "expected 1.." + Scene.MAX_OBJECTS + " objects, got " + array.size());
    }
    List<SceneObject> objects = new ArrayList<>(array.size());
    Set<Integer> ids = new HashSet<>();
    for (int k = 0; k < array.size(); k++) {
      String at = "objects[" + k + "]";
      JsonElement e = array.get(k);
      if (!e.isJsonObject()) {
        throw where.error(at, "expected an object, got " + kind(e));
      }
      JsonObject j = e.getAsJsonObject();
      int objectId = integer(j, "id", at + ".id", where);
      if (!ids.add(objectId)) {
        throw where.error(at + ".id", "duplicate object id " + objectId);
      }
      ShapeKind shape = word(j, "shape", at + ".shape", where, "shape",
          w -> Arrays.stream(ShapeKind.values()).filter(s -> s.singular().equals(w)).findFirst(),
          ShapeKind.values(), ShapeKind::singular);
      Colour colour = word(j, "colour", at + ".colour", where, "colour", Words::colour, Colour.values(), Colour::word);
      Size size = word(j, "size", at + ".size", where, "size", Words::size, Size.values(), Size::word);
      double x = unit(j, "x", at + ".x", where);
      double y = unit(j, "y", at + ".y", where);
      objects.add(new SceneObject(objectId, shape, colour, size, x, y));
    }
    return new Scene(id, image, environment, objects);
  }

  private static String string(JsonObject o, String name, String field, Where where) {
    JsonElement e = o.get(name);
    if (e == null) {
      throw where.error(field, "missing");
    }
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw where.error(field, "expected a string, got " + kind(e));
    }
    return e.getAsString();
  }

  /**
   * The image file name: not blank, and no control character (a NUL would fail only later, when
   * the path is made, and far from the record that holds it).
   */
  private static String imageName(String image, Where where) {
    if (image.isBlank()) {
      throw where.error("image", "must not be empty");
    }
    for (int i = 0; i < image.length(); i++) {
      if (Character.isISOControl(image.charAt(i))) {
        throw where.error("image", String.format("control character U+%04X at index %d", (int) image.charAt(i), i));
      }
    }
    return image;
  }

  private static <T> T word(JsonObject o, String name, String field, Where where, String what,
      Function<String, Optional<T>> lookup, T[] all, Function<T, String> wordOf) {
    String w = string(o, name, field, where);
    return lookup.apply(w).orElseThrow(() -> where.error(field, "unknown " + what + " '" + w + "' (expected "
        + Words.joinOr(Arrays.stream(all).map(wordOf).collect(Collectors.toList())) + ")"));
  }

  private static double number(JsonObject o, String name, String field, Where where) {
    JsonElement e = o.get(name);
    if (e == null) {
      throw where.error(field, "missing");
    }
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw where.error(field, "expected a number, got " + kind(e));
    }
    return e.getAsDouble();
  }

  private static int integer(JsonObject o, String name, String field, Where where) {
    double v = number(o, name, field, where);
    if (v != Math.rint(v) || v < 0 || v > Integer.MAX_VALUE) {
      throw where.error(field, "expected an integer >= 0, got " + o.get(name));
    }
    return (int) v;
  }

  private static double unit(JsonObject o, String name, String field, Where where) {
    double v = number(o, name, field, where);
    if (!(v >= 0 && v <= 1)) {
      throw where.error(field, "expected a number in [0, 1], got " + o.get(name));
    }
    return v;
  }

  private static String kind(JsonElement e) {
    if (e == null || e.isJsonNull()) {
      return "null";
    }
    if (e.isJsonObject()) {
      return "an object";
    }
    if (e.isJsonArray()) {
      return "an array";
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    return p.isString() ? "the string '" + p.getAsString() + "'" : p.isNumber() ? "the number " + p : "the boolean " + p;
  }

  private static void writeText(Path file, String text) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot write: " + e, e);
    }
  }

  /** Where in the input a record sits, for error messages. */
  private record Where(String source, int index) {
    FactRlException error(String field, String problem) {
      StringBuilder m = new StringBuilder(source);
      if (index >= 0) {
        m.append(": record ").append(index);
      }
      if (field != null) {
        m.append(": field '").append(field).append('\'');
      }
      return new FactRlException(m.append(": ").append(problem).toString());
    }
  }
}

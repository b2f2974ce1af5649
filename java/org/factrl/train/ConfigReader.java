package org.factrl.train;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.StrictJson;
import org.factrl.engine.FactRlException;
import org.factrl.model.LoraTarget;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;

/**
 * The one strict reader every stage config uses (SFT, RM, PPO, eval; a future pretrain). A config
 * file is one strict JSON object ({@link StrictJson}: each key once, no comments); an unknown key,
 * a wrong type or an out-of-range value is an error naming the source and the key, e.g.
 * {@code config 'ppo.json': key 'gamma': 1.5 not in [0, 1]}; absent keys take the stage's defaults.
 * Builders' own checks use {@link #bad} for the same {@code key 'NAME': problem} shape, and
 * {@link #build} prefixes them with the source.
 */
public final class ConfigReader {
  private final JsonObject o;
  private final String source;

  private ConfigReader(JsonObject o, String source) {
    this.o = o;
    this.source = source;
  }

  /** Reads {@code file}: errors start with {@code config 'FILE'}. */
  public static ConfigReader open(Path file, String what, Collection<String> known) {
    Objects.requireNonNull(file, "file");
    String source = "config '" + file + "'";
    if (!Files.isRegularFile(file)) {
      throw new FactRlException(source + ": no such config file");
    }
    return parse(JsonRecords.readText(file), source, what, known);
  }

  /**
   * Parses a config's text; errors start with {@code source}. {@code what} names the settings in
   * the "expected a JSON object of ..." error; {@code known} are the accepted keys.
   */
  public static ConfigReader parse(String json, String source, String what, Collection<String> known) {
    JsonElement root = StrictJson.parse(json, source);
    if (!root.isJsonObject()) {
      throw new FactRlException(source + ": expected a JSON object of " + what + " settings");
    }
    JsonObject o = root.getAsJsonObject();
    for (String key : new TreeSet<>(o.keySet())) {
      if (!known.contains(key)) {
        throw new FactRlException(source + ": unknown key '" + key + "' (known: " + String.join(", ", known) + ")");
      }
    }
    return new ConfigReader(o, source);
  }

  /** The error shape of every config check: {@code key 'NAME': problem}. */
  public static FactRlException bad(String key, String problem) {
    return new FactRlException(FactRlException.Status.ARGUMENT, "key '" + key + "': " + problem);
  }

  /** Throws {@code key 'NAME': V not in [min, max]} unless {@code min <= v <= max} (and finite). */
  public static double checkRange(String key, double v, double min, double max) {
    if (!(Double.isFinite(v) && v >= min && v <= max)) {
      throw bad(key, fmt(v) + " not in [" + fmt(min) + ", " + fmt(max) + "]");
    }
    return v;
  }

  /** As {@link #checkRange(String, double, double, double)} with an open lower end: {@code (min, max]}. */
  public static double checkAbove(String key, double v, double min, double max) {
    if (!(Double.isFinite(v) && v > min && v <= max)) {
      throw bad(key, fmt(v) + " not in (" + fmt(min) + ", " + fmt(max) + "]");
    }
    return v;
  }

  /** Integer version of {@link #checkRange(String, double, double, double)}. */
  public static long checkRange(String key, long v, long min, long max) {
    if (v < min || v > max) {
      throw bad(key, v + " not in [" + min + ", " + (max == Long.MAX_VALUE ? "2^63-1" : Long.toString(max)) + "]");
    }
    return v;
  }

  /** Doubles as written in messages: integers without ".0", others as Java prints them. */
  public static String fmt(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }

  public String source() {
    return source;
  }

  public boolean has(String key) {
    return o.has(key);
  }

  /** An error naming the source and the key. */
  public FactRlException error(String key, String problem) {
    return new FactRlException(FactRlException.Status.ARGUMENT, source + ": key '" + key + "': " + problem);
  }

  private JsonElement get(String key) {
    JsonElement v = o.get(key);
    if (v == null) {
      throw error(key, "is missing");
    }
    return v;
  }

  public String string(String key) {
    JsonElement v = get(key);
    if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
      throw error(key, "must be a string, got " + v);
    }
    return v.getAsString();
  }

  /** One of {@code choices}. */
  public String choice(String key, List<String> choices) {
    String s = string(key);
    if (!choices.contains(s)) {
      throw error(key, "\"" + s + "\" is not one of " + String.join(", ", choices));
    }
    return s;
  }

  public boolean bool(String key) {
    JsonElement v = get(key);
    if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isBoolean()) {
      throw error(key, "must be true or false, got " + v);
    }
    return v.getAsBoolean();
  }

  /** An integer literal (no fraction or exponent) in [min, max]. */
  public long integer(String key, long min, long max) {
    JsonElement v = get(key);
    if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber() || !v.getAsString().matches("-?[0-9]{1,19}")) {
      throw error(key, "must be an integer, got " + v);
    }
    long n;
    try {
      n = Long.parseLong(v.getAsString());
    } catch (NumberFormatException e) {
      throw error(key, v + " is beyond the 64-bit range");
    }
    try {
      return checkRange(key, n, min, max);
    } catch (FactRlException e) {
      throw prefixed(e);
    }
  }

  /** A finite number in [min, max]. */
  public double number(String key, double min, double max) {
    JsonElement v = get(key);
    if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
      throw error(key, "must be a number, got " + v);
    }
    double d = Double.parseDouble(v.getAsString());
    if (!Double.isFinite(d) || d < min || d > max) {
      throw error(key, v.getAsString() + " not in [" + fmt(min) + ", " + fmt(max) + "]");
    }
    return d;
  }

  /** The key's JSON value as written (for readers with their own typing). */
  public JsonElement raw(String key) {
    return get(key);
  }

  /** An array of distinct strings. */
  public List<String> strings(String key) {
    JsonElement v = get(key);
    if (!v.isJsonArray()) {
      throw error(key, "must be an array of strings, got " + v);
    }
    List<String> out = new ArrayList<>();
    for (JsonElement e : v.getAsJsonArray()) {
      if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
        throw error(key, "must be an array of strings, has " + e);
      }
      if (out.contains(e.getAsString())) {
        throw error(key, "names \"" + e.getAsString() + "\" twice");
      }
      out.add(e.getAsString());
    }
    return out;
  }

  /**
   * LoRA targets in either spelling ({@link LoraTargetNames}); {@code projector} says whether the
   * projector may be adapted in this stage.
   */
  public Set<LoraTarget> loraTargets(String key, boolean projector) {
    Set<LoraTarget> out = EnumSet.noneOf(LoraTarget.class);
    for (String s : strings(key)) {
      LoraTarget t = LoraTargetNames.parse(s);
      if (t == null || (!projector && !t.isDecoder())) {
        throw error(key, "has \"" + s + "\"; expected " + LoraTargetNames.expected(projector));
      }
      if (!out.add(t)) {
        throw error(key, "names " + LoraTargetNames.name(t) + " twice (\"" + s + "\")");
      }
    }
    if (out.isEmpty()) {
      throw error(key, "must name at least one layer");
    }
    return out;
  }

  /** Runs a builder step; its {@code key '...'} errors come back prefixed with the source. */
  public <T> T build(Supplier<T> step) {
    try {
      return step.get();
    } catch (FactRlException e) {
      throw prefixed(e);
    }
  }

  private FactRlException prefixed(FactRlException e) {
    return e.getMessage().startsWith(source) ? e : new FactRlException(source + ": " + e.getMessage(), e);
  }

  /** A JSON array of the targets' written names (PEFT module names), in enum order. */
  public static JsonArray targetsJson(Set<LoraTarget> targets) {
    JsonArray a = new JsonArray();
    EnumSet.copyOf(targets).forEach(t -> a.add(LoraTargetNames.name(t)));
    return a;
  }

  /** Writes a config object to {@code file} atomically (pretty JSON, trailing newline). */
  public static void write(JsonObject config, Path file, IfExists ifExists) {
    AtomicWrite.writeBytes(file, ifExists, (JsonRecords.toPrettyJson(config) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /** The keys whose values differ, as {@code key: a vs b}, in {@code a}'s key order; empty when equal. */
  public static String differences(JsonObject a, JsonObject b) {
    List<String> out = new ArrayList<>();
    for (String k : a.keySet()) {
      if (!Objects.equals(a.get(k), b.get(k))) {
        out.add(k + ": " + a.get(k) + " vs " + b.get(k));
      }
    }
    return String.join(", ", out);
  }
}

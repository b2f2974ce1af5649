package org.factrl.train;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.Locale;
import org.factrl.engine.FactRlException;

/**
 * Typed, range-checked reads of one strict JSON object's keys; every error names the source and
 * the key ({@code sft.json: key 'lr' must be in (0, 1], got 5}). Shared by the stage configs and
 * the trainer state.
 */
public final class JsonFields {
  private final JsonObject o;
  private final String source;

  public JsonFields(JsonObject o, String source) {
    this.o = o;
    this.source = source;
  }

  public boolean has(String key) {
    return o.has(key);
  }

  public FactRlException error(String key, String problem) {
    return new FactRlException(source + ": key '" + key + "' " + problem);
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
      throw error(key, "is beyond the 64-bit range: " + v);
    }
    if (n < min || n > max) {
      throw error(key, "must be in [" + min + ", " + max + "], got " + n);
    }
    return n;
  }

  /** A 64-bit integer written as a decimal string (exact where a JSON number may not be). */
  public long longString(String key) {
    String s = string(key);
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw error(key, "must be a 64-bit integer in a string, got \"" + s + "\"");
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
      throw error(key, String.format(Locale.ROOT, "must be in [%s, %s], got %s", min, max, v.getAsString()));
    }
    return d;
  }

  public JsonElement raw(String key) {
    return get(key);
  }
}

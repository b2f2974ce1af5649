package org.factrl.model.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.factrl.data.format.StrictJson;
import org.factrl.engine.FactRlException;

/**
 * Parses and checks a safetensors header (the JSON after the 8-byte length), as strictly as the
 * reference implementation: every field present and of the right type, no unknown fields, byte
 * ranges that match dtype × shape and tile the data buffer exactly — sorted by offset, the first
 * starts at 0, each starts where the previous ended, the last ends at the end of the file. A file
 * that passes cannot make a later read go outside the buffer or two tensors share bytes.
 */
final class SafeTensorsHeader {
  static final String METADATA = "__metadata__";
  /** Dimensions accepted per tensor; far above any model's (the engine itself stops at 8). */
  static final int MAX_DIMS = 64;

  final Map<String, SafeTensorsEntry> entries; // header order
  final Map<String, String> metadata;

  private SafeTensorsHeader(Map<String, SafeTensorsEntry> entries, Map<String, String> metadata) {
    this.entries = entries;
    this.metadata = metadata;
  }

  /**
   * @param header the header bytes
   * @param bufferBytes bytes after the header (file size − 8 − header length)
   * @param file named in every error
   */
  static SafeTensorsHeader parse(byte[] header, long bufferBytes, String file) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(header))
          .toString();
    } catch (CharacterCodingException e) {
      throw new FactRlException(file + ": header is not valid UTF-8 (" + e + ")", e);
    }
    JsonElement root = StrictJson.parse(text, file + ": header");
    if (!root.isJsonObject()) {
      throw new FactRlException(file + ": header is not a JSON object");
    }
    Map<String, SafeTensorsEntry> entries = new LinkedHashMap<>();
    Map<String, String> metadata = Collections.emptyMap();
    for (Map.Entry<String, JsonElement> e : root.getAsJsonObject().entrySet()) {
      if (e.getKey().equals(METADATA)) {
        metadata = parseMetadata(e.getValue(), file);
      } else {
        entries.put(e.getKey(), parseEntry(e.getKey(), e.getValue(), file));
      }
    }
    checkTiling(entries, bufferBytes, file);
    return new SafeTensorsHeader(Collections.unmodifiableMap(entries), metadata);
  }

  private static Map<String, String> parseMetadata(JsonElement value, String file) {
    if (!value.isJsonObject()) {
      throw new FactRlException(file + ": field '" + METADATA + "' is not a JSON object of strings");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : value.getAsJsonObject().entrySet()) {
      JsonElement v = e.getValue();
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
        throw new FactRlException(file + ": field '" + METADATA + "." + e.getKey() + "' is not a string");
      }
      out.put(e.getKey(), v.getAsString());
    }
    return Collections.unmodifiableMap(out);
  }

  private static final Set<String> FIELDS = Set.of("dtype", "shape", "data_offsets");

  private static SafeTensorsEntry parseEntry(String name, JsonElement value, String file) {
    String where = file + ": tensor '" + name + "'";
    if (name.isEmpty()) {
      throw new FactRlException(file + ": a tensor has an empty name");
    }
    if (!value.isJsonObject()) {
      throw new FactRlException(where + " is not a JSON object");
    }
    JsonObject o = value.getAsJsonObject();
    for (String key : o.keySet()) {
      if (!FIELDS.contains(key)) {
        throw new FactRlException(where + ": unknown field '" + key + "' (expected dtype, shape, data_offsets)");
      }
    }
    for (String key : FIELDS) {
      if (!o.has(key)) {
        throw new FactRlException(where + ": field '" + key + "' is missing");
      }
    }
    JsonElement d = o.get("dtype");
    if (!d.isJsonPrimitive() || !d.getAsJsonPrimitive().isString()) {
      throw new FactRlException(where + ": field 'dtype' is not a string");
    }
    SafeTensorsDType dtype = SafeTensorsDType.byName(d.getAsString()).orElseThrow(() -> new FactRlException(
        where + ": field 'dtype': unknown type '" + d.getAsString() + "' (known: "
            + Arrays.toString(SafeTensorsDType.values()) + ")"));
    long[] shape = longs(o.get("shape"), where + ": field 'shape'", -1, MAX_DIMS);
    long[] offsets = longs(o.get("data_offsets"), where + ": field 'data_offsets'", 2, 2);
    if (offsets[1] < offsets[0]) {
      throw new FactRlException(where + ": field 'data_offsets': end " + offsets[1] + " is before begin " + offsets[0]);
    }
    long bytes = dtype.bytes();
    try {
      for (long dim : shape) {
        bytes = Math.multiplyExact(bytes, dim);
      }
    } catch (ArithmeticException overflow) {
      throw new FactRlException(where + ": field 'shape' " + Arrays.toString(shape) + " is too large ("
          + dtype + " bytes overflow 64 bits)");
    }
    if (offsets[1] - offsets[0] != bytes) {
      throw new FactRlException(where + ": field 'data_offsets' [" + offsets[0] + ", " + offsets[1] + "] spans "
          + (offsets[1] - offsets[0]) + " bytes, but " + dtype + " " + Arrays.toString(shape) + " needs " + bytes);
    }
    return new SafeTensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
  }

  /** A JSON array of non-negative integers (exactly {@code length} of them unless -1). */
  private static long[] longs(JsonElement value, String where, int length, int maxLength) {
    if (!value.isJsonArray()) {
      throw new FactRlException(where + " is not a JSON array");
    }
    JsonArray a = value.getAsJsonArray();
    if (length >= 0 && a.size() != length) {
      throw new FactRlException(where + " has " + a.size() + " values, expected " + length);
    }
    if (a.size() > maxLength) {
      throw new FactRlException(where + " has " + a.size() + " values, at most " + maxLength + " allowed");
    }
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) {
      JsonElement v = a.get(i);
      if (!v.isJsonPrimitive() || !((JsonPrimitive) v).isNumber()) {
        throw new FactRlException(where + "[" + i + "] is not a number");
      }
      String lexical = v.getAsString();
      try {
        out[i] = Long.parseLong(lexical); // rejects 1.0, 1e3 and values beyond a long
      } catch (NumberFormatException e) {
        throw new FactRlException(where + "[" + i + "] = " + abbreviate(lexical) + " is not a 64-bit integer");
      }
      if (out[i] < 0) {
        throw new FactRlException(where + "[" + i + "] = " + out[i] + " is negative");
      }
    }
    return out;
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }

  private static void checkTiling(Map<String, SafeTensorsEntry> entries, long bufferBytes, String file) {
    List<SafeTensorsEntry> byOffset = new ArrayList<>(entries.values());
    byOffset.sort(Comparator.comparingLong(SafeTensorsEntry::begin).thenComparingLong(SafeTensorsEntry::end));
    long expected = 0;
    SafeTensorsEntry previous = null;
    for (SafeTensorsEntry e : byOffset) {
      if (e.begin() != expected) {
        String after = previous == null ? "the start of the data buffer" : "tensor '" + previous.name() + "' (ends at " + expected + ")";
        throw new FactRlException(file + ": tensor '" + e.name() + "': field 'data_offsets' begins at " + e.begin()
            + (e.begin() < expected ? ", overlapping " : ", leaving a gap after ") + after);
      }
      expected = e.end();
      previous = e;
    }
    if (expected != bufferBytes) {
      String last = previous == null ? "no tensors: the data buffer should be empty" : "the last tensor, '" + previous.name()
          + "', ends at byte " + expected + " of the data buffer";
      throw new FactRlException(file + ": " + last + ", but the file has "
          + bufferBytes + " data bytes (" + (expected > bufferBytes ? "truncated file" : "trailing bytes") + ")");
    }
  }
}

package org.factrl.data.format;

import com.google.common.collect.ImmutableList;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;

/** Reads and writes {@link PreferencePair} files: one JSON array of records. */
public final class PreferencePairCodec {
  private PreferencePairCodec() {}

  /** Reads {@code file}; errors name the file, record index and field. */
  public static ImmutableList<PreferencePair> read(Path file) {
    return JsonRecords.read(file, PreferencePairCodec::fromJson);
  }

  /** Writes {@code records} pretty-printed, UTF-8, atomically. */
  public static void write(Path file, List<PreferencePair> records) {
    JsonRecords.write(file, records, PreferencePairCodec::toJson);
  }

  public static JsonObject toJson(PreferencePair r) {
    JsonObject o = new JsonObject();
    o.addProperty("id", r.id());
    Conversations.putImage(o, r.image());
    o.add("conversations", Conversations.toJson(r.prompt()));
    o.add("output_1", Conversations.turn(Speaker.GPT.jsonName(), r.output1()));
    o.add("output_2", Conversations.turn(Speaker.GPT.jsonName(), r.output2()));
    o.addProperty("preference", r.preference());
    r.hallucinations1().ifPresent(n -> o.addProperty("hallucinations_1", n));
    r.hallucinations2().ifPresent(n -> o.addProperty("hallucinations_2", n));
    if (!r.captions().isEmpty()) {
      o.add("captions", JsonRecords.toArray(r.captions()));
    }
    r.rationale().ifPresent(s -> o.addProperty("rationale", s));
    return o;
  }

  /** Parses one record; throws {@link IllegalArgumentException} naming the field. */
  public static PreferencePair fromJson(JsonObject o) {
    String id = JsonRecords.id(o);
    var image = JsonRecords.optionalText(o, "image");
    ImmutableList<Turn> prompt = Conversations.read(o);
    String output1 = output(o, "output_1");
    String output2 = output(o, "output_2");
    int preference = JsonRecords.integer(o, "preference", "preference");
    // absent in other tools' files (no facts); when present, every caption must be text
    ImmutableList<String> captions = o.has("captions") && !o.get("captions").isJsonNull()
        ? JsonRecords.strings(o, "captions", true) : ImmutableList.of();
    return new PreferencePair(id, image, prompt, output1, output2, preference,
        JsonRecords.optionalNonNegative(o, "hallucinations_1"),
        JsonRecords.optionalNonNegative(o, "hallucinations_2"),
        captions, JsonRecords.optionalText(o, "rationale"));
  }

  /** An output: {@code {"from": ..., "value": "..."}} or a plain string. */
  private static String output(JsonObject o, String field) {
    JsonElement e = JsonRecords.required(o, field, field);
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
      return JsonRecords.asText(e, field);
    }
    if (!e.isJsonObject()) {
      throw new InvalidFieldException(field, "expected an object {from, value} or a string, got " + JsonRecords.kind(e));
    }
    return JsonRecords.text(e.getAsJsonObject(), "value", field + ".value");
  }
}

package org.factrl.data.format;

import com.google.common.collect.ImmutableList;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Reads and writes POPE question files (JSON Lines of {@link PopeRecord}). */
public final class PopeCodec {
  private PopeCodec() {}

  /** Reads {@code file}; errors name the file, line and field. */
  public static ImmutableList<PopeRecord> read(Path file) {
    return JsonRecords.readLines(file, PopeCodec::fromJson);
  }

  /** Writes one compact record per line, UTF-8, atomically. */
  public static void write(Path file, List<PopeRecord> records) {
    JsonRecords.writeLines(file, records, PopeCodec::toJson);
  }

  public static JsonObject toJson(PopeRecord r) {
    JsonObject o = new JsonObject();
    o.addProperty("question_id", r.questionId());
    o.addProperty("image", r.image());
    o.addProperty("text", r.text());
    o.addProperty("label", r.label());
    return o;
  }

  /** Parses one record; throws {@link IllegalArgumentException} naming the field. */
  public static PopeRecord fromJson(JsonObject o) {
    String label = JsonRecords.text(o, "label", "label").trim().toLowerCase(Locale.ROOT);
    if (!label.equals("yes") && !label.equals("no")) {
      throw new InvalidFieldException("label", "expected 'yes' or 'no', got '" + label + "'");
    }
    return new PopeRecord(JsonRecords.integer(o, "question_id", "question_id"),
        JsonRecords.text(o, "image", "image"), JsonRecords.text(o, "text", "text"), label.equals("yes"));
  }
}

package org.factrl.data.format;

import com.google.common.collect.ImmutableList;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;

/** Reads and writes {@link LlavaConversation} files: one JSON array of records. */
public final class LlavaConversationCodec {
  private LlavaConversationCodec() {}

  /**
   * Reads {@code file}; a malformed record throws a {@link org.factrl.engine.FactRlException}
   * naming the file, record index and field.
   */
  public static ImmutableList<LlavaConversation> read(Path file) {
    return JsonRecords.read(file, LlavaConversationCodec::fromJson);
  }

  /** Writes {@code records} pretty-printed, UTF-8, atomically. */
  public static void write(Path file, List<LlavaConversation> records) {
    JsonRecords.write(file, records, LlavaConversationCodec::toJson);
  }

  public static JsonObject toJson(LlavaConversation r) {
    JsonObject o = new JsonObject();
    o.addProperty("id", r.id());
    Conversations.putImage(o, r.image());
    o.add("conversations", Conversations.toJson(r.conversations()));
    return o;
  }

  /** Parses one record; throws {@link IllegalArgumentException} naming the field. */
  public static LlavaConversation fromJson(JsonObject o) {
    return new LlavaConversation(JsonRecords.id(o), JsonRecords.optionalText(o, "image"), Conversations.read(o));
  }
}

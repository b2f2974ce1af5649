package org.factrl.data.format;

import com.google.common.collect.ImmutableList;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Reads and writes {@link RlPrompt} files: one JSON array of records. */
public final class RlPromptCodec {
  private RlPromptCodec() {}

  /** Reads {@code file}; errors name the file, record index and field. */
  public static ImmutableList<RlPrompt> read(Path file) {
    return JsonRecords.read(file, RlPromptCodec::fromJson);
  }

  /** Writes {@code records} pretty-printed, UTF-8, atomically. */
  public static void write(Path file, List<RlPrompt> records) {
    JsonRecords.write(file, records, RlPromptCodec::toJson);
  }

  public static JsonObject toJson(RlPrompt r) {
    JsonObject o = new JsonObject();
    o.addProperty("id", r.id());
    Conversations.putImage(o, r.image());
    o.add("conversations", Conversations.toJson(r.conversations()));
    o.add("captions", JsonRecords.toArray(r.captions()));
    r.rationale().ifPresent(s -> o.addProperty("rationale", s));
    r.answer().ifPresent(a -> {
      JsonObject answer = new JsonObject();
      answer.addProperty("type", a.type().jsonName());
      answer.addProperty("value", a.value());
      if (a.type() == GroundTruthAnswer.Type.MULTIPLE_CHOICE) {
        answer.add("choices", JsonRecords.toArray(a.choices()));
      }
      o.add("answer", answer);
    });
    return o;
  }

  /** Parses one record; throws {@link IllegalArgumentException} naming the field. */
  public static RlPrompt fromJson(JsonObject o) {
    String id = JsonRecords.id(o);
    Optional<String> image = JsonRecords.optionalText(o, "image");
    ImmutableList<Turn> turns = Conversations.read(o);
    ImmutableList<String> captions = o.has("captions") && !o.get("captions").isJsonNull()
        ? JsonRecords.strings(o, "captions", true) : ImmutableList.of();
    Optional<String> rationale = JsonRecords.optionalText(o, "rationale");
    Optional<GroundTruthAnswer> answer = o.has("answer") && !o.get("answer").isJsonNull()
        ? Optional.of(answer(JsonRecords.object(o.get("answer"), "answer"))) : Optional.empty();
    return new RlPrompt(id, image, turns, captions, rationale, answer);
  }

  private static GroundTruthAnswer answer(JsonObject a) {
    String typeName = JsonRecords.string(a, "type", "answer.type");
    GroundTruthAnswer.Type type = null;
    for (GroundTruthAnswer.Type t : GroundTruthAnswer.Type.values()) {
      if (t.jsonName().equals(typeName)) {
        type = t;
      }
    }
    if (type == null) {
      throw new InvalidFieldException("answer.type",
          "expected 'yes_no', 'multiple_choice' or 'open', got '" + typeName + "'");
    }
    String value = JsonRecords.string(a, "value", "answer.value");
    ImmutableList<String> choices = ImmutableList.of();
    if (a.has("choices") && !a.get("choices").isJsonNull()) {
      var array = JsonRecords.array(a, "choices", "answer.choices");
      ImmutableList.Builder<String> b = ImmutableList.builder();
      for (int i = 0; i < array.size(); i++) {
        b.add(JsonRecords.asString(array.get(i), "answer.choices[" + i + "]"));
      }
      choices = b.build();
    } else if (type == GroundTruthAnswer.Type.MULTIPLE_CHOICE) {
      throw new InvalidFieldException("answer.choices", "missing (required for multiple_choice)");
    }
    return new GroundTruthAnswer(type, value, choices);
  }
}

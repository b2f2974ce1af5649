package org.factrl.data.format;

import com.google.common.collect.ImmutableList;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import org.factrl.data.MmhalType;

/** Reads and writes MMHal-Bench {@code response_template.json} files ({@link MmhalRecord}). */
public final class MmhalCodec {
  private MmhalCodec() {}

  /** Reads {@code file}; errors name the file, record index and field. */
  public static ImmutableList<MmhalRecord> read(Path file) {
    return JsonRecords.read(file, MmhalCodec::fromJson);
  }

  /** Writes {@code records} pretty-printed, UTF-8, atomically, fields in the template's order. */
  public static void write(Path file, List<MmhalRecord> records) {
    JsonRecords.write(file, records, MmhalCodec::toJson);
  }

  public static JsonObject toJson(MmhalRecord r) {
    JsonObject o = new JsonObject();
    o.addProperty("question_type", r.questionType().mmhalName());
    o.addProperty("question_topic", r.questionTopic());
    o.addProperty("image_id", r.imageId());
    o.addProperty("image_src", r.imageSrc());
    o.add("image_content", JsonRecords.toArray(r.imageContent()));
    o.addProperty("question", r.question());
    o.addProperty("gt_answer", r.gtAnswer());
    o.addProperty("model_answer", r.modelAnswer());
    return o;
  }

  /** Parses one record; throws {@link IllegalArgumentException} naming the field. */
  public static MmhalRecord fromJson(JsonObject o) {
    String typeName = JsonRecords.text(o, "question_type", "question_type");
    MmhalType type = MmhalType.fromMmhalName(typeName).orElseThrow(() ->
        new InvalidFieldException("question_type", "expected one of attribute, adversarial, comparison, "
            + "counting, relation, environment, holistic, other; got '" + typeName + "'"));
    return new MmhalRecord(
        type,
        JsonRecords.string(o, "question_topic", "question_topic"),
        JsonRecords.text(o, "image_id", "image_id"),
        JsonRecords.text(o, "image_src", "image_src"),
        JsonRecords.strings(o, "image_content", false),
        JsonRecords.text(o, "question", "question"),
        JsonRecords.text(o, "gt_answer", "gt_answer"),
        JsonRecords.string(o, "model_answer", "model_answer"));
  }
}

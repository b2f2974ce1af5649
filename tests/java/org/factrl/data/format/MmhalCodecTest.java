package org.factrl.data.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.factrl.data.MmhalType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class MmhalCodecTest {
  @TempDir Path dir;

  /** Shaped like an entry of MMHal-Bench's response_template.json. */
  private static final String VALID = """
      {"question_type": "attribute", "question_topic": "Wildlife",
       "image_id": "ebfa4b8a8d5a6f65",
       "image_src": "https://c4.staticflickr.com/1/1/ebfa4b8a8d5a6f65_o.jpg",
       "image_content": ["Coat", "Animal", "Dog"],
       "question": "What color is the dog's coat?", "gt_answer": "The dog's coat is brown.",
       "model_answer": "The dog's coat is brown and white."}""";

  private static String entry(String type, String answerFields) {
    return "{\"question_type\": " + type + ", \"question_topic\": \"t\", \"image_id\": \"i\", \"image_src\": \"s.png\", "
        + "\"image_content\": [\"Dog\"], \"question\": \"q?\", " + answerFields + "}";
  }

  @Test
  void readsTheTemplateShapeAndRoundTripsEveryQuestionType() throws IOException {
    Path template = dir.resolve("response_template.json");
    Files.writeString(template, "[" + VALID + "]");
    MmhalRecord r = MmhalCodec.read(template).get(0);
    assertEquals(MmhalType.ATTRIBUTE, r.questionType());
    assertEquals(ImmutableList.of("Coat", "Animal", "Dog"), r.imageContent());
    assertEquals("The dog's coat is brown and white.", r.modelAnswer());

    ImmutableList.Builder<MmhalRecord> all = ImmutableList.builder();
    for (MmhalType t : MmhalType.values()) {
      all.add(new MmhalRecord(t, "shapes", "scene-" + t.ordinal(), "images/scene-" + t.ordinal() + ".png",
          ImmutableList.of("circle", "square"), "Question about " + t.mmhalName() + "?", "Answer.", ""));
    }
    List<MmhalRecord> records = all.build();
    Path out = dir.resolve("export.json");
    MmhalCodec.write(out, records);
    assertEquals(records, MmhalCodec.read(out));
    List<MmhalRecord> answered = records.stream().map(x -> x.withModelAnswer("It is a red circle.")).toList();
    MmhalCodec.write(out, answered);
    assertEquals(answered, MmhalCodec.read(out));
    String text = Files.readString(out);
    assertTrue(text.indexOf("\"question_type\"") < text.indexOf("\"question_topic\"")
        && text.indexOf("\"gt_answer\"") < text.indexOf("\"model_answer\""), "fields in the template's order");
  }

  static Stream<MalformedCase> malformed() {
    String answers = "\"gt_answer\": \"g\", \"model_answer\": \"\"";
    return Stream.of(
        new MalformedCase("unknown type", entry("\"colour\"", answers), "question_type", "got 'colour'"),
        new MalformedCase("type of wrong type", entry("1", answers), "question_type", "expected a string, got number"),
        new MalformedCase("missing gt_answer", entry("\"counting\"", "\"model_answer\": \"\""), "gt_answer", "missing"),
        new MalformedCase("empty gt_answer", entry("\"counting\"", "\"gt_answer\": \"\", \"model_answer\": \"\""),
            "gt_answer", "must not be empty"),
        new MalformedCase("missing model_answer", entry("\"counting\"", "\"gt_answer\": \"g\""), "model_answer", "missing"),
        new MalformedCase("model_answer of wrong type", entry("\"counting\"", "\"gt_answer\": \"g\", \"model_answer\": []"),
            "model_answer", "expected a string, got array"),
        new MalformedCase("image_content not a list", "{\"question_type\": \"other\", \"question_topic\": \"t\", "
            + "\"image_id\": \"i\", \"image_src\": \"s\", \"image_content\": \"Dog\", \"question\": \"q\", " + answers + "}",
            "image_content", "expected an array, got string"),
        new MalformedCase("image_content element of wrong type", "{\"question_type\": \"other\", \"question_topic\": \"t\", "
            + "\"image_id\": \"i\", \"image_src\": \"s\", \"image_content\": [\"Dog\", {}], \"question\": \"q\", "
            + answers + "}", "image_content[1]", "expected a string, got object"),
        new MalformedCase("empty question", "{\"question_type\": \"other\", \"question_topic\": \"t\", \"image_id\": \"i\", "
            + "\"image_src\": \"s\", \"image_content\": [], \"question\": \"\", " + answers + "}", "question",
            "must not be empty"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void rejectsMalformedRecordNamingFileIndexAndField(MalformedCase c) throws IOException {
    c.assertRejected(dir, "response_template.json", VALID, MmhalCodec::read);
  }
}

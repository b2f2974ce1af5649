package org.factrl.data.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class LlavaConversationCodecTest {
  @TempDir Path dir;

  private static final String VALID = """
      {"id": "ok", "image": "a.png", "conversations": [
        {"from": "human", "value": "<image>\\nWhat is this?"}, {"from": "gpt", "value": "A circle."}]}""";

  private static String record(String image, String turns) {
    return "{\"id\": \"r\", " + (image == null ? "" : "\"image\": " + image + ", ") + "\"conversations\": " + turns + "}";
  }

  @Test
  void roundTripsImageAndTextOnlyRecords() {
    List<LlavaConversation> records = List.of(
        LlavaConversation.withImage("scene-1", "images/scene-1.png", List.of(
            Turn.human("<image>\nDescribe the image."), Turn.gpt("A red circle on grass."),
            Turn.human("How many circles?"), Turn.gpt("One."))),
        LlavaConversation.textOnly("text-1", List.of(Turn.human("Say \"hi\" in 日本語, please: 1+1=2?"),
            Turn.gpt("こんにちは!\tTab and\nnewline."))));
    Path file = dir.resolve("sft.json");
    LlavaConversationCodec.write(file, records);
    assertEquals(records, LlavaConversationCodec.read(file));
  }

  @Test
  void readsLlavaStyleDataWithNumericIdsAndExtraFields() throws IOException {
    Path file = dir.resolve("llava.json");
    Files.writeString(file, """
        [{"id": 33471, "image": "coco/train2017/000000033471.jpg", "model": "x",
          "conversations": [{"from": "human", "value": "What are the colors of the bus?\\n<image>"},
                            {"from": "gpt", "value": "White and red."}]},
         {"id": "text", "image": null, "conversations": [{"from": "human", "value": "Hi"},
                                                         {"from": "gpt", "value": "Hello"}]}]""");
    List<LlavaConversation> read = LlavaConversationCodec.read(file);
    assertEquals("33471", read.get(0).id());
    assertEquals(Optional.of("coco/train2017/000000033471.jpg"), read.get(0).image());
    assertEquals(Optional.empty(), read.get(1).image());
    assertEquals(Speaker.GPT, read.get(1).conversations().get(1).from());
  }

  @Test
  void constructorRejectsInvalidRecords() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        LlavaConversation.withImage("x", "a.png", List.of(Turn.human("no placeholder"), Turn.gpt("ok"))));
    assertTrue(e.getMessage().startsWith("field 'conversations[0].value': expected exactly one '<image>'"), e.getMessage());
  }

  static Stream<MalformedCase> malformed() {
    String gpt = "{\"from\": \"gpt\", \"value\": \"ok\"}";
    String human = "{\"from\": \"human\", \"value\": \"hi\"}";
    String imageHuman = "{\"from\": \"human\", \"value\": \"<image>\\nhi\"}";
    return Stream.of(
        new MalformedCase("missing id", "{\"conversations\": [" + human + "," + gpt + "]}", "id", "missing"),
        new MalformedCase("empty id", "{\"id\": \" \", \"conversations\": [" + human + "," + gpt + "]}", "id",
            "must not be empty"),
        new MalformedCase("id of wrong type", "{\"id\": true, \"conversations\": [" + human + "," + gpt + "]}",
            "id", "expected a string, got boolean"),
        new MalformedCase("missing conversations", "{\"id\": \"r\"}", "conversations", "missing"),
        new MalformedCase("conversations not an array", record(null, "\"hi\""), "conversations",
            "expected an array, got string"),
        new MalformedCase("no turns", record(null, "[]"), "conversations", "at least one turn"),
        new MalformedCase("turn not an object", record(null, "[" + human + ", 3]"), "conversations[1]",
            "expected an object, got number"),
        new MalformedCase("unknown speaker", record(null, "[{\"from\": \"user\", \"value\": \"hi\"}," + gpt + "]"),
            "conversations[0].from", "expected 'human' or 'gpt', got 'user'"),
        new MalformedCase("value of wrong type", record(null, "[" + human + ", {\"from\": \"gpt\", \"value\": 3}]"),
            "conversations[1].value", "expected a string, got number"),
        new MalformedCase("missing value", record(null, "[" + human + ", {\"from\": \"gpt\"}]"),
            "conversations[1].value", "missing"),
        new MalformedCase("empty value", record(null, "[" + human + ", {\"from\": \"gpt\", \"value\": \"\"}]"),
            "conversations[1].value", "must not be empty"),
        new MalformedCase("starts with gpt", record(null, "[" + gpt + "," + human + "]"), "conversations[0].from",
            "expected 'human'"),
        new MalformedCase("two human turns", record(null, "[" + human + "," + human + "]"),
            "conversations[1].from", "expected 'gpt'"),
        new MalformedCase("ends with human", record(null, "[" + human + "," + gpt + "," + human + "]"),
            "conversations", "must end with a 'gpt' turn"),
        new MalformedCase("NUL in image", record("\"a\\u0000b.png\"", "[" + imageHuman + "," + gpt + "]"),
            "image", "control character U+0000 at index 1"),
        new MalformedCase("absolute image", record("\"/dev/zero\"", "[" + imageHuman + "," + gpt + "]"),
            "image", "must be relative to the image folder"),
        new MalformedCase("image without placeholder", record("\"a.png\"", "[" + human + "," + gpt + "]"),
            "conversations[0].value", "found 0"),
        new MalformedCase("two placeholders",
            record("\"a.png\"", "[{\"from\": \"human\", \"value\": \"<image> <image>\"}," + gpt + "]"),
            "conversations[0].value", "found 2"),
        new MalformedCase("placeholder without image", record(null, "[" + imageHuman + "," + gpt + "]"),
            "conversations[0].value", "without an image"),
        new MalformedCase("placeholder in a later turn", record("\"a.png\"",
            "[" + imageHuman + "," + gpt + ", {\"from\": \"human\", \"value\": \"and <image>?\"}," + gpt + "]"),
            "conversations[2].value", "outside the first human turn"),
        new MalformedCase("empty image", record("\"\"", "[" + imageHuman + "," + gpt + "]"), "image",
            "must not be empty"),
        new MalformedCase("image of wrong type", record("[\"a.png\"]", "[" + imageHuman + "," + gpt + "]"), "image",
            "expected a string, got array"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void rejectsMalformedRecordNamingFileIndexAndField(MalformedCase c) throws IOException {
    c.assertRejected(dir, "sft.json", VALID, LlavaConversationCodec::read);
  }
}

package org.factrl.data.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.factrl.engine.FactRlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PopeCodecTest {
  @TempDir Path dir;

  /** A line of POPE's own coco_pope_random.json. */
  private static final String POPE_LINE =
      "{\"question_id\": 1, \"image\": \"COCO_val2014_000000310196.jpg\", \"text\": \"Is there a snowboard in the image?\", \"label\": \"yes\"}";

  @Test
  void readsPopeLinesSkippingBlankOnesAndRoundTrips() throws IOException {
    Path file = dir.resolve("coco_pope_random.json");
    Files.writeString(file, POPE_LINE + "\n\n"
        + "{\"question_id\": 2, \"image\": \"b.jpg\", \"text\": \"Is there a dog in the image?\", \"label\": \"No\"}\n");
    List<PopeRecord> read = PopeCodec.read(file);
    assertEquals(List.of(new PopeRecord(1, "COCO_val2014_000000310196.jpg", "Is there a snowboard in the image?", true),
        new PopeRecord(2, "b.jpg", "Is there a dog in the image?", false)), read);

    Path out = dir.resolve("out.json");
    PopeCodec.write(out, read);
    assertEquals(read, PopeCodec.read(out));
    List<String> lines = Files.readAllLines(out);
    assertEquals(2, lines.size(), "one record per line");
    assertTrue(lines.get(0).startsWith("{\"question_id\":1,"), lines.get(0));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "label not yes/no   | {\"question_id\": 3, \"image\": \"a.jpg\", \"text\": \"Is there a cat?\", \"label\": \"maybe\"} | field 'label': expected 'yes' or 'no'",
      "missing text       | {\"question_id\": 3, \"image\": \"a.jpg\", \"label\": \"no\"}                             | field 'text': missing",
      "id not an integer  | {\"question_id\": \"x\", \"image\": \"a.jpg\", \"text\": \"Is there a cat?\", \"label\": \"no\"} | field 'question_id': expected an integer",
      "id out of range    | {\"question_id\": 1e3000000000, \"image\": \"a.jpg\", \"text\": \"Is there a cat?\", \"label\": \"no\"} | field 'question_id': expected an integer",
      "negative id        | {\"question_id\": -1, \"image\": \"a.jpg\", \"text\": \"Is there a cat?\", \"label\": \"no\"} | field 'question_id': expected an id >= 0",
      "empty image        | {\"question_id\": 3, \"image\": \" \", \"text\": \"Is there a cat?\", \"label\": \"no\"}     | field 'image': must not be empty",
      "NUL in image       | {\"question_id\": 3, \"image\": \"a\\u0000b.jpg\", \"text\": \"Is there a cat?\", \"label\": \"no\"} | field 'image': control character U+0000 at index 1",
      "absolute image     | {\"question_id\": 3, \"image\": \"/dev/zero\", \"text\": \"Is there a cat?\", \"label\": \"no\"} | field 'image': must be relative to the image folder",
      "not an object      | [1, 2]                                                                                  | expected a JSON object, got array",
      "broken JSON        | {\"question_id\": 3,                                                                    | not valid JSON",
  })
  void malformedLineNamesFileLineAndField(String name, String line, String reason) throws IOException {
    Path file = dir.resolve("pope.json");
    Files.writeString(file, POPE_LINE + "\n\n" + line.strip() + "\n");
    FactRlException e = assertThrows(FactRlException.class, () -> PopeCodec.read(file));
    String expected = file + ": line 3: ";
    assertTrue(e.getMessage().startsWith(expected), () -> "expected '" + expected + "...', got: " + e.getMessage());
    assertTrue(e.getMessage().contains(reason.strip()), () -> "expected '" + reason.strip() + "' in: " + e.getMessage());
  }

  @Test
  void missingFileIsNamed() {
    Path file = dir.resolve("absent.json");
    FactRlException e = assertThrows(FactRlException.class, () -> PopeCodec.read(file));
    assertEquals(file + ": no such file", e.getMessage());
  }
}

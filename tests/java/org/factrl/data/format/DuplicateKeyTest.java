package org.factrl.data.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import org.factrl.engine.FactRlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8, class 2: a key given twice in one object ({@code "preference": 1, ... "preference": 2})
 * used to read as the last value without a word. Every reader now rejects it, naming the file,
 * the record (index, or line for JSON Lines) and the field's path.
 */
class DuplicateKeyTest {
  @TempDir Path dir;

  private static final String TURNS =
      "\"conversations\": [{\"from\": \"human\", \"value\": \"<image>\\nWhat is this?\"}, {\"from\": \"gpt\", \"value\": \"A circle.\"}]";
  private static final String SFT = "{\"id\": \"ok\", \"image\": \"a.png\", " + TURNS + "}";
  private static final String PROMPT = "\"conversations\": [{\"from\": \"human\", \"value\": \"<image>\\nDescribe.\"}]";
  private static final String PAIR = "{\"id\": \"p\", \"image\": \"a.png\", " + PROMPT
      + ", \"output_1\": {\"from\": \"gpt\", \"value\": \"A.\"}, \"output_2\": \"B.\", \"preference\": 2}";
  private static final String RL = "{\"id\": \"q\", \"image\": \"a.png\", " + PROMPT
      + ", \"captions\": [\"A red circle.\"], \"answer\": {\"type\": \"multiple_choice\", \"value\": \"a\", \"choices\": [\"a\", \"b\"]}}";
  private static final String MMHAL = "{\"question_type\": \"attribute\", \"question_topic\": \"t\", \"image_id\": \"i\","
      + " \"image_src\": \"s.png\", \"image_content\": [\"Dog\"], \"question\": \"q?\", \"gt_answer\": \"a\", \"model_answer\": \"b\"}";
  private static final String POPE = "{\"question_id\": 1, \"image\": \"a.jpg\", \"text\": \"Is there a dog?\", \"label\": \"yes\"}";

  private String error(String content, Function<Path, ?> reader) throws IOException {
    Path file = dir.resolve("data.json");
    Files.writeString(file, content, StandardCharsets.UTF_8);
    return assertThrows(FactRlException.class, () -> reader.apply(file)).getMessage();
  }

  private String expected(String where) {
    return dir.resolve("data.json") + ": " + where + ": duplicate key (a field may appear once per object)";
  }

  @Test
  void theSameKeysInDifferentRecordsAndObjectsAreFine() throws IOException {
    Path file = dir.resolve("ok.json");
    Files.writeString(file, "[" + SFT + ", " + SFT.replace("\"ok\"", "\"ok2\"") + "]");
    assertEquals(2, LlavaConversationCodec.read(file).size());
  }

  @Test
  void llavaTopLevelAndNestedDuplicates() throws IOException {
    assertEquals(expected("record 1: field 'id'"),
        error("[" + SFT + ", " + SFT.replace("{\"id\": \"ok\",", "{\"id\": \"ok\", \"id\": \"other\",") + "]",
            LlavaConversationCodec::read));
    assertEquals(expected("record 0: field 'conversations[1].from'"),
        error("[" + SFT.replace("{\"from\": \"gpt\",", "{\"from\": \"gpt\", \"from\": \"human\",") + "]",
            LlavaConversationCodec::read));
  }

  @Test
  void preferenceGivenTwiceIsRejectedNotLastWins() throws IOException {
    assertEquals(expected("record 1: field 'preference'"),
        error("[" + PAIR + ", " + PAIR.replace("\"preference\": 2", "\"preference\": 1, \"preference\": 2") + "]",
            PreferencePairCodec::read));
    assertEquals(expected("record 0: field 'output_1.value'"),
        error("[" + PAIR.replace("\"value\": \"A.\"", "\"value\": \"A.\", \"value\": \"C.\"") + "]", PreferencePairCodec::read));
  }

  @Test
  void rlPromptNestedAnswer() throws IOException {
    assertEquals(expected("record 0: field 'answer.choices'"),
        error("[" + RL.replace("\"choices\": [\"a\", \"b\"]", "\"choices\": [\"a\", \"b\"], \"choices\": [\"a\"]") + "]",
            RlPromptCodec::read));
  }

  @Test
  void mmhal() throws IOException {
    assertEquals(expected("record 0: field 'gt_answer'"),
        error("[" + MMHAL.replace("\"gt_answer\": \"a\"", "\"gt_answer\": \"a\", \"gt_answer\": \"b\"") + "]", MmhalCodec::read));
  }

  @Test
  void popeNamesTheLine() throws IOException {
    assertEquals(expected("line 2: field 'label'"),
        error(POPE + "\n" + POPE.replace("\"label\": \"yes\"", "\"label\": \"yes\", \"label\": \"no\"") + "\n", PopeCodec::read));
  }

  @Test
  void documentsNameTheFieldPath() throws IOException {
    // the manifest and tokenizer.json are documents (an object at the top)
    assertEquals(expected("field 'settings.split_fractions[1].a'"),
        error("{\"format\": \"x\", \"settings\": {\"seed\": 1, \"split_fractions\": [0.5, {\"a\": 1, \"a\": 1}]}}",
            JsonRecords::readDocument));
    assertEquals(expected("field 'format'"), error("{\"format\": \"x\", \"format\": \"x\"}", JsonRecords::readDocument));
  }

  @Test
  void strictJsonPaths() {
    FactRlException e = assertThrows(FactRlException.class,
        () -> StrictJson.parse("[[{\"a\": {\"b\": [1, {\"c\": 1, \"c\": 2}]}}]]", "mem"));
    assertEquals("mem: record 0: field '[0].a.b[1].c': duplicate key (a field may appear once per object)", e.getMessage());
    // keys compare exactly: case and escapes are decoded first ("\u0061" is "a")
    assertEquals(2, StrictJson.parse("{\"a\": 1, \"A\": 2}", "mem").getAsJsonObject().size());
    assertThrows(FactRlException.class, () -> StrictJson.parse("{\"a\": 1, \"\\u0061\": 2}", "mem"));
  }

  @Test
  void nestingIsCapped() {
    String deep = "[".repeat(StrictJson.MAX_DEPTH) + "]".repeat(StrictJson.MAX_DEPTH);
    assertEquals(1, StrictJson.parse(deep, "mem").getAsJsonArray().size() + (StrictJson.MAX_DEPTH > 1 ? 0 : 1));
    String tooDeep = "[" + deep + "]";
    FactRlException e = assertThrows(FactRlException.class, () -> StrictJson.parse(tooDeep, "mem"));
    assertTrue(e.getMessage().startsWith("mem: not valid JSON: Nesting limit " + StrictJson.MAX_DEPTH), e.getMessage());
  }
}

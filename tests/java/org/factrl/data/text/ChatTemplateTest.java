package org.factrl.data.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.factrl.data.format.Turn;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatTemplateTest {
  private static final String SYSTEM = "A chat between a curious human and an artificial intelligence assistant. "
      + "The assistant gives helpful, detailed, and polite answers to the human's questions.";
  private static final List<Turn> TWO_TURNS = List.of(
      Turn.human("<image>\nWhat shape is red?"), Turn.gpt("The circle is red."),
      Turn.human("How many squares are there?"), Turn.gpt("There are 2 squares."));

  @TempDir static Path dir;
  static Tokenizer tok;

  @BeforeAll
  static void load() {
    Path file = dir.resolve("tokenizer.json");
    ShapesTokenizerWriter.write(file, TokenizerTest.CORPUS);
    tok = Tokenizer.load(file);
  }

  @AfterAll
  static void close() {
    tok.close();
  }

  @Test
  void rendersVicunaV1Exactly() {
    String expected = SYSTEM + " USER: <image>\nWhat shape is red? ASSISTANT: The circle is red.</s>"
        + "USER: How many squares are there? ASSISTANT: There are 2 squares.</s>";
    assertEquals(expected, ChatTemplate.vicunaV1().render(TWO_TURNS));
  }

  @Test
  void promptForGenerationEndsWithAssistantColon() {
    assertEquals(SYSTEM + " USER: <image>\nWhat shape is red? ASSISTANT:",
        ChatTemplate.vicunaV1().promptForGeneration(List.of(Turn.human("<image>\nWhat shape is red?"))));
    assertEquals(SYSTEM + " USER: <image>\nWhat shape is red? ASSISTANT: The circle is red.</s>"
            + "USER: How many squares are there? ASSISTANT:",
        ChatTemplate.vicunaV1().promptForGeneration(TWO_TURNS.subList(0, 3)));
    assertEquals("Be brief. USER: Hi ASSISTANT:",
        ChatTemplate.vicunaV1().withSystem("Be brief.").promptForGeneration(List.of(Turn.human("Hi"))));
  }

  @Test
  void lossMaskCoversExactlyTheAssistantSpans() {
    TokenizedConversation t = ChatTemplate.vicunaV1().tokenize(TWO_TURNS, tok);
    int[] ids = t.ids();
    int[] mask = t.lossMask();
    assertArrayEquals(tok.encode(ChatTemplate.vicunaV1().render(TWO_TURNS)), ids, "one-piece tokenisation");
    // byte-level tokens concatenate, so decoding each side of the mask recovers the exact text
    assertEquals(" The circle is red.</s> There are 2 squares.</s>", tok.decode(select(ids, mask, 1)));
    assertEquals("<s>" + SYSTEM + " USER: <image>\nWhat shape is red? ASSISTANT:USER: How many squares are there?"
        + " ASSISTANT:", tok.decode(select(ids, mask, 0)));
    int eos = tok.requireTokenId(SpecialTokens.EOS);
    assertEquals(eos, ids[ids.length - 1]);
    assertEquals(1, mask[mask.length - 1], "the closing </s> is a target");
    assertEquals(0, mask[0], "<s> is not a target");
    int image = tok.requireTokenId(SpecialTokens.IMAGE);
    int at = IntStream.range(0, ids.length).filter(i -> ids[i] == image).findFirst().orElseThrow();
    assertEquals(0, mask[at]);
    assertEquals(select(ids, mask, 1).length, t.targetCount());
  }

  @Test
  void rejectsBadTurnOrder() {
    ChatTemplate c = ChatTemplate.vicunaV1();
    assertThrows(IllegalArgumentException.class, () -> c.render(List.of(Turn.human("q"))));
    assertThrows(IllegalArgumentException.class, () -> c.render(List.of(Turn.gpt("a"), Turn.gpt("b"))));
    assertThrows(IllegalArgumentException.class, () -> c.promptForGeneration(List.of(Turn.human("q"), Turn.gpt("a"))));
    assertThrows(IllegalArgumentException.class, () -> c.render(List.of()));
  }

  private static int[] select(int[] ids, int[] mask, int value) {
    return IntStream.range(0, ids.length).filter(i -> mask[i] == value).map(i -> ids[i]).toArray();
  }
}

package org.factrl.data.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.factrl.engine.FactRlException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The HF tokenizer wrapper over the shapes tokenizer (and a WordLevel fixture: any tokenizer.json). */
class TokenizerTest {
  static final List<String> CORPUS = List.of(
      "A red circle and a small blue square on grass.",
      "There are two large green triangles to the left of the yellow star.",
      "How many circles are there? Is there a purple cube? Yes. No.",
      "circle square triangle star cube red green blue yellow purple left right above below");

  @TempDir static Path dir;
  static Tokenizer tok;

  @BeforeAll
  static void writeAndLoad() {
    Path file = dir.resolve("tokenizer.json");
    ShapesTokenizerWriter.write(file, CORPUS);
    tok = Tokenizer.load(file);
  }

  @AfterAll
  static void close() {
    tok.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "A red circle and a small blue square on grass.",
      "",
      " ",
      "   leading and trailing spaces   ",
      "tabs\tand\nnew\r\nlines\n\n",
      "Punctuation: (a), [b]; {c}! \"quoted\" 'single' - -- --- ... ?! @#$%^&*_+=|\\/<>~`",
      "digits 0123456789 3.14159 -42 1e10 2,000,000",
      "unicode: café naïve Zürich 日本語 한국어 Ελληνικά русский עברית العربية",
      "emoji 😀👍🏽 and combining e\u0301 and a zero-width\u200bspace",
      "out-of-vocabulary: zyxwvut qqqq xylophone Floccinaucinihilipilification",
      "CASE Matters: RED Red rEd",
      "words<image>glued</s>to<s>specials<pad><unk>",
      "<image>\nWhat is the colour of the circle?"})
  void decodeOfEncodeIsIdentity(String s) {
    assertEquals(s, tok.decode(tok.encode(s, false)));
    assertEquals(s, tok.decode(tok.encode(s, false), false));
    int[] withBos = tok.encode(s);
    assertEquals(tok.requireTokenId(SpecialTokens.BOS), withBos[0]);
    assertEquals(SpecialTokens.BOS + s, tok.decode(withBos));
  }

  @Test
  void skippingSpecialTokensDropsThem() {
    int[] ids = tok.encode("<image>\nIs it red?</s>");
    assertEquals("\nIs it red?", tok.decode(ids, true));
  }

  @Test
  void specialTokensAreSingleIdsNeverSplit() {
    for (int id = 0; id < SpecialTokens.ALL.size(); id++) {
      String special = SpecialTokens.ALL.get(id);
      assertEquals(OptionalInt.of(id), tok.tokenId(special), special);
      assertArrayEquals(new int[] {id}, tok.encode(special, false), special);
      assertEquals(Optional.of(special), tok.token(id));
    }
    int image = tok.requireTokenId(SpecialTokens.IMAGE);
    int[] ids = tok.encode("a<image>b <image>\n", false);
    assertEquals(2, Arrays.stream(ids).filter(i -> i == image).count(), Arrays.toString(ids));
  }

  @Test
  void corpusWordsAreSingleTokens() {
    for (String word : List.of("circle", " circle", " triangles", " purple", "How", " grass", " yellow")) {
      assertEquals(1, tok.encode(word, false).length, word);
    }
    assertArrayEquals(tok.encode(" red circle", false),
        new int[] {tok.tokenId("Ġred").getAsInt(), tok.tokenId("Ġcircle").getAsInt()});
  }

  @Test
  void everyCorpusWordIsOneTokenBareAndAfterASpace() throws IOException {
    List<String> corpus = List.of("banana mississippi aaa aaaa abab ababab", "ok, 123 4567 don't stop!");
    Path file = dir.resolve("words.json");
    ShapesTokenizerWriter.write(file, corpus);
    try (Tokenizer t = Tokenizer.load(file)) {
      for (String word : List.of("banana", "mississippi", "aaa", "aaaa", "abab", "ababab", "ok", ",", "123", "4567",
          "don", "stop", "!")) {
        assertEquals(1, t.encode(word, false).length, word);
        assertEquals(1, t.encode(" " + word, false).length, " " + word);
      }
      // GPT-2's split keeps "'t" whole only when glued to a word, as in the corpus
      assertEquals(2, t.encode(" don't", false).length);
    }
  }

  @Test
  void vocabularyComesFromTheFile() {
    int n = tok.vocabSize();
    assertTrue(n > 5 + 256, "specials + bytes + merges: " + n);
    for (int id = 0; id < n; id++) {
      String token = tok.token(id).orElseThrow();
      assertEquals(OptionalInt.of(id), tok.tokenId(token));
    }
    assertEquals(OptionalInt.empty(), tok.tokenId("no such token"));
    assertThrows(FactRlException.class, () -> tok.requireTokenId("no such token"));
    assertThrows(IndexOutOfBoundsException.class, () -> tok.decode(new int[] {n}));
  }

  @Test
  void longTextIsNotTruncated() {
    String text = "red circle ".repeat(2000).strip();
    int[] ids = tok.encode(text, false);
    assertEquals(4000, ids.length);
    assertEquals(text, tok.decode(ids));
  }

  @Test
  void writerIsDeterministicAndIndependentOfCorpusOrder() throws IOException {
    Path a = dir.resolve("a.json");
    Path b = dir.resolve("b.json");
    ShapesTokenizerWriter.write(a, CORPUS);
    ShapesTokenizerWriter.write(b, com.google.common.collect.Lists.reverse(CORPUS));
    assertEquals(Files.readString(dir.resolve("tokenizer.json")), Files.readString(a));
    assertEquals(Files.readString(a), Files.readString(b));
  }

  @Test
  void loadsAnyTokenizerJsonWordLevelFixture() throws URISyntaxException {
    Path file = Path.of(TokenizerTest.class.getResource("wordlevel-tokenizer.json").toURI());
    try (Tokenizer t = Tokenizer.load(file)) {
      assertArrayEquals(new int[] {1, 2, 3, 0}, t.encode("Hello WORLD! unknown", false));
      assertEquals(6, t.vocabSize());
      assertEquals(OptionalInt.of(5), t.tokenId("<s>"));
      assertEquals(OptionalInt.empty(), t.tokenId(SpecialTokens.IMAGE));
    }
  }

  @Test
  void corruptTokenizerJsonIsNamed() throws IOException {
    Path truncated = dir.resolve("truncated.json");
    String full = Files.readString(dir.resolve("tokenizer.json"));
    Files.writeString(truncated, full.substring(0, full.length() / 2));
    assertNamed(truncated);

    Path notTokenizer = dir.resolve("not-a-tokenizer.json");
    Files.writeString(notTokenizer, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"x y z\"]}}");
    assertNamed(notTokenizer);

    Path wrongModel = dir.resolve("wrong-model.json");
    Files.writeString(wrongModel, full.replace("\"type\": \"BPE\"", "\"type\": \"NoSuchModel\""));
    assertNamed(wrongModel);

    Path empty = Files.createFile(dir.resolve("empty.json"));
    assertNamed(empty);
    assertNamed(dir.resolve("missing.json"));
  }

  /** Issue 8, class 5: the file is checked before the HF library reads it. */
  @Test
  void invalidVocabulariesNameFileAndField() throws IOException {
    String full = Files.readString(dir.resolve("tokenizer.json"));
    int redId = tok.requireTokenId("red");
    String red = "\"red\": " + redId;
    assertTrue(full.contains(red), "the writer's vocabulary entry for 'red'");
    assertInvalid(full.replace(red, "\"red\": 4294967296"), "field 'model.vocab[\"red\"]': expected an integer id in [0, "
        + Tokenizer.MAX_TOKEN_ID + "], got 4294967296");
    assertInvalid(full.replace(red, "\"red\": 2147483647"), "field 'model.vocab[\"red\"]': expected an integer id");
    assertInvalid(full.replace(red, "\"red\": -1"), "field 'model.vocab[\"red\"]': expected an integer id");
    assertInvalid(full.replace(red, "\"red\": 5.5"), "field 'model.vocab[\"red\"]': expected an integer id");
    assertInvalid(full.replace(red, "\"red\": 1e999999999"), "field 'model.vocab[\"red\"]': expected an integer id");
    assertInvalid(full.replace(red, "\"red\": \"7\""), "field 'model.vocab[\"red\"]': expected an integer id in [0, "
        + Tokenizer.MAX_TOKEN_ID + "], got a string");
    assertInvalid(full.replace(red, "\"red\": 0"), "field 'model.vocab[\"red\"]': id 0 is also the id of \"<unk>\"");
    assertInvalid(full.replace(red, red + ", \"red\": " + redId), "field 'model.vocab.red': duplicate key");
    assertInvalid(full.replaceFirst("\"model\": \\{", "\"model\": {}, \"model\": {"), "field 'model': duplicate key");
    assertInvalid("{\"version\": \"1.0\"}", "field 'model': missing");
    assertInvalid("[]", "expected a JSON object (a tokenizer.json), got an array");
    assertInvalid("{\"model\": {\"type\": \"BPE\"}}", "field 'model.vocab': missing");
    assertInvalid("{\"model\": {\"vocab\": [[\"a\", 0.0], [\"a\", 0.0]]}}", "field 'model.vocab[1]': piece \"a\" is already model.vocab[0]");
    assertInvalid("{\"model\": {\"vocab\": [[\"a\"]]}}", "field 'model.vocab[0]': expected [piece, score]");
    String words = "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0, \"b\": 1}, \"unk_token\": \"a\"}, \"added_tokens\": ";
    assertInvalid(words + "[{\"id\": 1, \"content\": \"c\"}]}", "field 'added_tokens[0].id': id 1 is also the id of \"b\"");
    assertInvalid(words + "[{\"id\": 2, \"content\": \"b\"}]}", "field 'added_tokens[0].id': \"b\" has id 2 here but 1 in model.vocab");
    assertInvalid(words + "[{\"id\": 2, \"content\": \"c\"}, {\"id\": 3, \"content\": \"c\"}]}",
        "field 'added_tokens[1].content': \"c\" is added twice");
    assertInvalid(words + "[{\"content\": \"c\"}]}", "field 'added_tokens[0].id': missing");
    assertInvalid(words + "[{\"id\": 2, \"content\": \"\"}]}", "field 'added_tokens[0].content': expected a non-empty string");
    assertInvalid(words + "{}}", "field 'added_tokens': expected an array, got an object");
  }

  private static void assertInvalid(String content, String message) throws IOException {
    Path file = dir.resolve("invalid.json");
    Files.writeString(file, content);
    FactRlException e = assertThrows(FactRlException.class, () -> Tokenizer.load(file));
    assertTrue(e.getMessage().startsWith(file + ": ") && e.getMessage().contains(message),
        () -> "expected '" + message + "' in: " + e.getMessage());
  }

  @Test
  void largestIdGivesAnIntVocabSize() throws IOException {
    Path file = dir.resolve("sparse.json");
    Files.writeString(file, "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0, \"b\": "
        + Tokenizer.MAX_TOKEN_ID + "}, \"unk_token\": \"a\"}}");
    try (Tokenizer t = Tokenizer.load(file)) {
      assertEquals(Integer.MAX_VALUE, t.vocabSize());
    }
  }

  @Test
  void nullArgumentsNameTheParameter() {
    assertEquals("text", assertThrows(NullPointerException.class, () -> tok.encode(null)).getMessage());
    assertEquals("text", assertThrows(NullPointerException.class, () -> tok.encode(null, false)).getMessage());
    assertEquals("ids", assertThrows(NullPointerException.class, () -> tok.decode(null)).getMessage());
    assertEquals("token", assertThrows(NullPointerException.class, () -> tok.tokenId(null)).getMessage());
    assertEquals("tokenizerJson", assertThrows(NullPointerException.class, () -> Tokenizer.load(null)).getMessage());
  }

  @Test
  void useAfterCloseIsOurIllegalStateException() {
    Tokenizer t = Tokenizer.load(dir.resolve("tokenizer.json"));
    int[] ids = t.encode("red");
    t.close();
    t.close(); // idempotent
    String closed = dir.resolve("tokenizer.json") + ": tokenizer is closed";
    assertEquals(closed, assertThrows(IllegalStateException.class, () -> t.encode("red")).getMessage());
    assertEquals(closed, assertThrows(IllegalStateException.class, () -> t.decode(ids)).getMessage());
    assertEquals(closed, assertThrows(IllegalStateException.class, t::vocabSize).getMessage());
    assertEquals(closed, assertThrows(IllegalStateException.class, () -> t.tokenId("red")).getMessage());
    assertEquals(dir.resolve("tokenizer.json"), t.file());
  }

  private static void assertNamed(Path file) {
    FactRlException e = assertThrows(FactRlException.class, () -> Tokenizer.load(file), file.toString());
    assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
  }
}

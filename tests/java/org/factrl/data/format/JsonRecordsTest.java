package org.factrl.data.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.factrl.engine.FactRlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** File-level errors, shared by every codec, and the atomic, UTF-8, pretty-printed writing. */
class JsonRecordsTest {
  @TempDir Path dir;

  private String readError(String content) throws IOException {
    Path file = dir.resolve("data.json");
    Files.writeString(file, content, StandardCharsets.UTF_8);
    return assertThrows(FactRlException.class, () -> LlavaConversationCodec.read(file)).getMessage();
  }

  @Test
  void notJsonNamesTheFile() throws IOException {
    String m = readError("[{\"id\": \"a\", ");
    assertTrue(m.startsWith(dir.resolve("data.json") + ": not valid JSON"), m);
  }

  @Test
  void trailingGarbageIsNotJson() throws IOException {
    assertTrue(readError("[] []").contains(": not valid JSON"));
  }

  @Test
  void lenientSyntaxIsRejected() throws IOException {
    assertTrue(readError("[{'id': 'a'}]").contains(": not valid JSON"));
  }

  @Test
  void topLevelMustBeAnArray() throws IOException {
    assertTrue(readError("{\"id\": \"a\"}").endsWith(": expected a JSON array of records, got object"));
  }

  @Test
  void recordMustBeAnObject() throws IOException {
    String valid = "{\"id\": \"a\", \"conversations\": [{\"from\": \"human\", \"value\": \"hi\"},"
        + " {\"from\": \"gpt\", \"value\": \"hello\"}]}";
    String m = readError("[" + valid + ", [1, 2]]");
    assertTrue(m.endsWith("data.json: record 1: expected a JSON object, got array"), m);
  }

  @Test
  void emptyFileAndMissingFileAreNamed() throws IOException {
    assertTrue(readError("").endsWith("data.json: empty file, expected JSON"));
    Path missing = dir.resolve("nope.json");
    String m = assertThrows(FactRlException.class, () -> LlavaConversationCodec.read(missing)).getMessage();
    assertEquals(missing + ": no such file", m);
  }

  @Test
  void invalidUtf8IsNamed() throws IOException {
    Path file = dir.resolve("latin1.json");
    Files.write(file, new byte[] {'[', '"', (byte) 0xE9, '"', ']'});
    String m = assertThrows(FactRlException.class, () -> LlavaConversationCodec.read(file)).getMessage();
    assertEquals(file + ": not UTF-8 text: invalid byte 0xE9 at offset 2 (line 1)", m);
  }

  @Test
  void onlyRegularFilesAreRead() throws Exception {
    // a folder, and a FIFO (reading one would block until a writer came)
    String m = assertThrows(FactRlException.class, () -> LlavaConversationCodec.read(dir)).getMessage();
    assertEquals(dir + ": not a regular file (a folder)", m);
    Path fifo = dir.resolve("fifo.json");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    org.junit.jupiter.api.Assumptions.assumeTrue(mkfifo.waitFor() == 0, "mkfifo unavailable");
    assertEquals(fifo + ": not a regular file",
        assertThrows(FactRlException.class, () -> LlavaConversationCodec.read(fifo)).getMessage());
  }

  @Test
  void syntaxErrorsGiveNoProgrammerAdvice() throws IOException {
    String m = readError("[{\"id\": 'a'}]");
    assertEquals(dir.resolve("data.json") + ": not valid JSON: malformed JSON at line 1 column 10 path $[0].id", m);
  }

  @Test
  void invalidUtf8NamesTheLine() throws IOException {
    Path file = dir.resolve("bad.json");
    Files.write(file, new byte[] {'[', '\n', '"', 'a', '"', ',', '\n', '"', (byte) 0xE2, (byte) 0x82, '"', ']'});
    String m = assertThrows(FactRlException.class, () -> PopeCodec.read(file)).getMessage();
    assertEquals(file + ": not UTF-8 text: invalid byte 0xE2 at offset 8 (line 3)", m);
  }

  @Test
  void emptyArrayReadsAsNoRecords() throws IOException {
    Path file = dir.resolve("empty.json");
    Files.writeString(file, "[]");
    assertEquals(List.of(), LlavaConversationCodec.read(file));
  }

  @Test
  void writeIsPrettyUtf8AtomicAndCreatesFolders() throws IOException {
    Path file = dir.resolve("sub/folder/out.json");
    LlavaConversation r = LlavaConversation.textOnly("x", List.of(Turn.human("Café ☕ <b>?"), Turn.gpt("Oui — 日本.")));
    LlavaConversationCodec.write(file, List.of(r));
    String text = Files.readString(file, StandardCharsets.UTF_8);
    assertTrue(text.startsWith("[\n  {\n    \"id\": \"x\","), text);
    assertTrue(text.contains("Café ☕ <b>?"), "no \\u escapes, no HTML escaping: " + text);
    assertTrue(text.endsWith("]\n"));
    try (Stream<Path> files = Files.list(file.getParent())) {
      assertEquals(List.of(file), files.toList(), "the temporary file was moved, not left behind");
    }
    // overwriting an existing file replaces it
    LlavaConversationCodec.write(file, List.of());
    assertEquals("[]\n", Files.readString(file));
  }
}

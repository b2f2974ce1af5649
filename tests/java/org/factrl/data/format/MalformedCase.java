package org.factrl.data.format;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import org.factrl.engine.FactRlException;

/**
 * A malformed record and the field its error must name. The test file holds a valid record first,
 * so the error must say record 1, not 0.
 */
record MalformedCase(String name, String record, String field, String reason) {
  @Override
  public String toString() {
    return name;
  }

  /** Writes {@code [valid, record]} to {@code dir/file}, reads it, checks file, index, field, reason. */
  void assertRejected(Path dir, String file, String valid, Function<Path, ?> reader) throws IOException {
    Path path = dir.resolve(file);
    Files.writeString(path, "[" + valid + ",\n" + record + "]", StandardCharsets.UTF_8);
    FactRlException e = assertThrows(FactRlException.class, () -> reader.apply(path));
    String expected = path + ": record 1: field '" + field + "': ";
    assertTrue(e.getMessage().startsWith(expected), () -> "expected '" + expected + "...', got: " + e.getMessage());
    assertTrue(e.getMessage().contains(reason), () -> "expected reason '" + reason + "' in: " + e.getMessage());
  }
}

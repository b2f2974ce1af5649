package org.factrl.model.io;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The safetensors reader fed {@value #CASES} damaged copies of valid files (one from our writer,
 * one built by hand): random byte flips anywhere, truncation, edits of the header text (digits,
 * quotes, brackets, dtype names, deleted or repeated spans) and absurd header lengths. Each case
 * either reads (and then loads every tensor the engine can hold) or throws a
 * {@link FactRlException} naming the file; any other exception fails, naming the seed that
 * reproduces it. Fixed seed, so every run tries the same cases; a hang is caught by a generous
 * overall time limit (a few seconds of work on 2 busy cores).
 */
class SafeTensorsFuzzTest {
  static final int CASES = 8000;
  static final long SEED = 0x5AFE7E45L;

  @TempDir Path dir;

  @Test
  void damagedFilesReadOrFailNamingTheFile() throws IOException {
    byte[][] originals = new byte[2][];
    Path written = dir.resolve("written.safetensors");
    try (Device cpu = Device.cpu(); ParameterBlob blob = SafeTensorsTest.model(cpu)) {
      SafeTensorsTest.fill(blob, 9);
      SafeTensors.write(written, blob, Map.of("format", "pt"), IfExists.FAIL);
    }
    originals[0] = Files.readAllBytes(written);
    originals[1] = SafeTensorsTest.handBuilt();
    Path file = dir.resolve("case.safetensors");
    assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
      try (Device cpu = Device.cpu()) {
        Random seeds = new Random(SEED);
        int failures = 0;
        for (int i = 0; i < CASES; i++) {
          long seed = seeds.nextLong();
          byte[] damaged = mutate(originals[i % 2], new Random(seed));
          Files.write(file, damaged);
          try {
            readAndLoad(file, cpu);
          } catch (FactRlException e) {
            failures++;
            if (!e.getMessage().contains(file.toString())) {
              fail("case " + i + " (seed " + seed + "): message does not name the file: " + e.getMessage(), e);
            }
          } catch (RuntimeException | Error e) {
            fail("case " + i + " (seed " + seed + "): " + e, e);
          }
        }
        assertTrue(failures > CASES / 2, "most damaged files are rejected (" + failures + " of " + CASES + ")");
      }
    });
  }

  private static void readAndLoad(Path file, Device cpu) {
    SafeTensors st = SafeTensors.read(file);
    for (SafeTensorsEntry e : st.entries().values()) {
      if (e.dtype().engineType().isEmpty() || e.ndim() > 8 || e.numel() > 1 << 20) {
        continue;
      }
      try (Tensor t = cpu.zeros(e.dtype().engineType().get(), e.shape())) {
        st.load(e.name(), t);
      }
    }
  }

  /** One to three random damages. */
  static byte[] mutate(byte[] original, Random r) {
    byte[] b = original.clone();
    int headerEnd = (int) Math.min(b.length, 8 + ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0));
    int damages = 1 + r.nextInt(3);
    for (int d = 0; d < damages && b.length > 0; d++) {
      headerEnd = Math.min(headerEnd, b.length); // after a truncation
      switch (r.nextInt(7)) {
        case 0 -> b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8)); // bit flip anywhere
        case 1 -> b = Arrays.copyOf(b, r.nextInt(b.length)); // truncation
        case 2 -> { // an absurd or slightly-off header length
          long[] lengths = {Long.MAX_VALUE, -1, 1L << 40, SafeTensors.MAX_HEADER_BYTES, b.length, b.length - 8,
              headerEnd - 8 + r.nextInt(5) - 2, 0, 1};
          if (b.length >= 8) {
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, lengths[r.nextInt(lengths.length)]);
          }
        }
        case 3 -> { // a header character replaced by a JSON-significant one
          if (headerEnd > 8) {
            byte[] chars = "0123456789-.e\"{}[],: \\".getBytes(StandardCharsets.US_ASCII);
            b[8 + r.nextInt(headerEnd - 8)] = chars[r.nextInt(chars.length)];
          }
        }
        case 4 -> b = replaceInHeader(b, headerEnd, r, new String[] {"F32", "BF16", "I32", "F16", "I64", "U8", "F64"});
        case 5 -> b = replaceInHeader(b, headerEnd, r, new String[] {"0", "1", "9999999999999999999", "-4", "4294967296"});
        default -> { // delete or repeat a span of the header
          if (headerEnd > 9) {
            int from = 8 + r.nextInt(headerEnd - 8);
            int to = Math.min(headerEnd, from + 1 + r.nextInt(16));
            byte[] out = new byte[r.nextBoolean() ? b.length - (to - from) : b.length + (to - from)];
            if (out.length < b.length) {
              System.arraycopy(b, 0, out, 0, from);
              System.arraycopy(b, to, out, from, b.length - to);
            } else {
              System.arraycopy(b, 0, out, 0, to);
              System.arraycopy(b, from, out, to, b.length - from);
            }
            b = out;
          }
        }
      }
    }
    return b;
  }

  /** Replaces one dtype name or number in the header text (keeping the length field) by another. */
  private static byte[] replaceInHeader(byte[] b, int headerEnd, Random r, String[] choices) {
    if (headerEnd <= 8 || headerEnd > b.length) {
      return b;
    }
    String header = new String(b, 8, headerEnd - 8, StandardCharsets.ISO_8859_1);
    String pattern = choices[0].matches("\\d") ? "\\d+" : "F32|BF16|I32";
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(pattern).matcher(header);
    java.util.List<int[]> spans = new java.util.ArrayList<>();
    while (m.find()) {
      spans.add(new int[] {m.start(), m.end()});
    }
    if (spans.isEmpty()) {
      return b;
    }
    int[] s = spans.get(r.nextInt(spans.size()));
    String edited = header.substring(0, s[0]) + choices[r.nextInt(choices.length)] + header.substring(s[1]);
    byte[] h = edited.getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer out = ByteBuffer.allocate(8 + h.length + b.length - headerEnd).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(r.nextBoolean() ? h.length : headerEnd - 8).put(h).put(b, headerEnd, b.length - headerEnd);
    return out.array();
  }

}

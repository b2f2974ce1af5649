package org.factrl.data;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Seeded damage to a valid JSON file, as a user, a bad disk or a hostile file might do it: byte
 * flips, truncation, deletions, random insertions, invalid UTF-8, a key given twice, a value of the
 * wrong type, huge or odd numbers, deep nesting, duplicated or swapped lines. The same
 * (file, seed, count) always gives the same bytes, so a failing case is a one-line regression test.
 */
final class JsonMutator {
  /** What one mutation does; {@link #apply} picks one per step from the seed. */
  enum Kind {
    FLIP_BYTE, TRUNCATE, DELETE_SPAN, INSERT_BYTES, INVALID_UTF8, DUPLICATE_KEY, SWAP_VALUE, HUGE_NUMBER,
    DEEP_NESTING, DUPLICATE_LINE, STRUCTURAL_CHAR, CONTROL_CHAR
  }

  /** A key: a quoted name after '{' or ',' (so never the tail of a string value), then ':'. */
  private static final Pattern KEY = Pattern.compile("(?<=[{,]\\s{0,64})\"([^\"\\\\]{1,40})\"\\s*:\\s*");
  private static final Pattern SCALAR = Pattern.compile("(?<=:\\s?)(\"(?:[^\"\\\\]|\\\\.)*\"|-?[0-9][0-9.eE+-]*|true|false|null)");
  private static final Pattern NUMBER = Pattern.compile("(?<![\"\\w.])-?[0-9]+(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![\\w\"])");
  private static final String[] VALUES = {
      "null", "true", "false", "\"\"", "\" \"", "\"x\"", "[]", "{}", "[null]", "{\"a\": 1}", "0", "-1", "0.5",
      "1.0", "-0", "1e999", "-1e999", "4294967296", "2147483647", "2147483648", "9223372036854775808",
      "1e999999999", "1E-400", "\"\\u0000\"", "\"<image>\"", "\"\\ud800\"", "\"red\"", "\"yes\""};
  private static final String[] NUMBERS = {
      "1e999999999", "-1e999999999", "99999999999999999999999999999", "4294967296", "2147483647", "-2147483648",
      "-1", "-0", "0.0000000000000001", "1E-400", "1e308", "123456789012345678901234567890e-10", "0e5"};
  private static final String[] STRUCTURAL = {"{", "}", "[", "]", ",", ":", "\"", "\\", " ", "\n"};

  private JsonMutator() {}

  /** The damaged bytes and the mutations applied, in order (for the failure message). */
  record Mutated(byte[] data, List<Kind> kinds) {}

  /** {@code original} with {@code count} seeded mutations. */
  static Mutated apply(byte[] original, long seed, int count) {
    Random random = new Random(seed);
    byte[] data = original.clone();
    List<Kind> kinds = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Kind k = Kind.values()[random.nextInt(Kind.values().length)];
      kinds.add(k);
      data = once(data, k, random);
    }
    return new Mutated(data, List.copyOf(kinds));
  }

  /** {@code original} with one mutation of {@code kind}, placed by {@code seed}. */
  static byte[] once(byte[] original, Kind kind, long seed) {
    return once(original, kind, new Random(seed));
  }

  private static byte[] once(byte[] data, Kind kind, Random random) {
    int n = data.length;
    int at = n == 0 ? 0 : random.nextInt(n);
    String text = new String(data, StandardCharsets.UTF_8);
    switch (kind) {
      case FLIP_BYTE -> {
        byte[] out = data.clone();
        if (n > 0) {
          out[at] ^= (byte) (1 << random.nextInt(8));
        }
        return out;
      }
      case TRUNCATE -> {
        return slice(data, 0, at);
      }
      case DELETE_SPAN -> {
        int len = 1 + random.nextInt(Math.max(1, Math.min(64, n - at)));
        return concat(slice(data, 0, at), slice(data, Math.min(n, at + len), n));
      }
      case INSERT_BYTES -> {
        byte[] junk = new byte[1 + random.nextInt(8)];
        random.nextBytes(junk);
        return insert(data, at, junk);
      }
      case INVALID_UTF8 -> {
        byte[][] bad = {{(byte) 0xFF}, {(byte) 0xC3, 0x28}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xE2, (byte) 0x82},
            {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}};
        return insert(data, at, bad[random.nextInt(bad.length)]);
      }
      case DUPLICATE_KEY -> {
        // "key": v  →  "key": <other value>, "key": v
        Matcher m = pick(KEY.matcher(text), random);
        if (m == null) {
          return data;
        }
        String dup = "\"" + m.group(1) + "\": " + VALUES[random.nextInt(VALUES.length)] + ", ";
        return utf8(text.substring(0, m.start()) + dup + text.substring(m.start()));
      }
      case SWAP_VALUE -> {
        Matcher m = pick(SCALAR.matcher(text), random);
        return m == null ? data : utf8(text.substring(0, m.start()) + VALUES[random.nextInt(VALUES.length)] + text.substring(m.end()));
      }
      case HUGE_NUMBER -> {
        Matcher m = pick(NUMBER.matcher(text), random);
        return m == null ? data : utf8(text.substring(0, m.start()) + NUMBERS[random.nextInt(NUMBERS.length)] + text.substring(m.end()));
      }
      case DEEP_NESTING -> {
        Matcher m = pick(SCALAR.matcher(text), random);
        if (m == null) {
          return data;
        }
        int depth = random.nextBoolean() ? 10 + random.nextInt(60) : 200 + random.nextInt(5000);
        String open = random.nextBoolean() ? "[".repeat(depth) : "{\"a\":".repeat(depth);
        String close = open.startsWith("[") ? "]".repeat(depth) : "}".repeat(depth);
        return utf8(text.substring(0, m.start()) + open + m.group() + close + text.substring(m.end()));
      }
      case DUPLICATE_LINE -> {
        String[] lines = text.split("\n", -1);
        int line = random.nextInt(lines.length);
        List<String> out = new ArrayList<>(List.of(lines));
        if (random.nextBoolean()) {
          out.add(line, lines[line]);
        } else {
          int other = random.nextInt(lines.length);
          out.set(line, lines[other]);
          out.set(other, lines[line]);
        }
        return utf8(String.join("\n", out));
      }
      case STRUCTURAL_CHAR -> {
        String c = STRUCTURAL[random.nextInt(STRUCTURAL.length)];
        return random.nextBoolean() || n == 0 ? insert(data, at, utf8(c)) : concat(slice(data, 0, at), concat(utf8(c), slice(data, at + 1, n)));
      }
      case CONTROL_CHAR -> {
        return insert(data, at, new byte[] {(byte) random.nextInt(0x20)});
      }
      default -> throw new AssertionError(kind);
    }
  }

  /** A random match of {@code m}, or null when it has none. */
  private static Matcher pick(Matcher m, Random random) {
    List<int[]> spans = new ArrayList<>();
    while (m.find() && spans.size() < 10_000) {
      spans.add(new int[] {m.start(), m.end()});
    }
    if (spans.isEmpty()) {
      return null;
    }
    int[] s = spans.get(random.nextInt(spans.size()));
    return m.find(s[0]) ? m : null;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] slice(byte[] data, int from, int to) {
    return java.util.Arrays.copyOfRange(data, Math.min(from, data.length), Math.min(Math.max(from, to), data.length));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(a.length + b.length);
    out.writeBytes(a);
    out.writeBytes(b);
    return out.toByteArray();
  }

  private static byte[] insert(byte[] data, int at, byte[] what) {
    return concat(concat(slice(data, 0, at), what), slice(data, at, data.length));
  }
}

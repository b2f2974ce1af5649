package org.factrl.data.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.factrl.engine.FactRlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded mutation fuzzer over valid PNG and JPEG files: bit flips (with and without a repaired
 * chunk CRC, so damage also reaches the zlib and pixel checks), truncation, chunk / segment length
 * edits, header dimension edits (IHDR, SOF), inserted, deleted and duplicated bytes. Every mutant
 * must decode to a plausible image or fail with a {@link FactRlException} naming the file — never
 * another exception, never a JVM crash, never a hang (the timeout only guards against one; the
 * budget is a fixed number of mutants, 10 000, a few seconds of work). Same seed, same mutants: a failure
 * reproduces, and its message carries the mutant's recipe and bytes.
 */
class ImageFuzzTest {
  private static final long SEED = 0x8_1A6E5L;
  private static final int MUTANTS_PER_SEED_FILE = 2000;

  @TempDir Path dir;

  /** Valid seed files of several kinds: 8-bit RGB, 16-bit RGBA, 1-bit grey PNG; baseline JPEGs. */
  private List<byte[]> seeds() throws IOException {
    List<byte[]> seeds = new ArrayList<>();
    Random r = new Random(SEED);
    byte[] rgb = new byte[9 * 7 * 3];
    r.nextBytes(rgb);
    seeds.add(Files.readAllBytes(ImageFixtures.png(dir.resolve("seed.png"), 9, 7, 3, rgb)));
    byte[] rgba16 = new byte[5 * (1 + 5 * 8)];  // 5x5, filter 0 rows
    r.nextBytes(rgba16);
    for (int y = 0; y < 5; y++) {
      rgba16[y * 41] = (byte) (y % 5);  // every filter type once
    }
    seeds.add(ImageFixtures.pngBytes(5, 5, 16, 6, rgba16, 9));
    seeds.add(ImageFixtures.pngBytes(17, 3, 1, 0, new byte[3 * (1 + 3)], 0));
    byte[] photo = new byte[24 * 16 * 3];
    for (int i = 0; i < photo.length; i++) {
      photo[i] = (byte) (i * 7 + (i / 48) * 31);
    }
    seeds.add(Files.readAllBytes(ImageFixtures.jpg(dir.resolve("seed90.jpg"), 24, 16, photo, 90)));
    seeds.add(Files.readAllBytes(ImageFixtures.jpg(dir.resolve("seed30.jpg"), 24, 16, photo, 30)));
    return seeds;
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void mutantsDecodeOrFailWithANamedFactRlException() throws IOException {
    Random random = new Random(SEED);
    ImageLimits limits = ImageLimits.builder().maxPixels(1 << 20).maxFileBytes(1 << 20).build();
    int decoded = 0;
    Map<String, Integer> refusals = new TreeMap<>();
    List<byte[]> seeds = seeds();
    for (int s = 0; s < seeds.size(); s++) {
      byte[] seed = seeds.get(s);
      assertEquals(null, decodesOrRefuses(seed, "seed" + s, limits, "seed " + s, seed), "seed " + s + " is valid");
      for (int i = 0; i < MUTANTS_PER_SEED_FILE; i++) {
        StringBuilder recipe = new StringBuilder("seed " + s + " mutant " + i + ":");
        byte[] mutant = mutate(seed, random, recipe);
        String source = "mutant-" + s + "-" + i + (ImageFixtures.findChunk(seed, "IHDR") >= 0 ? ".png" : ".jpg");
        boolean viaFile = i % 25 == 0;  // the file path too, less often (disk is slow on a shared machine)
        String refusal;
        if (viaFile) {
          Path file = Files.write(dir.resolve(source), mutant);
          refusal = decodesOrRefuses(null, file.toString(), limits, recipe.toString(), mutant, file);
        } else {
          refusal = decodesOrRefuses(mutant, source, limits, recipe.toString(), mutant);
        }
        if (refusal == null) {
          decoded++;
        } else {
          refusals.merge(category(refusal), 1, Integer::sum);
        }
      }
    }
    // the mutator reaches every check and the decoder itself, not only the first check
    String counts = "decoded " + decoded + ", refused " + refusals;
    assertTrue(decoded > 100, counts);
    for (String c : new String[] {"crc", "zlib", "too large", "truncated jpeg", "not png/jpeg", "stb", "png structure"}) {
      assertTrue(refusals.getOrDefault(c, 0) > 10, c + " never reached: " + counts);
    }
  }

  private static String category(String message) {
    if (message.contains("CRC mismatch")) {
      return "crc";
    } else if (message.contains("IDAT zlib") || message.contains("inflates") || message.contains("IDAT data")) {
      return "zlib";
    } else if (message.contains("image too large")) {
      return "too large";
    } else if (message.contains("truncated JPEG")) {
      return "truncated jpeg";
    } else if (message.contains("not a PNG or JPEG")) {
      return "not png/jpeg";
    } else if (message.contains(": PNG ")) {
      return "png structure";
    }
    return "stb";
  }

  /** Null when decoded, the message when refused (a named FactRlException); fails the test otherwise. */
  private static String decodesOrRefuses(byte[] bytes, String source, ImageLimits limits, String recipe,
      byte[] mutant, Path... file) {
    try {
      RgbImage image = file.length > 0 ? ImageLoader.load(file[0], limits) : ImageLoader.decode(bytes, source, limits);
      assertTrue((long) image.width() * image.height() <= limits.maxPixels(), recipe + ": over the pixel cap");
      return null;
    } catch (FactRlException e) {
      assertTrue(e.getMessage() != null && e.getMessage().startsWith(source + ": "),
          recipe + ": the message does not start with the file name: " + e.getMessage());
      return e.getMessage();
    } catch (Throwable t) {
      return fail(recipe + ": " + t + "\nmutant: " + HexFormat.of().formatHex(mutant), t);
    }
  }

  private static byte[] mutate(byte[] seed, Random r, StringBuilder recipe) {
    byte[] b = seed.clone();
    int rounds = 1 + (r.nextInt(4) == 0 ? r.nextInt(3) : 0);
    for (int k = 0; k < rounds; k++) {
      int kind = r.nextInt(8);
      recipe.append(' ');
      switch (kind) {
        case 0 -> {  // flip bits anywhere
          int n = 1 + r.nextInt(4);
          for (int j = 0; j < n && b.length > 0; j++) {
            int at = r.nextInt(b.length);
            b[at] ^= (byte) (1 << r.nextInt(8));
            recipe.append("flip@").append(at).append(' ');
          }
        }
        case 1 -> {  // truncate
          int keep = b.length == 0 ? 0 : r.nextInt(b.length);
          b = Arrays.copyOf(b, keep);
          recipe.append("truncate@").append(keep);
        }
        case 2 -> {  // a chunk / segment length field
          int at = lengthField(b, r);
          if (at >= 0) {
            long v = switch (r.nextInt(4)) {
              case 0 -> ImageFixtures.readU32(b, at) + r.nextInt(9) - 4;
              case 1 -> 0xFFFFFFFFL;
              case 2 -> 0x7FFFFFFFL;
              default -> r.nextInt(1 << 16);
            };
            if (isPng(b)) {
              ImageFixtures.putU32(b, at, v);
            } else {
              b[at] = (byte) (v >> 8);
              b[at + 1] = (byte) v;
            }
            recipe.append("length@").append(at).append('=').append(v);
          }
        }
        case 3 -> {  // header dimensions (the CRC repaired so the edit reaches the size checks)
          long[] choices = {0, 1, 2, 3, 255, 4096, 16384, 65535, 0x7FFFFFFFL, 0xFFFFFFFFL, r.nextInt(64)};
          long v = choices[r.nextInt(choices.length)];
          int ihdr = ImageFixtures.findChunk(b, "IHDR");
          if (ihdr >= 0 && ihdr + 25 <= b.length) {
            int field = ihdr + 8 + 4 * r.nextInt(2);
            ImageFixtures.putU32(b, field, v);
            ImageFixtures.fixCrc(b, ihdr);
            recipe.append("ihdr@").append(field).append('=').append(v);
          } else {
            int sof = jpegSof(b);
            if (sof >= 0) {
              int field = sof + 5 + 2 * r.nextInt(2);  // height, then width
              b[field] = (byte) (v >> 8);
              b[field + 1] = (byte) v;
              recipe.append("sof@").append(field).append('=').append(v & 0xFFFF);
            }
          }
        }
        case 4 -> {  // flip a bit inside a PNG chunk and repair its CRC: only zlib / stb can notice
          int idat = ImageFixtures.findChunk(b, r.nextBoolean() ? "IDAT" : "IHDR");
          if (idat >= 0 && idat + 12 < b.length) {
            long len = ImageFixtures.readU32(b, idat);
            if (len > 0 && idat + 12 + len <= b.length) {
              int at = idat + 8 + r.nextInt((int) len);
              b[at] ^= (byte) (1 << r.nextInt(8));
              ImageFixtures.fixCrc(b, idat);
              recipe.append("flip+crc@").append(at);
            }
          } else if (b.length > 0) {
            int at = r.nextInt(b.length);
            b[at] = (byte) r.nextInt(256);
            recipe.append("set@").append(at);
          }
        }
        case 5 -> {  // insert random bytes
          int at = r.nextInt(b.length + 1);
          byte[] extra = new byte[1 + r.nextInt(16)];
          r.nextBytes(extra);
          b = splice(b, at, 0, extra);
          recipe.append("insert@").append(at).append('+').append(extra.length);
        }
        case 6 -> {  // delete a run
          if (b.length > 0) {
            int at = r.nextInt(b.length);
            int n = 1 + r.nextInt(Math.min(32, b.length - at));
            b = splice(b, at, n, new byte[0]);
            recipe.append("delete@").append(at).append('-').append(n);
          }
        }
        default -> {  // duplicate a run (a repeated chunk or segment, often)
          if (b.length > 1) {
            int at = r.nextInt(b.length);
            int n = 1 + r.nextInt(Math.min(64, b.length - at));
            int to = r.nextInt(b.length + 1);
            b = splice(b, to, 0, Arrays.copyOfRange(b, at, at + n));
            recipe.append("dup@").append(at).append('-').append(n).append("->").append(to);
          }
        }
      }
    }
    return b;
  }

  private static boolean isPng(byte[] b) {
    return b.length >= 8 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G';
  }

  /** The offset of a random chunk's (PNG) or marker segment's (JPEG) length field, or −1. */
  private static int lengthField(byte[] b, Random r) {
    List<Integer> fields = new ArrayList<>();
    if (isPng(b)) {
      int pos = 8;
      while (pos + 12 <= b.length) {
        fields.add(pos);
        long len = ImageFixtures.readU32(b, pos);
        if (len > b.length) {
          break;
        }
        pos += 12 + (int) len;
      }
    } else {
      for (int i = 2; i + 3 < b.length; i++) {
        int m = b[i + 1] & 0xff;
        if ((b[i] & 0xff) == 0xFF && m >= 0xC0 && m != 0xFF && m != 0xD8 && m != 0xD9 && (m < 0xD0 || m > 0xD7)) {
          fields.add(i + 2);
          if (m == 0xDA) {
            break;  // entropy-coded data follows
          }
        }
      }
    }
    return fields.isEmpty() ? -1 : fields.get(r.nextInt(fields.size()));
  }

  /** The offset of the first SOF0..SOF2 marker of a JPEG, or −1. */
  private static int jpegSof(byte[] b) {
    for (int i = 2; i + 9 < b.length; i++) {
      if ((b[i] & 0xff) == 0xFF && (b[i + 1] & 0xff) >= 0xC0 && (b[i + 1] & 0xff) <= 0xC2) {
        return i;
      }
    }
    return -1;
  }

  private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
    byte[] out = new byte[b.length - remove + insert.length];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(insert, 0, out, at, insert.length);
    System.arraycopy(b, at + remove, out, at + insert.length, b.length - at - remove);
    return out;
  }
}

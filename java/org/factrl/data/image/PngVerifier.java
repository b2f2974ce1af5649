package org.factrl.data.image;

import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.factrl.engine.FactRlException;

/**
 * Checks a PNG's integrity before stb decodes it, because stb does not: stb_image skips every
 * chunk CRC and the zlib Adler-32, so a PNG with flipped bits decodes to altered pixels silently.
 *
 * <p>This walks the chunks (signature, then {@code length, type, data, CRC-32 of type + data}),
 * checks each CRC, reads the {@code IHDR} header, applies the pixel cap <em>before</em> any
 * decompression, then inflates the {@code IDAT} stream with {@link Inflater} (zlib format: it
 * checks the Adler-32 of the decompressed bytes) into a small scratch buffer, requiring exactly the
 * byte count the header implies (filter byte + packed row, per row of each interlace pass). The
 * decompressed bytes are discarded: stb decodes them again (the cost is one more inflate, about a
 * millisecond per megapixel). Strict on purpose, like libpng for critical chunks: training data
 * with a bad CRC in any chunk, a truncated or over-long zlib stream, or a missing {@code IEND} is
 * refused. Bytes after {@code IEND} are ignored (some tools append them), as libpng does.
 */
final class PngVerifier {
  private PngVerifier() {}

  static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  /** The IHDR fields stb's decoding depends on. */
  record Header(long width, long height, int bitDepth, int colorType, boolean interlaced) {}

  static boolean isPng(byte[] b) {
    if (b.length < SIGNATURE.length) {
      return false;
    }
    for (int i = 0; i < SIGNATURE.length; i++) {
      if (b[i] != SIGNATURE[i]) {
        return false;
      }
    }
    return true;
  }

  /** Verifies {@code png} (which starts with the PNG signature) and returns its header. */
  static Header verify(byte[] png, String source, ImageLimits limits) {
    Header header = null;
    List<int[]> idat = new ArrayList<>();  // {offset, length} of each IDAT's data
    boolean end = false;
    CRC32 crc = new CRC32();
    long pos = SIGNATURE.length;
    while (!end) {
      if (pos + 8 > png.length) {
        throw fail(source, "truncated: no IEND chunk (file ends at byte " + png.length + ")");
      }
      int p = (int) pos;
      long length = readU32(png, p);
      String type = chunkType(png, p + 4);
      if (length > Integer.MAX_VALUE) {
        throw fail(source, "chunk '" + type + "' at byte " + p + " declares " + length + " bytes (over 2^31 − 1)");
      }
      if (pos + 12 + length > png.length) {
        throw fail(source, "truncated: chunk '" + type + "' at byte " + p + " declares " + length
            + " bytes, the file ends at byte " + png.length);
      }
      crc.reset();
      crc.update(png, p + 4, 4 + (int) length);
      long stored = readU32(png, p + 8 + (int) length);
      if (crc.getValue() != stored) {
        throw fail(source, String.format("chunk '%s' at byte %d: CRC mismatch (stored %08x, computed %08x): the"
            + " file is corrupt", type, p, stored, crc.getValue()));
      }
      if (header == null && !type.equals("IHDR")) {
        throw fail(source, "the first chunk is '" + type + "', not IHDR");
      }
      switch (type) {
        case "IHDR" -> {
          if (header != null) {
            throw fail(source, "a second IHDR chunk at byte " + p);
          }
          header = header(png, p + 8, (int) length, source);
          checkPixels(header, source, limits);
        }
        case "IDAT" -> idat.add(new int[] {p + 8, (int) length});
        case "IEND" -> end = true;
        default -> { }
      }
      pos += 12 + length;
    }
    if (idat.isEmpty()) {
      throw fail(source, "no IDAT chunk: the file holds no image data");
    }
    inflate(png, idat, header, source);
    return header;
  }

  private static Header header(byte[] b, int at, int length, String source) {
    if (length != 13) {
      throw fail(source, "IHDR has " + length + " bytes, not 13");
    }
    long w = readU32(b, at);
    long h = readU32(b, at + 4);
    int depth = b[at + 8] & 0xff;
    int colorType = b[at + 9] & 0xff;
    int compression = b[at + 10] & 0xff;
    int filter = b[at + 11] & 0xff;
    int interlace = b[at + 12] & 0xff;
    if (w == 0 || h == 0 || w > Integer.MAX_VALUE || h > Integer.MAX_VALUE) {
      throw fail(source, "IHDR declares a " + w + "x" + h + " image (each side must be 1..2^31 − 1)");
    }
    boolean depthOk = switch (colorType) {
      case 0 -> depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
      case 3 -> depth == 1 || depth == 2 || depth == 4 || depth == 8;
      case 2, 4, 6 -> depth == 8 || depth == 16;
      default -> false;
    };
    if (!depthOk) {
      throw fail(source, "IHDR: colour type " + colorType + " with bit depth " + depth + " is not a PNG format");
    }
    if (compression != 0 || filter != 0 || interlace > 1) {
      throw fail(source, "IHDR: unknown compression (" + compression + "), filter (" + filter + ") or interlace ("
          + interlace + ") method");
    }
    return new Header(w, h, depth, colorType, interlace == 1);
  }

  private static void checkPixels(Header h, String source, ImageLimits limits) {
    long pixels = h.width() * h.height();  // both < 2^31: no overflow
    if (pixels > limits.maxPixels()) {
      throw new FactRlException(source + ": image too large: " + h.width() + "x" + h.height() + " = " + pixels
          + " pixels, over the limit of " + limits.maxPixels() + " (refused from the PNG header, before decoding)");
    }
  }

  /** Decompressed size: per row of each (interlace) pass, one filter byte and the packed pixels. */
  static long expectedBytes(Header h) {
    int channels = switch (h.colorType()) {
      case 2 -> 3;
      case 4 -> 2;
      case 6 -> 4;
      default -> 1;
    };
    long bitsPerPixel = (long) channels * h.bitDepth();
    if (!h.interlaced()) {
      return h.height() * (1 + (h.width() * bitsPerPixel + 7) / 8);
    }
    // Adam7: x start, y start, x step, y step of the seven passes
    int[][] passes = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
    long total = 0;
    for (int[] s : passes) {
      long pw = h.width() > s[0] ? (h.width() - s[0] + s[2] - 1) / s[2] : 0;
      long ph = h.height() > s[1] ? (h.height() - s[1] + s[3] - 1) / s[3] : 0;
      if (pw > 0 && ph > 0) {
        total += ph * (1 + (pw * bitsPerPixel + 7) / 8);
      }
    }
    return total;
  }

  /** Inflates the IDAT data (checking the zlib header and Adler-32), counting, never keeping, the output. */
  private static void inflate(byte[] png, List<int[]> idat, Header header, String source) {
    long expected = expectedBytes(header);
    String size = header.width() + "x" + header.height();
    Inflater inflater = new Inflater();  // zlib wrapper: header check and Adler-32 trailer
    try {
      byte[] scratch = new byte[1 << 16];
      long produced = 0;
      int next = 0;
      while (!inflater.finished()) {
        if (inflater.needsInput()) {
          if (next == idat.size()) {
            throw fail(source, "truncated image data: the zlib stream in IDAT ends early (" + produced + " of "
                + expected + " bytes)");
          }
          int[] chunk = idat.get(next++);
          inflater.setInput(png, chunk[0], chunk[1]);
          continue;
        }
        if (inflater.needsDictionary()) {
          throw fail(source, "the IDAT zlib stream asks for a preset dictionary, which PNG forbids");
        }
        int n = inflater.inflate(scratch);
        if (n == 0 && !inflater.finished() && !inflater.needsInput()) {
          throw fail(source, "the IDAT zlib stream makes no progress");  // never spin
        }
        produced += n;
        if (produced > expected) {
          throw fail(source, "the IDAT data inflates past the " + expected + " bytes a " + size
              + " image needs");
        }
      }
      if (produced != expected) {
        throw fail(source, "the IDAT data inflates to " + produced + " bytes, a " + size + " image needs "
            + expected);
      }
      boolean trailing = inflater.getRemaining() > 0;
      for (int i = next; i < idat.size() && !trailing; i++) {
        trailing = idat.get(i)[1] > 0;
      }
      if (trailing) {
        throw fail(source, "data after the end of the IDAT zlib stream");
      }
    } catch (DataFormatException e) {
      // "incorrect data check" is an Adler-32 mismatch: the decompressed pixels are not the encoded ones
      throw fail(source, "corrupt IDAT zlib data (" + e.getMessage() + ")");
    } finally {
      inflater.end();
    }
  }

  private static long readU32(byte[] b, int at) {
    return ((b[at] & 0xffL) << 24) | ((b[at + 1] & 0xffL) << 16) | ((b[at + 2] & 0xffL) << 8) | (b[at + 3] & 0xffL);
  }

  /** The chunk type as printable text (a corrupt type shows its hex bytes, not control characters). */
  private static String chunkType(byte[] b, int at) {
    StringBuilder s = new StringBuilder(4);
    boolean letters = true;
    for (int i = 0; i < 4; i++) {
      int c = b[at + i] & 0xff;
      letters &= (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }
    for (int i = 0; i < 4; i++) {
      int c = b[at + i] & 0xff;
      s.append(letters ? String.valueOf((char) c) : String.format("%02x", c));
    }
    return s.toString();
  }

  private static FactRlException fail(String source, String reason) {
    return new FactRlException(source + ": cannot decode image: PNG " + reason);
  }
}

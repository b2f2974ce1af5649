package org.factrl.data.image;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import org.factrl.engine.FactRlException;
import org.lwjgl.stb.STBImage;
import org.lwjgl.system.MemoryUtil;

/**
 * Decodes PNG and JPEG files into {@link RgbImage}s through LWJGL's stb_image, always as 3
 * channels: grey is replicated, alpha dropped. Every failure is a {@link FactRlException} naming
 * the file, never a crash, a hang or a heap exhausted by one file. Before stb sees a byte:
 *
 * <ul>
 *   <li><b>Only regular files</b> are opened: a directory, device ({@code /dev/zero}), FIFO or socket
 *       is refused from its attributes, never read (a FIFO would block, a device never ends).
 *       Symbolic links are followed: the check applies to the target, so a link to an image in a
 *       shared folder works and a link to {@code /dev/zero} is refused.
 *   <li><b>Size caps</b> ({@link ImageLimits}): the file's size before it is read (and the read
 *       itself is bounded, in case it grows); the pixel count from the header (PNG {@code IHDR},
 *       JPEG {@code SOF} through {@code stbi_info}) before anything is decompressed.
 *   <li><b>Integrity</b>: a PNG's chunk CRCs and zlib Adler-32 are verified ({@link PngVerifier}),
 *       which stb skips; a JPEG must end with an end-of-image marker after its last scan (stb fills
 *       a cut-off JPEG's missing blocks with grey silently). JPEG has no checksum: flipped bits
 *       inside its entropy-coded data cannot be detected by any decoder.
 *   <li><b>Formats</b>: PNG and JPEG only, recognised by their signatures. stb also reads BMP, GIF,
 *       TGA, PSD, HDR and PNM, but those carry no checksum and TGA not even a signature: a corrupt
 *       file of any kind could decode as a garbage TGA.
 * </ul>
 *
 * stb gets a native copy of the bytes, and both native buffers are always freed.
 */
public final class ImageLoader {
  private ImageLoader() {}

  /** Reads and decodes {@code file} within the {@linkplain ImageLimits#defaults() default limits}. */
  public static RgbImage load(Path file) {
    return load(file, ImageLimits.defaults());
  }

  /** Reads and decodes {@code file} within {@code limits}. */
  public static RgbImage load(Path file, ImageLimits limits) {
    if (file == null) {
      throw new FactRlException("argument 'file' is null");
    }
    if (limits == null) {
      throw new FactRlException("argument 'limits' is null");
    }
    return decode(read(file, limits), file.toString(), limits);
  }

  /** The bytes of a regular file no larger than the limit; see the class comment. */
  static byte[] read(Path file, ImageLimits limits) {
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(file, BasicFileAttributes.class);  // follows links: the target counts
    } catch (NoSuchFileException e) {
      throw new FactRlException(file + ": cannot load image: no such file", e);
    } catch (IOException | SecurityException e) {
      throw new FactRlException(file + ": cannot load image: " + e, e);
    }
    if (!attrs.isRegularFile()) {
      String kind = attrs.isDirectory() ? "a directory" : "a device, FIFO or socket";
      throw new FactRlException(file + ": cannot load image: not a regular file (" + kind + ")");
    }
    if (attrs.size() > limits.maxFileBytes()) {
      throw new FactRlException(file + ": cannot load image: the file has " + attrs.size()
          + " bytes, over the limit of " + limits.maxFileBytes());
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8L, limits.maxFileBytes() + 1));
    } catch (IOException | SecurityException e) {
      throw new FactRlException(file + ": cannot load image: " + e, e);
    }
    if (bytes.length > limits.maxFileBytes()) {  // the file grew after its size was read
      throw new FactRlException(file + ": cannot load image: the file grew past the limit of "
          + limits.maxFileBytes() + " bytes while it was read");
    }
    return bytes;
  }

  /** Decodes an encoded image held in memory within the default limits; {@code source} names it in errors. */
  public static RgbImage decode(byte[] encoded, String source) {
    return decode(encoded, source, ImageLimits.defaults());
  }

  /** Decodes an encoded PNG or JPEG held in memory; {@code source} names it in errors. */
  public static RgbImage decode(byte[] encoded, String source, ImageLimits limits) {
    if (encoded == null) {
      throw new FactRlException(source + ": argument 'encoded' is null");
    }
    if (limits == null) {
      throw new FactRlException(source + ": argument 'limits' is null");
    }
    if (encoded.length == 0) {
      throw new FactRlException(source + ": cannot decode image: empty file");
    }
    if (encoded.length > limits.maxFileBytes()) {
      throw new FactRlException(source + ": cannot decode image: " + encoded.length + " bytes, over the limit of "
          + limits.maxFileBytes());
    }
    boolean png = PngVerifier.isPng(encoded);
    boolean jpeg = isJpeg(encoded);
    if (!png && !jpeg) {
      throw new FactRlException(source + ": cannot decode image: not a PNG or JPEG file (it starts with "
          + hex(encoded, 8) + ")");
    }
    if (png) {
      PngVerifier.verify(encoded, source, limits);
    } else if (!jpegHasEndAfterLastScan(encoded)) {
      // stb fills a cut-off JPEG's missing blocks silently; a half-grey image is no training data
      throw new FactRlException(source + ": cannot decode image: truncated JPEG (no end-of-image marker after the"
          + " last scan)");
    }
    ByteBuffer in = MemoryUtil.memAlloc(encoded.length);
    try {
      in.put(encoded).flip();
      int[] w = new int[1];
      int[] h = new int[1];
      int[] channelsInFile = new int[1];
      // the header alone (JPEG SOF, PNG IHDR) before any pixel is decompressed
      if (!STBImage.stbi_info_from_memory(in, w, h, channelsInFile)) {
        throw new FactRlException(source + ": cannot decode image: " + STBImage.stbi_failure_reason());
      }
      checkPixels(source, w[0], h[0], limits);
      ByteBuffer out = STBImage.stbi_load_from_memory(in, w, h, channelsInFile, RgbImage.CHANNELS);
      if (out == null) {
        throw new FactRlException(source + ": cannot decode image: " + STBImage.stbi_failure_reason());
      }
      try {
        checkPixels(source, w[0], h[0], limits);  // the same header, but never trust a second parse blindly
        int size = Math.multiplyExact(Math.multiplyExact(w[0], h[0]), RgbImage.CHANNELS);  // < 2^31 by the cap
        // stb returns a buffer of exactly w*h*3 bytes when desired_channels = 3
        byte[] rgb = new byte[size];
        out.get(0, rgb);
        return RgbImage.wrap(w[0], h[0], rgb);
      } finally {
        STBImage.stbi_image_free(out);
      }
    } finally {
      MemoryUtil.memFree(in);
    }
  }

  private static void checkPixels(String source, int w, int h, ImageLimits limits) {
    long pixels = (long) w * h;
    if (w <= 0 || h <= 0 || pixels > limits.maxPixels()) {
      throw new FactRlException(source + ": image too large: " + w + "x" + h + " = " + pixels
          + " pixels, over the limit of " + limits.maxPixels() + " (refused from the header, before decoding)");
    }
  }

  private static boolean isJpeg(byte[] b) {
    return b.length >= 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8 && (b[2] & 0xff) == 0xFF;
  }

  private static String hex(byte[] b, int n) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(n, b.length); i++) {
      s.append(i == 0 ? "" : " ").append(String.format("%02x", b[i] & 0xff));
    }
    return s.toString();
  }

  /**
   * Whether an EOI marker (FF D9) follows the last SOS marker (FF DA). Inside entropy-coded data a
   * 0xFF byte is always followed by 00 or a restart marker, so neither pair occurs there; an EXIF
   * thumbnail's own EOI comes before the main image's first scan.
   */
  private static boolean jpegHasEndAfterLastScan(byte[] b) {
    int lastScan = -1;
    boolean endAfterScan = false;
    for (int i = 0; i + 1 < b.length; i++) {
      if ((b[i] & 0xff) == 0xFF) {
        int marker = b[i + 1] & 0xff;
        if (marker == 0xDA) {
          lastScan = i;
          endAfterScan = false;
        } else if (marker == 0xD9 && lastScan >= 0) {
          endAfterScan = true;
        }
      }
    }
    return endAfterScan;
  }
}

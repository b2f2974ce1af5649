package org.factrl.data.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.factrl.engine.FactRlException;
import org.lwjgl.stb.STBImage;
import org.lwjgl.system.MemoryUtil;

/**
 * Decodes PNG and JPEG files (and the other formats stb_image reads: BMP, GIF, TGA, PSD, HDR, PNM)
 * into {@link RgbImage}s through LWJGL's stb_image, always as 3 channels: grey is replicated,
 * alpha dropped. A JPEG cut off before its end-of-image marker is rejected too (stb would fill the
 * missing blocks silently). Every failure — missing, empty, truncated or corrupt file, not an image — is a
 * {@link FactRlException} naming the file (and stb's reason when stb refused it), never a crash:
 * stb gets a native copy of the bytes, and both native buffers are always freed.
 */
public final class ImageLoader {
  private ImageLoader() {}

  /** Reads and decodes {@code file}. */
  public static RgbImage load(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new FactRlException(file + ": cannot load image: no such file", e);
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot load image: " + e, e);
    }
    return decode(bytes, file.toString());
  }

  /** Decodes an encoded image held in memory; {@code source} names it in errors. */
  public static RgbImage decode(byte[] encoded, String source) {
    if (encoded.length == 0) {
      throw new FactRlException(source + ": cannot decode image: empty file");
    }
    ByteBuffer in = MemoryUtil.memAlloc(encoded.length);
    try {
      in.put(encoded).flip();
      int[] w = new int[1];
      int[] h = new int[1];
      int[] channelsInFile = new int[1];
      ByteBuffer out = STBImage.stbi_load_from_memory(in, w, h, channelsInFile, RgbImage.CHANNELS);
      if (out == null) {
        throw new FactRlException(source + ": cannot decode image: " + STBImage.stbi_failure_reason());
      }
      try {
        if (isJpeg(encoded) && !jpegHasEndAfterLastScan(encoded)) {
          // stb fills a cut-off JPEG's missing blocks silently; a half-grey image is no training data
          throw new FactRlException(source + ": cannot decode image: truncated JPEG (no end-of-image marker after the last scan)");
        }
        long size = (long) w[0] * h[0] * RgbImage.CHANNELS;
        if (size > Integer.MAX_VALUE - 8) {
          throw new FactRlException(source + ": image too large: " + w[0] + "x" + h[0]);
        }
        // stb returns a buffer of exactly w*h*3 bytes when desired_channels = 3
        byte[] rgb = new byte[(int) size];
        out.get(0, rgb);
        return RgbImage.wrap(w[0], h[0], rgb);
      } finally {
        STBImage.stbi_image_free(out);
      }
    } finally {
      MemoryUtil.memFree(in);
    }
  }

  private static boolean isJpeg(byte[] b) {
    return b.length >= 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8 && (b[2] & 0xff) == 0xFF;
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

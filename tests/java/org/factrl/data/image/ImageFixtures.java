package org.factrl.data.image;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.lwjgl.stb.STBImageWrite;
import org.lwjgl.system.MemoryUtil;

/** Writes small PNG/JPEG fixtures at test time with stb_image_write. */
final class ImageFixtures {
  private ImageFixtures() {}

  /** A PNG of {@code w × h} pixels with {@code channels} interleaved channels per pixel. */
  static Path png(Path file, int w, int h, int channels, byte[] pixels) {
    ByteBuffer buf = direct(pixels);
    try {
      assertTrue(STBImageWrite.stbi_write_png(file.toString(), w, h, channels, buf, w * channels), "png written");
    } finally {
      MemoryUtil.memFree(buf);
    }
    return file;
  }

  static Path jpg(Path file, int w, int h, byte[] rgb, int quality) {
    ByteBuffer buf = direct(rgb);
    try {
      assertTrue(STBImageWrite.stbi_write_jpg(file.toString(), w, h, 3, buf, quality), "jpg written");
    } finally {
      MemoryUtil.memFree(buf);
    }
    return file;
  }

  /** RGB bytes from ints (0..255). */
  static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  private static ByteBuffer direct(byte[] pixels) {
    ByteBuffer buf = MemoryUtil.memAlloc(pixels.length);
    buf.put(pixels).flip();
    return buf;
  }
}

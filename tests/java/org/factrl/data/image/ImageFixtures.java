package org.factrl.data.image;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.lwjgl.stb.STBImageWrite;
import org.lwjgl.system.MemoryUtil;

/**
 * Writes small PNG/JPEG fixtures at test time with stb_image_write, and builds PNGs byte by byte
 * (chunks, CRCs, zlib level) for the integrity tests.
 */
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

  /** A PNG file's bytes: signature, IHDR, one IDAT of {@code raw} deflated at {@code level}, IEND. */
  static byte[] pngBytes(int w, int h, int bitDepth, int colorType, byte[] raw, int level) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    byte[] ihdr = new byte[13];
    putU32(ihdr, 0, w);
    putU32(ihdr, 4, h);
    ihdr[8] = (byte) bitDepth;
    ihdr[9] = (byte) colorType;
    out.writeBytes(chunk("IHDR", ihdr));
    out.writeBytes(chunk("IDAT", zlib(raw, level)));
    out.writeBytes(chunk("IEND", new byte[0]));
    return out.toByteArray();
  }

  /** Raw scanlines of an 8-bit RGB image: filter byte 0 (none), then the row's pixels. */
  static byte[] rawRgbRows(int w, int h, byte[] rgb) {
    byte[] raw = new byte[h * (1 + 3 * w)];
    for (int y = 0; y < h; y++) {
      System.arraycopy(rgb, y * 3 * w, raw, y * (1 + 3 * w) + 1, 3 * w);
    }
    return raw;
  }

  /** One chunk: length, type, data, CRC-32 of type + data. */
  static byte[] chunk(String type, byte[] data) {
    byte[] c = new byte[12 + data.length];
    putU32(c, 0, data.length);
    System.arraycopy(type.getBytes(StandardCharsets.US_ASCII), 0, c, 4, 4);
    System.arraycopy(data, 0, c, 8, data.length);
    CRC32 crc = new CRC32();
    crc.update(c, 4, 4 + data.length);
    putU32(c, 8 + data.length, crc.getValue());
    return c;
  }

  /** Recomputes the CRC of the chunk starting at {@code at} (after the bytes inside were edited). */
  static void fixCrc(byte[] png, int at) {
    long length = readU32(png, at);
    if (length > png.length || at + 12 + length > png.length) {
      return;
    }
    CRC32 crc = new CRC32();
    crc.update(png, at + 4, 4 + (int) length);
    putU32(png, at + 8 + (int) length, crc.getValue());
  }

  /** The offset of the first chunk of {@code type}, or −1. */
  static int findChunk(byte[] png, String type) {
    int pos = 8;
    while (pos + 12 <= png.length) {
      long length = readU32(png, pos);
      if (new String(png, pos + 4, 4, StandardCharsets.ISO_8859_1).equals(type)) {
        return pos;
      }
      if (length > png.length) {
        return -1;
      }
      pos += 12 + (int) length;
    }
    return -1;
  }

  static byte[] zlib(byte[] raw, int level) {
    Deflater d = new Deflater(level);
    try {
      d.setInput(raw);
      d.finish();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buf = new byte[1 << 16];
      while (!d.finished()) {
        out.write(buf, 0, d.deflate(buf));
      }
      return out.toByteArray();
    } finally {
      d.end();
    }
  }

  static long readU32(byte[] b, int at) {
    return ((b[at] & 0xffL) << 24) | ((b[at + 1] & 0xffL) << 16) | ((b[at + 2] & 0xffL) << 8) | (b[at + 3] & 0xffL);
  }

  static void putU32(byte[] b, int at, long v) {
    b[at] = (byte) (v >>> 24);
    b[at + 1] = (byte) (v >>> 16);
    b[at + 2] = (byte) (v >>> 8);
    b[at + 3] = (byte) v;
  }
}

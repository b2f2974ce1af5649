package org.factrl.data.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import org.factrl.engine.FactRlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.lwjgl.stb.STBImage;
import org.lwjgl.system.MemoryUtil;

/**
 * Hostile or damaged image files (issue 8, class 4): each is refused with a {@link FactRlException}
 * naming the file and the reason, before the damage reaches a training batch or the heap.
 */
class ImageIntegrityTest {
  @TempDir Path dir;

  /** A 4×3 RGB image with distinct pixels. */
  private static final int W = 4;
  private static final int H = 3;
  private static final byte[] RGB = new byte[W * H * 3];

  static {
    for (int i = 0; i < RGB.length; i++) {
      RGB[i] = (byte) (i * 19 + 7);
    }
  }

  static FactRlException fails(Executable call, String... fragments) {
    FactRlException e = assertThrows(FactRlException.class, call);
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
    }
    return e;
  }

  private Path write(String name, byte[] bytes) throws IOException {
    return Files.write(dir.resolve(name), bytes);
  }

  /** What stb alone makes of the bytes (null when it refuses them). */
  private static byte[] stbAlone(byte[] encoded) {
    ByteBuffer in = MemoryUtil.memAlloc(encoded.length);
    try {
      in.put(encoded).flip();
      int[] w = new int[1];
      int[] h = new int[1];
      int[] c = new int[1];
      ByteBuffer out = STBImage.stbi_load_from_memory(in, w, h, c, 3);
      if (out == null) {
        return null;
      }
      byte[] rgb = new byte[w[0] * h[0] * 3];
      out.get(0, rgb);
      STBImage.stbi_image_free(out);
      return rgb;
    } finally {
      MemoryUtil.memFree(in);
    }
  }

  @Test
  void ourPngBuilderDecodesExactly() throws IOException {
    byte[] png = ImageFixtures.pngBytes(W, H, 8, 2, ImageFixtures.rawRgbRows(W, H, RGB), Deflater.BEST_COMPRESSION);
    assertArrayEquals(RGB, ImageLoader.load(write("ok.png", png)).pixels());
    byte[] stored = ImageFixtures.pngBytes(W, H, 8, 2, ImageFixtures.rawRgbRows(W, H, RGB), Deflater.NO_COMPRESSION);
    assertArrayEquals(RGB, ImageLoader.load(write("stored.png", stored)).pixels());
  }

  /**
   * Adam7-interlaced PNGs decode exactly: the expected inflated size is summed over the seven passes
   * (each row a filter byte and its packed pixels), and a wrong sum would refuse every such file.
   */
  @Test
  void interlacedPngsDecodeExactly() throws IOException {
    int[][] passes = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
    for (int[] size : new int[][] {{1, 1}, {3, 2}, {5, 1}, {1, 9}, {9, 7}, {17, 13}}) {
      int w = size[0];
      int h = size[1];
      byte[] rgb = new byte[w * h * 3];
      for (int i = 0; i < rgb.length; i++) {
        rgb[i] = (byte) (i * 37 + w);
      }
      java.io.ByteArrayOutputStream raw = new java.io.ByteArrayOutputStream();
      for (int[] p : passes) {
        for (int y = p[1]; y < h; y += p[3]) {
          if (p[0] >= w) {
            break;  // an empty pass has no rows at all
          }
          raw.write(0);  // filter: none
          for (int x = p[0]; x < w; x += p[2]) {
            raw.write(rgb, (y * w + x) * 3, 3);
          }
        }
      }
      byte[] png = ImageFixtures.pngBytes(w, h, 8, 2, raw.toByteArray(), 6);
      png[8 + 8 + 12] = 1;  // IHDR interlace method: Adam7
      ImageFixtures.fixCrc(png, 8);
      assertArrayEquals(rgb, ImageLoader.load(write("adam7-" + w + "x" + h + ".png", png)).pixels(), w + "x" + h);
    }
  }

  @Test
  void aChunkCrcMismatchIsRefused() throws IOException {
    // stored (uncompressed) deflate: a flipped pixel byte stays a valid deflate stream
    byte[] png = ImageFixtures.pngBytes(W, H, 8, 2, ImageFixtures.rawRgbRows(W, H, RGB), Deflater.NO_COMPRESSION);
    int idat = ImageFixtures.findChunk(png, "IDAT");
    int pixel = idat + 8 + 2 + 5 + 1 + 4;  // chunk header, zlib header, stored-block header, filter byte, pixel 1
    png[pixel] ^= 0x10;
    // the bug: stb ignores the CRC (and the Adler-32) and returns the altered pixels
    byte[] silently = stbAlone(png);
    assertNotNull(silently);
    assertFalse(Arrays.equals(RGB, silently), "stb decodes the damaged file silently");
    Path file = write("crc.png", png);
    fails(() -> ImageLoader.load(file), file + ": cannot decode image: PNG chunk 'IDAT'", "CRC mismatch");
    // a damaged header chunk too
    byte[] header = ImageFixtures.pngBytes(W, H, 8, 2, ImageFixtures.rawRgbRows(W, H, RGB), 6);
    header[8 + 8 + 3] ^= 0x01;  // IHDR width
    Path ihdr = write("ihdr.png", header);
    fails(() -> ImageLoader.load(ihdr), ihdr.toString(), "chunk 'IHDR'", "CRC mismatch");
  }

  @Test
  void anAdlerMismatchIsRefusedEvenWithAValidCrc() throws IOException {
    byte[] png = ImageFixtures.pngBytes(W, H, 8, 2, ImageFixtures.rawRgbRows(W, H, RGB), Deflater.NO_COMPRESSION);
    int idat = ImageFixtures.findChunk(png, "IDAT");
    png[idat + 8 + 2 + 5 + 1 + 4] ^= 0x10;
    ImageFixtures.fixCrc(png, idat);  // the chunk CRC now matches the damaged bytes: only Adler-32 knows
    assertFalse(Arrays.equals(RGB, stbAlone(png)), "stb decodes the damaged file silently");
    Path file = write("adler.png", png);
    fails(() -> ImageLoader.load(file), file + ": cannot decode image: PNG corrupt IDAT zlib data",
        "incorrect data check");
  }

  @Test
  void truncatedOrOverlongImageDataIsRefused() throws IOException {
    byte[] raw = ImageFixtures.rawRgbRows(W, H, RGB);
    Path shortData = write("short.png", ImageFixtures.pngBytes(W, H, 8, 2, Arrays.copyOf(raw, raw.length - 3), 6));
    fails(() -> ImageLoader.load(shortData), shortData.toString(), "inflates to " + (raw.length - 3),
        "needs " + raw.length);
    Path longData = write("long.png", ImageFixtures.pngBytes(W, H, 8, 2, Arrays.copyOf(raw, raw.length + 40), 6));
    fails(() -> ImageLoader.load(longData), longData.toString(), "past the " + raw.length + " bytes");
    byte[] png = ImageFixtures.pngBytes(W, H, 8, 2, raw, 6);
    Path noEnd = write("noend.png", Arrays.copyOf(png, png.length - 12));  // IEND cut off
    fails(() -> ImageLoader.load(noEnd), noEnd.toString(), "no IEND");
    Path cut = write("cut.png", Arrays.copyOf(png, png.length - 20));  // inside IDAT
    fails(() -> ImageLoader.load(cut), cut.toString(), "truncated");
    // bytes after IEND are ignored, as libpng does
    byte[] trailing = Arrays.copyOf(png, png.length + 5);
    assertArrayEquals(RGB, ImageLoader.load(write("trailing.png", trailing)).pixels());
  }

  @Test
  void aJpegCutMidScanIsRefused() throws IOException {
    byte[] rgb = new byte[64 * 64 * 3];
    for (int i = 0; i < rgb.length; i++) {
      rgb[i] = (byte) (i * 13 + i / 200);
    }
    byte[] jpg = Files.readAllBytes(ImageFixtures.jpg(dir.resolve("full.jpg"), 64, 64, rgb, 90));
    assertNotNull(stbAlone(Arrays.copyOf(jpg, jpg.length * 3 / 4)), "stb accepts a JPEG cut mid-scan");
    for (int keep : new int[] {jpg.length * 3 / 4, jpg.length - 2}) {
      Path cut = write("cut" + keep + ".jpg", Arrays.copyOf(jpg, keep));
      fails(() -> ImageLoader.load(cut), cut + ": cannot decode image: truncated JPEG");
    }
  }

  @Test
  void aDecompressionBombIsRefusedFromItsHeader() throws IOException {
    // 16384 x 16384 1-bit grey: 33.5 MB of zero scanlines deflate to ~33 kB; stb would allocate 805 MB of RGB
    int side = 16384;
    byte[] raw = new byte[side * (1 + side / 8)];
    byte[] png = ImageFixtures.pngBytes(side, side, 1, 0, raw, Deflater.BEST_COMPRESSION);
    assertTrue(png.length < 100_000, "a small file: " + png.length);
    Path bomb = write("bomb.png", png);
    fails(() -> ImageLoader.load(bomb), bomb + ": image too large: 16384x16384 = 268435456 pixels",
        "limit of " + ImageLimits.DEFAULT_MAX_PIXELS, "before decoding");
    // JPEG: the cap is read from the SOF header through stbi_info
    byte[] rgb = new byte[40 * 30 * 3];
    Path jpg = ImageFixtures.jpg(dir.resolve("small.jpg"), 40, 30, rgb, 90);
    ImageLimits tiny = ImageLimits.builder().maxPixels(40 * 30 - 1).build();
    fails(() -> ImageLoader.load(jpg, tiny), jpg + ": image too large: 40x30 = 1200 pixels", "limit of 1199");
    assertEquals(40, ImageLoader.load(jpg, ImageLimits.builder().maxPixels(1200).build()).width());
  }

  @Test
  void theLimitsAreConfigurableAndChecked() throws IOException {
    byte[] png = ImageFixtures.pngBytes(W, H, 8, 2, ImageFixtures.rawRgbRows(W, H, RGB), 6);
    Path file = write("limits.png", png);
    ImageLimits small = ImageLimits.builder().maxFileBytes(png.length - 1).build();
    fails(() -> ImageLoader.load(file, small), file + ": cannot load image: the file has " + png.length
        + " bytes, over the limit of " + (png.length - 1));
    assertEquals(W, ImageLoader.load(file, ImageLimits.builder().maxFileBytes(png.length).build()).width());
    fails(() -> ImageLoader.load(file, ImageLimits.builder().maxPixels(W * H - 1).build()), "image too large");
    fails(() -> ImageLimits.builder().maxPixels(0), "setting 'maxPixels'");
    fails(() -> ImageLimits.builder().maxPixels(Integer.MAX_VALUE), "setting 'maxPixels'");
    fails(() -> ImageLimits.builder().maxFileBytes(-1), "setting 'maxFileBytes'");
    assertEquals(ImageLimits.DEFAULT_MAX_PIXELS, ImageLimits.defaults().maxPixels());
    assertEquals(ImageLimits.defaults(), ImageLimits.builder().build());
  }

  @Test
  void onlyPngAndJpegAreDecoded() throws IOException {
    byte[] bmp = new byte[70];
    bmp[0] = 'B';
    bmp[1] = 'M';
    Path file = write("x.bmp", bmp);
    fails(() -> ImageLoader.load(file), file + ": cannot decode image: not a PNG or JPEG file (it starts with 42 4d");
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void devicesFifosAndDirectoriesAreNeverRead() throws Exception {
    Path zero = Path.of("/dev/zero");
    assumeTrue(Files.exists(zero));
    fails(() -> ImageLoader.load(zero), "/dev/zero: cannot load image: not a regular file (a device, FIFO or socket)");
    fails(() -> ImageLoader.load(dir), dir + ": cannot load image: not a regular file (a directory)");
    Path fifo = dir.resolve("pipe.png");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assumeTrue(mkfifo.waitFor() == 0, "mkfifo available");
    // opening a FIFO with no writer blocks forever: the check must come before any open
    fails(() -> ImageLoader.load(fifo), fifo + ": cannot load image: not a regular file");
    // links are followed: the target is what counts
    Path toZero = Files.createSymbolicLink(dir.resolve("zero.png"), zero);
    fails(() -> ImageLoader.load(toZero), "not a regular file");
    Files.delete(toZero);  // JUnit warns about links out of its temporary folder
    Path image = write("real.png", ImageFixtures.pngBytes(W, H, 8, 2, ImageFixtures.rawRgbRows(W, H, RGB), 6));
    Path toImage = Files.createSymbolicLink(dir.resolve("link.png"), image);
    assertArrayEquals(RGB, ImageLoader.load(toImage).pixels());
  }

  @Test
  void badPathsAreFieldErrorsNotInvalidPathExceptions() {
    String where = "sft.json: record 3: field 'image'";
    fails(() -> ImagePaths.of("a\0b.png", where), where + ": invalid image path \"a\\u0000b.png\"",
        "control character U+0000 at index 1");
    fails(() -> ImagePaths.of("", where), where, "empty");
    fails(() -> ImagePaths.of(null, where), where, "missing");
    fails(() -> ImagePaths.of("line\nbreak.png", where), "U+000A");
    assertEquals(Path.of("img/1.png"), ImagePaths.of("img/1.png", where));
    assertEquals(dir.resolve("img/1.png"), ImagePaths.resolve(dir, "img/1.png", where));
    assertEquals(dir.resolve("1.png"), ImagePaths.resolve(dir, "img/../1.png", where));
    fails(() -> ImagePaths.resolve(dir, "/etc/passwd", where), where, "must be relative");
    fails(() -> ImagePaths.resolve(dir, "../secret.png", where), where, "leaves the image folder");
    fails(() -> ImagePaths.resolve(dir, "a/../..", where), where, "leaves the image folder");
    fails(() -> ImagePaths.resolve(dir, ".", where), where, "leaves the image folder");
    fails(() -> ImagePaths.resolve(dir, "x\0.png", where), where, "U+0000");
  }
}

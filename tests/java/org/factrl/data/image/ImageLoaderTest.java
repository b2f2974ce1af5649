package org.factrl.data.image;

import static org.factrl.data.image.ImageFixtures.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.factrl.engine.FactRlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageLoaderTest {
  @TempDir Path dir;

  private static final byte[] RGB_3X2 = bytes(
      255, 0, 0, 0, 255, 0, 0, 0, 255,
      10, 20, 30, 128, 129, 130, 250, 251, 252);

  @Test
  void decodesRgbPngExactly() {
    Path file = ImageFixtures.png(dir.resolve("a.png"), 3, 2, 3, RGB_3X2);
    RgbImage image = ImageLoader.load(file);
    assertEquals(3, image.width());
    assertEquals(2, image.height());
    assertArrayEquals(RGB_3X2, image.pixels());
    assertEquals(129, image.get(1, 1, 1));
    assertEquals(RgbImage.of(3, 2, RGB_3X2), image);
  }

  @Test
  void greyIsReplicatedAndAlphaDropped() {
    RgbImage grey = ImageLoader.load(ImageFixtures.png(dir.resolve("g.png"), 2, 1, 1, bytes(7, 200)));
    assertArrayEquals(bytes(7, 7, 7, 200, 200, 200), grey.pixels());
    RgbImage rgba = ImageLoader.load(ImageFixtures.png(dir.resolve("rgba.png"), 2, 1, 4,
        bytes(1, 2, 3, 0, 4, 5, 6, 255)));
    assertArrayEquals(bytes(1, 2, 3, 4, 5, 6), rgba.pixels());
  }

  @Test
  void decodesJpegApproximately() {
    byte[] rgb = new byte[16 * 16 * 3];
    for (int i = 0; i < 16 * 16; i++) {
      rgb[3 * i] = (byte) 200;
      rgb[3 * i + 1] = (byte) 40;
      rgb[3 * i + 2] = (byte) 90;
    }
    RgbImage image = ImageLoader.load(ImageFixtures.jpg(dir.resolve("a.jpg"), 16, 16, rgb, 100));
    assertEquals(16, image.width());
    int[] expected = {200, 40, 90};
    for (int c = 0; c < 3; c++) {
      int v = image.get(7, 9, c);
      assertTrue(Math.abs(v - expected[c]) <= 4, "channel " + c + ": " + v);
    }
  }

  @Test
  void missingFileIsNamed() {
    Path missing = dir.resolve("missing.png");
    FactRlException e = assertThrows(FactRlException.class, () -> ImageLoader.load(missing));
    assertEquals(missing + ": cannot load image: no such file", e.getMessage());
  }

  @Test
  void emptyFileIsNamed() throws IOException {
    Path empty = Files.createFile(dir.resolve("empty.png"));
    FactRlException e = assertThrows(FactRlException.class, () -> ImageLoader.load(empty));
    assertEquals(empty + ": cannot decode image: empty file", e.getMessage());
  }

  @Test
  void nonImageIsNamed() throws IOException {
    Path text = dir.resolve("notes.png");
    Files.writeString(text, "this is not an image, just some text", StandardCharsets.UTF_8);
    FactRlException e = assertThrows(FactRlException.class, () -> ImageLoader.load(text));
    assertEquals(text + ": cannot decode image: not a PNG or JPEG file (it starts with 74 68 69 73 20 69 73 20)",
        e.getMessage());
  }

  @Test
  void truncatedPngAndJpegAreErrorsNotCrashes() throws IOException {
    byte[] big = new byte[32 * 32 * 3];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) (i * 31 + i / 7);
    }
    for (Path full : new Path[] {ImageFixtures.png(dir.resolve("full.png"), 32, 32, 3, big),
        ImageFixtures.jpg(dir.resolve("full.jpg"), 32, 32, big, 90)}) {
      byte[] all = Files.readAllBytes(full);
      for (int keep : new int[] {8, 40, all.length / 2}) {
        Path cut = dir.resolve("cut-" + keep + "-" + full.getFileName());
        Files.write(cut, Arrays.copyOf(all, keep));
        FactRlException e = assertThrows(FactRlException.class, () -> ImageLoader.load(cut), cut.toString());
        assertTrue(e.getMessage().startsWith(cut + ": cannot decode image: "), e.getMessage());
        assertTrue(e.getMessage().length() > (cut + ": cannot decode image: ").length(), "stb gave a reason");
      }
    }
  }

  @Test
  void pngSignatureFollowedByGarbageIsAnError() throws IOException {
    byte[] junk = new byte[200];
    byte[] sig = bytes(0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n');
    System.arraycopy(sig, 0, junk, 0, sig.length);
    for (int i = sig.length; i < junk.length; i++) {
      junk[i] = (byte) (i * 37);
    }
    Path bad = dir.resolve("bad.png");
    Files.write(bad, junk);
    FactRlException e = assertThrows(FactRlException.class, () -> ImageLoader.load(bad));
    assertTrue(e.getMessage().startsWith(bad + ": cannot decode image: "), e.getMessage());
  }

  @Test
  void rgbImageIsImmutable() {
    byte[] px = RGB_3X2.clone();
    RgbImage image = RgbImage.of(3, 2, px);
    px[0] = 0;
    image.pixels()[0] = 0;
    assertEquals(255, image.get(0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> RgbImage.of(2, 2, px));
  }
}

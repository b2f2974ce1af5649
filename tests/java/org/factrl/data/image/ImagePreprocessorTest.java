package org.factrl.data.image;

import static org.factrl.data.image.ImageFixtures.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Resize and normalisation numbers worked out by hand on tiny images. */
class ImagePreprocessorTest {
  @TempDir Path dir;

  private static final float EPS = 1e-5f;

  /** Identity normalisation on the 0..255 scale: out = pixel (mean 0, std 1/255). */
  private static ImagePreprocessor.Builder raw(int size, ResizeMode mode) {
    return ImagePreprocessor.builder().size(size).resizeMode(mode).mean(0, 0, 0).std(1 / 255f, 1 / 255f, 1 / 255f);
  }

  /** A grey image (R = G = B) from row-major values. */
  private static RgbImage grey(int w, int h, int... values) {
    byte[] rgb = new byte[w * h * 3];
    for (int i = 0; i < w * h; i++) {
      rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (byte) values[i];
    }
    return RgbImage.of(w, h, rgb);
  }

  private static float[] channel(float[] chw, int c, int size) {
    float[] out = new float[size * size];
    System.arraycopy(chw, c * size * size, out, 0, size * size);
    return out;
  }

  @Test
  void stretchUpsamplesWithHalfPixelCentres() {
    // 2x2 -> 4x4: source x = (d + 0.5)/2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1)
    float[] out = raw(4, ResizeMode.STRETCH).build().apply(grey(2, 2, 0, 100, 200, 40));
    float[] expected = {
        0, 25, 75, 100,
        50, 58.75f, 76.25f, 85,     // y = 0.25: row0 * 0.75 + row1 * 0.25
        150, 126.25f, 78.75f, 55,   // y = 0.75: row0 * 0.25 + row1 * 0.75
        200, 160, 80, 40};
    for (int c = 0; c < 3; c++) {
      assertArrayEquals(expected, channel(out, c, 4), 1e-3f);
    }
  }

  @Test
  void stretchDownsamplesByAveragingNeighbours() {
    // 4x4 -> 2x2: source x = (d + 0.5)*2 - 0.5 = 0.5, 2.5: each output is a 2x2 block mean
    float[] out = raw(2, ResizeMode.STRETCH).build().apply(grey(4, 4,
        0, 10, 20, 30,
        40, 50, 60, 70,
        80, 90, 100, 110,
        120, 130, 140, 150));
    assertArrayEquals(new float[] {25, 45, 105, 125}, channel(out, 0, 2), 1e-3f);
  }

  @Test
  void centreCropKeepsTheMiddleWithHalfEvenOffsets() {
    // 4x2 -> side 2: shorter side already 2, crop offset (4-2)/2 = 1: columns 1, 2
    ImagePreprocessor p = raw(2, ResizeMode.SHORTEST_SIDE_CENTER_CROP).build();
    assertArrayEquals(new float[] {1, 2, 5, 6}, channel(p.apply(grey(4, 2, 0, 1, 2, 3, 4, 5, 6, 7)), 1, 2), EPS);
    // 5x2: offset round_half_even(1.5) = 2: columns 2, 3 (torchvision's CenterCrop)
    assertArrayEquals(new float[] {2, 3, 7, 8},
        channel(p.apply(grey(5, 2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)), 2, 2), EPS);
  }

  @Test
  void centreCropResizesTheShorterSideFirst() {
    // 2x4 -> side 1: scaled to 1x2, crop top = round_half_even(0.5) = 0; output (0,0) samples the
    // scaled pixel (0,0): source x = 0.5*2 - 0.5 = 0.5, y = 0.5*2 - 0.5 = 0.5 -> mean of the top 2x2
    float[] out = raw(1, ResizeMode.SHORTEST_SIDE_CENTER_CROP).build().apply(grey(2, 4,
        10, 20,
        30, 40,
        100, 100,
        100, 100));
    assertArrayEquals(new float[] {25}, channel(out, 0, 1), 1e-3f);
  }

  @Test
  void padToSquareCentresTheImageOnTheMeanColour() {
    // 2x1, mean 0.5: padded 2x2 with the image on row (2-1)/2 = 0 and row 1 = round(127.5) = 128
    ImagePreprocessor p = ImagePreprocessor.builder().size(2).resizeMode(ResizeMode.PAD_TO_SQUARE)
        .mean(0.5f, 0.5f, 0.5f).std(1f, 1f, 1f).build();
    float[] out = p.apply(grey(2, 1, 0, 255));
    assertArrayEquals(new float[] {-0.5f, 0.5f, 128 / 255f - 0.5f, 128 / 255f - 0.5f}, channel(out, 0, 2), EPS);
  }

  @Test
  void normalisesWithClipDefaultsIntoChw() {
    // one pixel (255, 0, 128): (v/255 - mean[c]) / std[c], computed by hand
    float[] out = ImagePreprocessor.builder().size(1).build().apply(RgbImage.of(1, 1, bytes(255, 0, 128)));
    assertArrayEquals(new float[] {1.9303363f, -1.7520971f, 0.33994864f}, out, EPS);
  }

  @Test
  void outputIsChannelPlanes() {
    // 2x1 RGB, stretched to 2x2: each channel plane holds that channel's values only
    float[] out = raw(2, ResizeMode.STRETCH).build().apply(RgbImage.of(2, 1, bytes(1, 2, 3, 4, 5, 6)));
    assertArrayEquals(new float[] {1, 4, 1, 4, 2, 5, 2, 5, 3, 6, 3, 6}, out, EPS);
  }

  @Test
  void loadsAFileEndToEnd() {
    Path png = ImageFixtures.png(dir.resolve("p.png"), 2, 2, 3, bytes(
        0, 0, 0, 255, 255, 255,
        255, 255, 255, 0, 0, 0));
    ImagePreprocessor p = ImagePreprocessor.builder().size(2).mean(0.5f, 0.5f, 0.5f).std(0.5f, 0.5f, 0.5f).build();
    assertArrayEquals(new float[] {-1, 1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1}, p.load(png), EPS);
  }

  @Test
  void builderChecksArgumentsAndIsImmutable() {
    assertThrows(IllegalArgumentException.class, () -> ImagePreprocessor.builder().size(0));
    assertThrows(IllegalArgumentException.class, () -> ImagePreprocessor.builder().std(1, 0, 1));
    ImagePreprocessor p = ImagePreprocessor.builder().build();
    assertEquals(224, p.size());
    assertEquals(ResizeMode.SHORTEST_SIDE_CENTER_CROP, p.resizeMode());
    p.mean()[0] = 5;
    assertArrayEquals(ImagePreprocessor.CLIP_MEAN, p.mean());
  }
}

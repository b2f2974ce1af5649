package org.factrl.data.image;

import static org.factrl.data.image.ImageFixtures.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.factrl.engine.FactRlException;
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
    assertThrows(FactRlException.class, () -> ImagePreprocessor.builder().size(0));
    assertThrows(FactRlException.class, () -> ImagePreprocessor.builder().std(1, 0, 1));
    ImagePreprocessor p = ImagePreprocessor.builder().build();
    assertEquals(224, p.size());
    assertEquals(ResizeMode.SHORTEST_SIDE_CENTER_CROP, p.resizeMode());
    p.mean()[0] = 5;
    assertArrayEquals(ImagePreprocessor.CLIP_MEAN, p.mean());
  }

  /** Non-finite or zero settings would silently give NaN, infinite or all-zero images: refused when set. */
  @Test
  void nonFiniteSettingsAreRefusedNamingTheSetting() {
    String[][] cases = {
        {"mean NaN", "setting 'mean[1]' (green): NaN is not finite"},
        {"mean inf", "setting 'mean[0]' (red): -Infinity is not finite"},
        {"std inf", "setting 'std[2]' (blue): Infinity must be finite and > 0"},
        {"std 0", "setting 'std[0]' (red): 0.0 must be finite and > 0"},
        {"std NaN", "setting 'std[1]' (green): NaN must be finite and > 0"},
        {"std negative", "setting 'std[1]' (green): -0.5 must be finite and > 0"},
        {"std subnormal", "setting 'std[0]' (red): 9.8E-45 must be finite and > 0"},
        {"mean/std overflow", "settings 'mean[0]' / 'std[0]' (red)"},
        {"size", "setting 'size': 9000 is not in 1..8192"},
        {"mode", "setting 'resizeMode' is null"}};
    for (String[] c : cases) {
      FactRlException e = assertThrows(FactRlException.class, () -> {
        ImagePreprocessor.Builder b = ImagePreprocessor.builder();
        switch (c[0]) {
          case "mean NaN" -> b.mean(0.5f, Float.NaN, 0.5f);
          case "mean inf" -> b.mean(Float.NEGATIVE_INFINITY, 0.5f, 0.5f);
          case "std inf" -> b.std(0.5f, 0.5f, Float.POSITIVE_INFINITY);
          case "std 0" -> b.std(0f, 0.5f, 0.5f);
          case "std NaN" -> b.std(0.5f, Float.NaN, 0.5f);
          case "std negative" -> b.std(0.5f, -0.5f, 0.5f);
          case "std subnormal" -> b.std(1e-44f, 0.5f, 0.5f);
          case "mean/std overflow" -> b.mean(Float.MAX_VALUE, 0, 0).std(1e-3f, 1, 1).build();
          case "size" -> b.size(9000);
          default -> b.resizeMode(null);
        }
      }, c[0]);
      assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
    }
  }

  /**
   * A 1 × 30000 image padded to a square is 30000² pixels (2.7 GB as RGB; the size overflowed an int):
   * the square is sampled virtually. Side 3 over a 30000 square: taps at (d + 0.5)·10000 − 0.5, so the
   * middle column is half image (x = 14999, where the image sits) and half padding (x = 15000).
   */
  @Test
  void aTallThinImagePadsToASquareWithoutAllocatingIt() {
    int h = 30000;
    byte[] rgb = new byte[h * 3];
    java.util.Arrays.fill(rgb, (byte) 200);
    ImagePreprocessor p = ImagePreprocessor.builder().size(3).resizeMode(ResizeMode.PAD_TO_SQUARE)
        .mean(0.5f, 0.5f, 0.5f).std(1 / 255f, 1 / 255f, 1 / 255f).build();
    float[] out = p.apply(RgbImage.of(1, h, rgb));
    // out = v - 127.5; the padding is round(0.5 * 255) = 128, the middle column (200 + 128) / 2 = 164
    float pad = 0.5f;
    float mid = 164 - 127.5f;
    float[] expected = {pad, mid, pad, pad, mid, pad, pad, mid, pad};
    for (int c = 0; c < 3; c++) {
      assertArrayEquals(expected, channel(out, c, 3), 1e-3f);
    }
    // the other modes on the same image: no overflow either (crop: scaled height 30000 * 3)
    assertEquals(27, raw(3, ResizeMode.SHORTEST_SIDE_CENTER_CROP).build().apply(RgbImage.of(1, h, rgb)).length);
    assertEquals(27, raw(3, ResizeMode.STRETCH).build().apply(RgbImage.of(h, 1, rgb)).length);
  }
}

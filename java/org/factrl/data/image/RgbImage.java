package org.factrl.data.image;

import com.google.common.base.Preconditions;
import java.util.Arrays;

/**
 * An 8-bit RGB image: {@code width × height} pixels, stored row-major with interleaved channels
 * (HWC), as stb decodes it. Immutable: the array is copied in and out.
 */
public final class RgbImage {
  public static final int CHANNELS = 3;

  private final int width;
  private final int height;
  private final byte[] pixels;

  private RgbImage(int width, int height, byte[] pixels, boolean copy) {
    Preconditions.checkArgument(width > 0 && height > 0, "image size %sx%s", width, height);
    Preconditions.checkArgument((long) width * height * CHANNELS == pixels.length,
        "%s bytes for a %sx%s RGB image", pixels.length, width, height);
    this.width = width;
    this.height = height;
    this.pixels = copy ? pixels.clone() : pixels;
  }

  /** An image from {@code width × height × 3} bytes, row-major RGB. */
  public static RgbImage of(int width, int height, byte[] rgb) {
    return new RgbImage(width, height, rgb, true);
  }

  /** Takes ownership of {@code rgb} (no copy); for decoders in this package. */
  static RgbImage wrap(int width, int height, byte[] rgb) {
    return new RgbImage(width, height, rgb, false);
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  /** Channel {@code c} (0 = R, 1 = G, 2 = B) of pixel ({@code x}, {@code y}), 0..255. */
  public int get(int x, int y, int c) {
    Preconditions.checkElementIndex(x, width, "x");
    Preconditions.checkElementIndex(y, height, "y");
    Preconditions.checkElementIndex(c, CHANNELS, "c");
    return pixels[(y * width + x) * CHANNELS + c] & 0xff;
  }

  /** A copy of the pixels, row-major RGB. */
  public byte[] pixels() {
    return pixels.clone();
  }

  /** The backing array, for readers in this package that do not modify it. */
  byte[] pixelsUnsafe() {
    return pixels;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RgbImage other && width == other.width && height == other.height
        && Arrays.equals(pixels, other.pixels);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * width + height) + Arrays.hashCode(pixels);
  }

  @Override
  public String toString() {
    return "RgbImage[" + width + "x" + height + "]";
  }
}

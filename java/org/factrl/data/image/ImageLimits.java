package org.factrl.data.image;

import org.factrl.engine.FactRlException;

/**
 * What {@link ImageLoader} accepts before it spends memory on a file: the file's size, and the
 * image's pixel count read from its header (PNG {@code IHDR}, JPEG {@code SOF}) before anything is
 * decompressed. A small file can declare a huge image (a 30 kB PNG that inflates to 16384 × 16384
 * pixels, 805 MB once decoded): the pixel cap refuses it from the header. Immutable; the defaults
 * are generous for training images (a model sees 224–672 pixels a side) and small for the JVM.
 */
public final class ImageLimits {
  /** 64 MiB: far above any sensible training image, far below a heap. */
  public static final long DEFAULT_MAX_FILE_BYTES = 64L << 20;
  /** 2^25 ≈ 33.5 million pixels (8192 × 4096), 100 MB decoded as RGB. */
  public static final long DEFAULT_MAX_PIXELS = 1L << 25;

  /** Above this a decoded RGB image no longer fits one Java array. */
  static final long MAX_ARRAY_PIXELS = (Integer.MAX_VALUE - 8L) / RgbImage.CHANNELS;

  private static final ImageLimits DEFAULTS = builder().build();

  private final long maxFileBytes;
  private final long maxPixels;

  private ImageLimits(Builder b) {
    this.maxFileBytes = b.maxFileBytes;
    this.maxPixels = b.maxPixels;
  }

  public static ImageLimits defaults() {
    return DEFAULTS;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The largest file read, in bytes. */
  public long maxFileBytes() {
    return maxFileBytes;
  }

  /** The largest image decoded, in pixels ({@code width × height}). */
  public long maxPixels() {
    return maxPixels;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ImageLimits other && maxFileBytes == other.maxFileBytes && maxPixels == other.maxPixels;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(maxFileBytes) * 31 + Long.hashCode(maxPixels);
  }

  @Override
  public String toString() {
    return "ImageLimits{maxFileBytes=" + maxFileBytes + ", maxPixels=" + maxPixels + "}";
  }

  /** Builder starting from the defaults. */
  public static final class Builder {
    private long maxFileBytes = DEFAULT_MAX_FILE_BYTES;
    private long maxPixels = DEFAULT_MAX_PIXELS;

    private Builder() {}

    /** 1 .. 2^31 − 9 bytes (one Java array). */
    public Builder maxFileBytes(long bytes) {
      if (bytes < 1 || bytes > Integer.MAX_VALUE - 8L) {
        throw new FactRlException("setting 'maxFileBytes': " + bytes + " is not in 1.." + (Integer.MAX_VALUE - 8L));
      }
      this.maxFileBytes = bytes;
      return this;
    }

    /** 1 .. (2^31 − 9) / 3 pixels (the decoded RGB image is one Java array). */
    public Builder maxPixels(long pixels) {
      if (pixels < 1 || pixels > MAX_ARRAY_PIXELS) {
        throw new FactRlException("setting 'maxPixels': " + pixels + " is not in 1.." + MAX_ARRAY_PIXELS);
      }
      this.maxPixels = pixels;
      return this;
    }

    public ImageLimits build() {
      return new ImageLimits(this);
    }
  }
}

package org.factrl.data.image;

import java.nio.file.Path;
import java.util.Arrays;
import org.factrl.engine.FactRlException;

/**
 * Turns an {@link RgbImage} into the vision encoder's input: a {@code 3 × S × S} float array in
 * CHW order, each value {@code (pixel / 255 − mean[c]) / std[c]}. Immutable and thread-safe;
 * deterministic (pure arithmetic, no randomness). Defaults: side 224, CLIP's mean and std,
 * {@link ResizeMode#SHORTEST_SIDE_CENTER_CROP}.
 */
public final class ImagePreprocessor {
  /** CLIP's per-channel mean (RGB), on the 0..1 scale. */
  public static final float[] CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
  /** CLIP's per-channel standard deviation (RGB), on the 0..1 scale. */
  public static final float[] CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};

  private static final String[] CHANNEL_NAMES = {"red", "green", "blue"};

  private final int size;
  private final float[] mean;
  private final float[] std;
  private final ResizeMode resizeMode;

  private ImagePreprocessor(Builder b) {
    this.size = b.size;
    this.mean = b.mean.clone();
    this.std = b.std.clone();
    this.resizeMode = b.resizeMode;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The output side {@code S}. */
  public int size() {
    return size;
  }

  public float[] mean() {
    return mean.clone();
  }

  public float[] std() {
    return std.clone();
  }

  public ResizeMode resizeMode() {
    return resizeMode;
  }

  /** Loads {@code file} ({@link ImageLoader}, default {@link ImageLimits}) and preprocesses it. */
  public float[] load(Path file) {
    return apply(ImageLoader.load(file));
  }

  /** Loads {@code file} within {@code limits} and preprocesses it. */
  public float[] load(Path file, ImageLimits limits) {
    return apply(ImageLoader.load(file, limits));
  }

  /**
   * The image resized to {@code S × S}, normalised, as CHW floats ({@code 3·S·S} values). Sizes are
   * computed in {@code long}: a 1 × 30000 image padded to a square is 30000² pixels (2.7 GB as RGB),
   * which is why the padded square is never built — it is sampled virtually (see {@link #axis}).
   */
  public float[] apply(RgbImage image) {
    if (image == null) {
      throw new FactRlException("argument 'image' is null");
    }
    long w = image.width();
    long h = image.height();
    // the source the resize sees: the image itself, or the virtual padded square around it
    long srcW = w;
    long srcH = h;
    long padX = 0;
    long padY = 0;
    if (resizeMode == ResizeMode.PAD_TO_SQUARE) {
      long side = Math.max(w, h);
      padX = (side - w) / 2;
      padY = (side - h) / 2;
      srcW = side;
      srcH = side;
    }
    long scaledW = size;
    long scaledH = size;
    long left = 0;
    long top = 0;
    if (resizeMode == ResizeMode.SHORTEST_SIDE_CENTER_CROP) {
      if (srcW <= srcH) {
        scaledH = Math.max(size, srcH * size / srcW);  // < 2^31 · 8192: no overflow
      } else {
        scaledW = Math.max(size, srcW * size / srcH);
      }
      left = (long) Math.rint((scaledW - size) / 2.0);
      top = (long) Math.rint((scaledH - size) / 2.0);
    }
    int[] x0 = new int[size];
    int[] x1 = new int[size];
    float[] fx = new float[size];
    axis(srcW, scaledW, left, padX, w, x0, x1, fx);
    int[] y0 = new int[size];
    int[] y1 = new int[size];
    float[] fy = new float[size];
    axis(srcH, scaledH, top, padY, h, y0, y1, fy);
    return resample(image, x0, x1, fx, y0, y1, fy);
  }

  /**
   * Bilinear resampling of the taps from {@link #axis}, normalised into CHW; a tap of −1 lies in the
   * padding and reads the fill colour ({@code round(mean · 255)}, clamped to 0..255).
   */
  private float[] resample(RgbImage src, int[] x0, int[] x1, float[] fx, int[] y0, int[] y1, float[] fy) {
    int inW = src.width();
    byte[] px = src.pixelsUnsafe();
    float[] out = new float[RgbImage.CHANNELS * size * size];
    int plane = size * size;
    for (int c = 0; c < RgbImage.CHANNELS; c++) {
      float fill = Math.round(Math.min(1f, Math.max(0f, mean[c])) * 255f);
      float scale = 1f / (255f * std[c]);
      float shift = mean[c] / std[c];
      for (int y = 0; y < size; y++) {
        float wy = fy[y];
        for (int x = 0; x < size; x++) {
          float top0 = pixel(px, inW, x0[x], y0[y], c, fill);
          float top1 = pixel(px, inW, x1[x], y0[y], c, fill);
          float bot0 = pixel(px, inW, x0[x], y1[y], c, fill);
          float bot1 = pixel(px, inW, x1[x], y1[y], c, fill);
          float wx = fx[x];
          float t = top0 + (top1 - top0) * wx;
          float b = bot0 + (bot1 - bot0) * wx;
          float v = t + (b - t) * wy;
          out[c * plane + y * size + x] = v * scale - shift;
        }
      }
    }
    return out;
  }

  private static float pixel(byte[] px, int width, int x, int y, int c, float fill) {
    if (x < 0 || y < 0) {
      return fill;
    }
    // < w·h·3 <= 2^31 − 9 (one Java array), computed in long all the same
    return px[(int) (((long) y * width + x) * RgbImage.CHANNELS + c)] & 0xff;
  }

  /**
   * Source taps and weights along one axis of a source of length {@code in} (half-pixel centres,
   * clamped to the edges), scaled to {@code scaled} with the window starting at {@code offset}; then
   * shifted by {@code pad} into the image's own coordinates ({@code 0 .. image − 1}), −1 for a tap
   * in the padding.
   */
  private void axis(long in, long scaled, long offset, long pad, long image, int[] i0, int[] i1, float[] frac) {
    double ratio = (double) in / scaled;
    for (int d = 0; d < size; d++) {
      double s = Math.max(0.0, (d + offset + 0.5) * ratio - 0.5);
      long lo = Math.min((long) Math.floor(s), in - 1);
      long hi = Math.min(lo + 1, in - 1);
      frac[d] = hi == lo ? 0f : (float) (s - lo);
      i0[d] = imageTap(lo - pad, image);
      i1[d] = imageTap(hi - pad, image);
    }
  }

  private static int imageTap(long i, long image) {
    return i >= 0 && i < image ? (int) i : -1;
  }

  @Override
  public String toString() {
    return "ImagePreprocessor{size=" + size + ", mean=" + Arrays.toString(mean) + ", std="
        + Arrays.toString(std) + ", resize=" + resizeMode + "}";
  }

  /** Builder; every option has a default (224, CLIP mean/std, shortest side + centre crop). */
  public static final class Builder {
    private int size = 224;
    private float[] mean = CLIP_MEAN;
    private float[] std = CLIP_STD;
    private ResizeMode resizeMode = ResizeMode.SHORTEST_SIDE_CENTER_CROP;

    private Builder() {}

    public Builder size(int size) {
      if (size <= 0 || size > 8192) {
        throw new FactRlException("setting 'size': " + size + " is not in 1..8192");
      }
      this.size = size;
      return this;
    }

    /** Per-channel (RGB) mean on the 0..1 scale; each must be finite (NaN would make every value NaN). */
    public Builder mean(float r, float g, float b) {
      float[] m = {r, g, b};
      for (int c = 0; c < m.length; c++) {
        if (!Float.isFinite(m[c])) {
          throw new FactRlException("setting 'mean[" + c + "]' (" + CHANNEL_NAMES[c] + "): " + m[c]
              + " is not finite");
        }
      }
      this.mean = m;
      return this;
    }

    /**
     * Per-channel (RGB) standard deviation on the 0..1 scale; each must be finite and positive, and
     * large enough that {@code 1 / (255 · std)} is finite (infinity would turn every image to zeros,
     * zero or NaN to infinities or NaNs).
     */
    public Builder std(float r, float g, float b) {
      float[] sd = {r, g, b};
      for (int c = 0; c < sd.length; c++) {
        if (!(Float.isFinite(sd[c]) && sd[c] > 0 && Float.isFinite(1f / (255f * sd[c])))) {
          throw new FactRlException("setting 'std[" + c + "]' (" + CHANNEL_NAMES[c] + "): " + sd[c]
              + " must be finite and > 0");
        }
      }
      this.std = sd;
      return this;
    }

    public Builder resizeMode(ResizeMode mode) {
      if (mode == null) {
        throw new FactRlException("setting 'resizeMode' is null");
      }
      this.resizeMode = mode;
      return this;
    }

    /** Builds; mean / std must be finite for every channel (a huge mean over a tiny std is not). */
    public ImagePreprocessor build() {
      for (int c = 0; c < RgbImage.CHANNELS; c++) {
        if (!Float.isFinite(mean[c] / std[c])) {
          throw new FactRlException("settings 'mean[" + c + "]' / 'std[" + c + "]' (" + CHANNEL_NAMES[c] + "): "
              + mean[c] + " / " + std[c] + " overflows a float");
        }
      }
      return new ImagePreprocessor(this);
    }
  }
}

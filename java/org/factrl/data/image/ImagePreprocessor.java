package org.factrl.data.image;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import java.util.Arrays;

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

  /** Loads {@code file} ({@link ImageLoader}) and preprocesses it. */
  public float[] load(Path file) {
    return apply(ImageLoader.load(file));
  }

  /** The image resized to {@code S × S}, normalised, as CHW floats ({@code 3·S·S} values). */
  public float[] apply(RgbImage image) {
    RgbImage src = resizeMode == ResizeMode.PAD_TO_SQUARE ? padToSquare(image) : image;
    int scaledW;
    int scaledH;
    int left = 0;
    int top = 0;
    if (resizeMode == ResizeMode.SHORTEST_SIDE_CENTER_CROP) {
      int w = src.width();
      int h = src.height();
      if (w <= h) {
        scaledW = size;
        scaledH = Math.max(size, (int) ((long) h * size / w));
      } else {
        scaledH = size;
        scaledW = Math.max(size, (int) ((long) w * size / h));
      }
      left = (int) Math.rint((scaledW - size) / 2.0);
      top = (int) Math.rint((scaledH - size) / 2.0);
    } else {
      scaledW = size;
      scaledH = size;
    }
    return resample(src, scaledW, scaledH, left, top);
  }

  /**
   * Bilinear resampling of {@code src} to a virtual {@code scaledW × scaledH} image, of which the
   * {@code S × S} window at ({@code left}, {@code top}) is kept, normalised into CHW.
   */
  private float[] resample(RgbImage src, int scaledW, int scaledH, int left, int top) {
    int inW = src.width();
    int inH = src.height();
    byte[] px = src.pixelsUnsafe();
    int[] x0 = new int[size];
    int[] x1 = new int[size];
    float[] fx = new float[size];
    axis(inW, scaledW, left, x0, x1, fx);
    int[] y0 = new int[size];
    int[] y1 = new int[size];
    float[] fy = new float[size];
    axis(inH, scaledH, top, y0, y1, fy);
    float[] out = new float[RgbImage.CHANNELS * size * size];
    int plane = size * size;
    for (int c = 0; c < RgbImage.CHANNELS; c++) {
      float scale = 1f / (255f * std[c]);
      float shift = mean[c] / std[c];
      for (int y = 0; y < size; y++) {
        int row0 = y0[y] * inW;
        int row1 = y1[y] * inW;
        float wy = fy[y];
        for (int x = 0; x < size; x++) {
          float top0 = px[(row0 + x0[x]) * 3 + c] & 0xff;
          float top1 = px[(row0 + x1[x]) * 3 + c] & 0xff;
          float bot0 = px[(row1 + x0[x]) * 3 + c] & 0xff;
          float bot1 = px[(row1 + x1[x]) * 3 + c] & 0xff;
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

  /** Source taps and weights along one axis: half-pixel centres, clamped to the edges. */
  private void axis(int in, int scaled, int offset, int[] i0, int[] i1, float[] frac) {
    double ratio = (double) in / scaled;
    for (int d = 0; d < size; d++) {
      double s = Math.max(0.0, (d + offset + 0.5) * ratio - 0.5);
      int lo = Math.min((int) Math.floor(s), in - 1);
      i0[d] = lo;
      i1[d] = Math.min(lo + 1, in - 1);
      frac[d] = (float) (s - lo);
      if (i1[d] == lo) {
        frac[d] = 0f;
      }
    }
  }

  private RgbImage padToSquare(RgbImage image) {
    int w = image.width();
    int h = image.height();
    if (w == h) {
      return image;
    }
    int side = Math.max(w, h);
    byte[] out = new byte[side * side * 3];
    byte[] fill = new byte[3];
    for (int c = 0; c < 3; c++) {
      fill[c] = (byte) Math.round(Math.min(1f, Math.max(0f, mean[c])) * 255f);
    }
    for (int i = 0; i < side * side; i++) {
      System.arraycopy(fill, 0, out, i * 3, 3);
    }
    int ox = (side - w) / 2;
    int oy = (side - h) / 2;
    byte[] px = image.pixelsUnsafe();
    for (int y = 0; y < h; y++) {
      System.arraycopy(px, y * w * 3, out, ((oy + y) * side + ox) * 3, w * 3);
    }
    return RgbImage.wrap(side, side, out);
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
      Preconditions.checkArgument(size > 0 && size <= 8192, "size %s not in 1..8192", size);
      this.size = size;
      return this;
    }

    /** Per-channel (RGB) mean on the 0..1 scale. */
    public Builder mean(float r, float g, float b) {
      this.mean = new float[] {r, g, b};
      return this;
    }

    /** Per-channel (RGB) standard deviation on the 0..1 scale; each must be positive. */
    public Builder std(float r, float g, float b) {
      Preconditions.checkArgument(r > 0 && g > 0 && b > 0, "std must be positive: %s %s %s", r, g, b);
      this.std = new float[] {r, g, b};
      return this;
    }

    public Builder resizeMode(ResizeMode mode) {
      this.resizeMode = Preconditions.checkNotNull(mode, "mode");
      return this;
    }

    public ImagePreprocessor build() {
      return new ImagePreprocessor(this);
    }
  }
}

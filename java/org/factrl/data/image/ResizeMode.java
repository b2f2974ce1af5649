package org.factrl.data.image;

/**
 * How {@link ImagePreprocessor} brings an image to its square input side {@code S}. All modes
 * resample bilinearly in floating point (no rounding to 8 bits), with half-pixel centres and
 * clamped edges: source coordinate {@code (d + 0.5) · in/out − 0.5}, as PyTorch's
 * {@code interpolate(mode="bilinear", align_corners=False, antialias=False)}. No antialiasing:
 * strong downscaling aliases, which is harmless for images generated at about the model's size.
 */
public enum ResizeMode {
  /** Resize both sides to {@code S}; distorts the aspect ratio. */
  STRETCH,
  /**
   * CLIP's preprocessing: resize so the shorter side is {@code S} (longer side
   * {@code floor(long · S / short)}), then crop the centre {@code S × S}; the crop offset is
   * {@code round_half_even((side − S) / 2)}, as torchvision's {@code CenterCrop}.
   */
  SHORTEST_SIDE_CENTER_CROP,
  /**
   * LLaVA-1.5's {@code expand2square}: pad to a square of side {@code max(w, h)} with the mean
   * colour ({@code round(mean · 255)}), the image centred at offset {@code (side − w) / 2}
   * (integer division), then resize to {@code S}. Keeps the whole image.
   */
  PAD_TO_SQUARE
}

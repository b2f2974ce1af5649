package org.factrl.kernels;

import java.util.Objects;
import org.factrl.engine.Native;

/**
 * Options of {@link Gae#compute}: discount {@code gamma}, GAE {@code lambda}, and whether (and how)
 * the advantages are whitened over the valid tokens of the batch. Immutable; build with
 * {@link #builder()}. Defaults follow DESIGN.md §4: gamma = 1, lambda = 1, whiten = true,
 * shiftMean = true, eps = 1e-8.
 */
public final class GaeOptions {
  private static final GaeOptions DEFAULTS = builder().build();

  private final float gamma;
  private final float lambda;
  private final boolean whiten;
  private final boolean shiftMean;
  private final float eps;

  private GaeOptions(Builder b) {
    this.gamma = b.gamma;
    this.lambda = b.lambda;
    this.whiten = b.whiten;
    this.shiftMean = b.shiftMean;
    this.eps = b.eps;
  }

  /** gamma = 1, lambda = 1, whiten with mean shift, eps = 1e-8. */
  public static GaeOptions defaults() {
    return DEFAULTS;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from these options. */
  public Builder toBuilder() {
    return new Builder().gamma(gamma).lambda(lambda).whiten(whiten).shiftMean(shiftMean).eps(eps);
  }

  /** Discount factor, in [0, 1]. */
  public float gamma() {
    return gamma;
  }

  /** GAE lambda, in [0, 1]. */
  public float lambda() {
    return lambda;
  }

  /** Whether {@link Gae#compute} whitens the advantages (in place) after computing the returns. */
  public boolean whiten() {
    return whiten;
  }

  /**
   * When whitening: true subtracts the mean (mean 0, std 1 over valid tokens); false only rescales
   * around the mean, which is kept.
   */
  public boolean shiftMean() {
    return shiftMean;
  }

  /** Added to the variance inside the square root when whitening; finite and >= 0. */
  public float eps() {
    return eps;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof GaeOptions)) {
      return false;
    }
    GaeOptions other = (GaeOptions) o;
    return Float.compare(gamma, other.gamma) == 0 && Float.compare(lambda, other.lambda) == 0
        && whiten == other.whiten && shiftMean == other.shiftMean && Float.compare(eps, other.eps) == 0;
  }

  @Override
  public int hashCode() {
    return Objects.hash(gamma, lambda, whiten, shiftMean, eps);
  }

  @Override
  public String toString() {
    return "GaeOptions{gamma=" + gamma + ", lambda=" + lambda + ", whiten=" + whiten + ", shiftMean=" + shiftMean
        + ", eps=" + eps + "}";
  }

  /** Builder of {@link GaeOptions}; {@link #build()} checks every value. */
  public static final class Builder {
    private float gamma = 1f;
    private float lambda = 1f;
    private boolean whiten = true;
    private boolean shiftMean = true;
    private float eps = 1e-8f;

    private Builder() {}

    public Builder gamma(float gamma) {
      this.gamma = gamma;
      return this;
    }

    public Builder lambda(float lambda) {
      this.lambda = lambda;
      return this;
    }

    public Builder whiten(boolean whiten) {
      this.whiten = whiten;
      return this;
    }

    public Builder shiftMean(boolean shiftMean) {
      this.shiftMean = shiftMean;
      return this;
    }

    public Builder eps(float eps) {
      this.eps = eps;
      return this;
    }

    /** Throws {@code FactRlException} naming gamma, lambda or eps when out of range (or NaN). */
    public GaeOptions build() {
      checkUnitInterval(gamma, "gamma");
      checkUnitInterval(lambda, "lambda");
      Native.checkArgument(Float.isFinite(eps) && eps >= 0f, "eps", "must be finite and >= 0, got %s", eps);
      return new GaeOptions(this);
    }
  }

  static void checkUnitInterval(float x, String name) {
    Native.checkArgument(Float.isFinite(x) && x >= 0f && x <= 1f, name, "must be finite and in [0, 1], got %s", x);
  }
}

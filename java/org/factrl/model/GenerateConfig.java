package org.factrl.model;

import static org.factrl.engine.Native.checkArgument;

/**
 * How {@link Generator#generate} samples and stops (generate.h's {@code frl_generate_config}).
 * Immutable; build with {@link #builder()} (every field checked in {@link Builder#build()}, the
 * vocabulary-dependent ones again natively against the model).
 *
 * <ul>
 *   <li>{@code maxNewTokens} >= 1: tokens generated per row at most.
 *   <li>{@code temperature} 0 (greedy: argmax, lowest id on ties) or finite and > 0.
 *   <li>{@code topP} in (0, 1]: nucleus sampling (1 keeps every token).
 *   <li>{@code eosTokenId} >= 0, or -1 (never stop early): a row stops after emitting it (included).
 *   <li>{@code padTokenId} >= 0: fills a row's slots after it stopped.
 *   <li>{@code seed}: row b draws from stream (seed, b), so rows do not depend on each other.
 * </ul>
 */
public final class GenerateConfig {
  private final int maxNewTokens;
  private final float temperature;
  private final float topP;
  private final int eosTokenId;
  private final int padTokenId;
  private final long seed;

  private GenerateConfig(Builder b) {
    this.maxNewTokens = b.maxNewTokens;
    this.temperature = b.temperature;
    this.topP = b.topP;
    this.eosTokenId = b.eosTokenId;
    this.padTokenId = b.padTokenId;
    this.seed = b.seed;
  }

  /** Defaults: 64 new tokens, greedy, top-p 1, no EOS, pad 0, seed 0. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this config's values. */
  public Builder toBuilder() {
    return new Builder().maxNewTokens(maxNewTokens).temperature(temperature).topP(topP).eosTokenId(eosTokenId)
        .padTokenId(padTokenId).seed(seed);
  }

  public int maxNewTokens() {
    return maxNewTokens;
  }

  public float temperature() {
    return temperature;
  }

  public float topP() {
    return topP;
  }

  public int eosTokenId() {
    return eosTokenId;
  }

  public int padTokenId() {
    return padTokenId;
  }

  public long seed() {
    return seed;
  }

  public boolean isGreedy() {
    return temperature == 0f;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GenerateConfig g && g.maxNewTokens == maxNewTokens
        && Float.compare(g.temperature, temperature) == 0 && Float.compare(g.topP, topP) == 0
        && g.eosTokenId == eosTokenId && g.padTokenId == padTokenId && g.seed == seed;
  }

  @Override
  public int hashCode() {
    int h = maxNewTokens;
    h = 31 * h + Float.hashCode(temperature);
    h = 31 * h + Float.hashCode(topP);
    h = 31 * h + eosTokenId;
    h = 31 * h + padTokenId;
    return 31 * h + Long.hashCode(seed);
  }

  @Override
  public String toString() {
    return "GenerateConfig(maxNewTokens=" + maxNewTokens + ", temperature=" + temperature + ", topP=" + topP
        + ", eosTokenId=" + eosTokenId + ", padTokenId=" + padTokenId + ", seed=" + seed + ")";
  }

  /** Mutable builder; {@link #build()} checks every field, naming it. */
  public static final class Builder {
    private int maxNewTokens = 64;
    private float temperature = 0f;
    private float topP = 1f;
    private int eosTokenId = -1;
    private int padTokenId = 0;
    private long seed = 0;

    private Builder() {}

    public Builder maxNewTokens(int v) {
      maxNewTokens = v;
      return this;
    }

    public Builder temperature(float v) {
      temperature = v;
      return this;
    }

    public Builder topP(float v) {
      topP = v;
      return this;
    }

    public Builder eosTokenId(int v) {
      eosTokenId = v;
      return this;
    }

    public Builder padTokenId(int v) {
      padTokenId = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public GenerateConfig build() {
      checkArgument(maxNewTokens >= 1, "maxNewTokens", "must be >= 1, got %d", maxNewTokens);
      checkArgument(Float.isFinite(temperature) && temperature >= 0f, "temperature",
          "must be 0 (greedy) or finite and > 0, got %s", temperature);
      checkArgument(topP > 0f && topP <= 1f, "topP", "must be in (0, 1], got %s", topP);
      checkArgument(eosTokenId >= -1, "eosTokenId", "must be a token id >= 0 or -1 (never stop early), got %d",
          eosTokenId);
      checkArgument(padTokenId >= 0, "padTokenId", "must be a token id >= 0, got %d", padTokenId);
      return new GenerateConfig(this);
    }
  }
}

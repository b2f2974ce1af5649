package org.factrl.api;

import com.google.common.base.Preconditions;

/**
 * How {@link Model#generate} samples: at most {@code maxNewTokens} tokens (EOS included); greedy at
 * temperature 0, else temperature / top-p sampling from a stream seeded by {@code seed} (the same
 * seed gives the same answer).
 */
public record GenerateOptions(int maxNewTokens, float temperature, float topP, long seed) {
  public GenerateOptions {
    Preconditions.checkArgument(maxNewTokens >= 1, "maxNewTokens must be >= 1, got %s", maxNewTokens);
    Preconditions.checkArgument(temperature >= 0 && Float.isFinite(temperature),
        "temperature must be finite and >= 0, got %s", temperature);
    Preconditions.checkArgument(topP > 0 && topP <= 1, "topP must be in (0, 1], got %s", topP);
  }

  /** Greedy decoding of at most {@code maxNewTokens} tokens. */
  public static GenerateOptions greedy(int maxNewTokens) {
    return new GenerateOptions(maxNewTokens, 0f, 1f, 0);
  }

  /** Sampling at {@code temperature} (top-p 1) with {@code seed}. */
  public static GenerateOptions sampled(int maxNewTokens, float temperature, long seed) {
    return new GenerateOptions(maxNewTokens, temperature, 1f, seed);
  }
}

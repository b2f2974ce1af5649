package org.factrl.model;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import org.factrl.engine.FactRlException;

/**
 * The shape of a LoRA adapter set: rank {@code r}, {@code alpha} (the update is scaled by
 * {@code alpha / r}, PEFT's convention) and the layers it adapts. Immutable; {@link #targets()} is an
 * unmodifiable copy.
 *
 * @param rank r, at least 1
 * @param alpha the LoRA alpha, finite and positive
 * @param targets the adapted layers, at least one
 */
public record LoraSpec(int rank, float alpha, Set<LoraTarget> targets) {
  public LoraSpec {
    if (rank < 1) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "argument 'rank': must be >= 1, got " + rank);
    }
    if (!(Float.isFinite(alpha) && alpha > 0)) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "argument 'alpha': must be finite and > 0, got " + alpha);
    }
    if (targets == null || targets.isEmpty()) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "argument 'targets': must name at least one layer, got "
          + targets);
    }
    targets = Collections.unmodifiableSet(EnumSet.copyOf(targets));
  }

  /** LoRA on q, k, v, o, gate, up and down of every decoder layer: DESIGN.md §4's default targets. */
  public static LoraSpec allDecoder(int rank, float alpha) {
    return new LoraSpec(rank, alpha, EnumSet.range(LoraTarget.Q, LoraTarget.DOWN));
  }

  /** {@code alpha / r}, the factor of the adapter's term. */
  public float scale() {
    return alpha / rank;
  }
}

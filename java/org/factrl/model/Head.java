package org.factrl.model;

import org.factrl.engine.DType;
import org.factrl.engine.FactRlException;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.kernels.RewardHead;
import org.factrl.kernels.ValueHead;

/**
 * A named head of a {@link LlavaModel} (owned by the model): its {@link HeadKind}, its parameters
 * in one small {@link ParameterBlob} (weight {@code [1, d]}, bias {@code [1]}, HF names from the
 * kind) and the pooling kernel that applies it. Make its gradient blob with
 * {@code params().likeThis()}. Unusable once removed from its model or the model closes.
 */
public final class Head {
  private final String name;
  private final HeadKind kind;
  private final ParameterBlob params;
  /** The weight as the kernels take it, [d]: a view of the blob's [1, d] entry, closed before the blob. */
  private final Tensor weight;
  private final RewardHead reward;
  private final ValueHead value;
  private boolean removed;

  private Head(String name, HeadKind kind, ParameterBlob params, Tensor weight) {
    this.name = name;
    this.kind = kind;
    this.params = params;
    this.weight = weight;
    Tensor bias = params.tensor(kind.biasName());
    this.reward = kind == HeadKind.REWARD ? RewardHead.of(weight, bias) : null;
    this.value = kind == HeadKind.VALUE ? ValueHead.of(weight, bias) : null;
  }

  /** A zero-initialised head of width {@code width} in its own blob on the model's device. */
  static Head create(LlavaModel model, String name, HeadKind kind) {
    long d = model.config().hidden();
    ParameterBlob blob = ParameterBlob.builder()
        .add(kind.weightName(), DType.F32, 1, d)
        .add(kind.biasName(), DType.F32, 1)
        .build(model.device());
    Tensor w = null;
    try {
      w = blob.tensor(kind.weightName()).view(d);
      return new Head(name, kind, blob, w);
    } catch (RuntimeException e) {
      if (w != null) {
        w.close();
      }
      blob.close();
      throw e;
    }
  }

  public String name() {
    return name;
  }

  public HeadKind kind() {
    return kind;
  }

  /** The head's blob: {@code <module>.weight} [1, d] and {@code <module>.bias} [1] (owned by the model). */
  public ParameterBlob params() {
    checkLive();
    return params;
  }

  /** The weight w as a [d] view (owned by the head; do not close). */
  public Tensor weight() {
    checkLive();
    return weight;
  }

  /** The bias c [1] (owned by the head; do not close). */
  public Tensor bias() {
    return params().tensor(kind.biasName());
  }

  /** The hidden width d. */
  public long width() {
    return weight.dim(0);
  }

  /** Bytes the head holds on its device (its blob, padding included). */
  public long bytes() {
    return params.bytes();
  }

  /** The reward kernel over this head's parameters; fails for a value head. */
  public RewardHead rewardHead() {
    checkLive();
    requireKind(HeadKind.REWARD);
    return reward;
  }

  /** The value kernel over this head's parameters; fails for a reward head. */
  public ValueHead valueHead() {
    checkLive();
    requireKind(HeadKind.VALUE);
    return value;
  }

  void requireKind(HeadKind want) {
    if (kind != want) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "argument 'head': '" + name + "' is a " + kind
          + " head, this call needs a " + want + " head");
    }
  }

  private void checkLive() {
    if (removed) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "head '" + name + "' was removed from its model"
          + " (or the model was closed)");
    }
  }

  /** Frees the view and the blob (the model's removeHead / close). */
  void free() {
    if (!removed) {
      weight.close();
      params.close();
      removed = true;
    }
  }

  @Override
  public String toString() {
    return "Head('" + name + "', " + kind + ", d=" + weight.dim(0) + (removed ? ", removed" : "") + ")";
  }
}

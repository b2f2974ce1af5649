package org.factrl.model;

import static org.factrl.engine.Native.checkArgument;
import static org.factrl.engine.Native.checkNotNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.factrl.engine.DType;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.train.AdamW;
import org.factrl.train.AdamWConfig;

/**
 * The gradient blobs of one {@link TrainableSet} over a model, its adapter set and its head: each
 * trained part gets a zero blob of its parameters' layout, the others none. {@link #backward} and
 * {@link #headBackward} pass them to the model; {@link #adamW} builds the optimizer over exactly the
 * trained pairs. Owns its blobs: close it before the model.
 *
 * <pre>{@code
 * try (TrainableGrads g = TrainableGrads.allocate(model, TrainableSet.LORA_AND_HEAD, "reward", "reward");
 *     AdamW opt = g.adamW(config)) {
 *   Tensor s = model.score("reward", "reward", inputs, endIndex, true);
 *   g.headBackward(dScores, GradMode.OVERWRITE);
 *   opt.step();
 * }
 * }</pre>
 *
 * <p>The base's gradient blob is always a whole-base blob (the native backward writes a blob like
 * the base's): with {@link TrainableSet#PROJECTOR} its other entries stay zero, and {@link #adamW}
 * excludes them from weight decay, so AdamW (zero gradient, zero moments) leaves them bitwise as
 * they were. The moments of those entries still take memory: the plan shows it.
 */
public final class TrainableGrads implements AutoCloseable {
  private final LlavaModel model;
  private final TrainableSet set;
  private final String adapter;
  private final String head;
  private final ParameterBlob baseGrads;
  private final ParameterBlob adapterGrads;
  private final ParameterBlob headGrads;

  private TrainableGrads(LlavaModel model, TrainableSet set, String adapter, String head, ParameterBlob baseGrads,
      ParameterBlob adapterGrads, ParameterBlob headGrads) {
    this.model = model;
    this.set = set;
    this.adapter = adapter;
    this.head = head;
    this.baseGrads = baseGrads;
    this.adapterGrads = adapterGrads;
    this.headGrads = headGrads;
  }

  /**
   * Zero gradient blobs for {@code set} over {@code model}: {@code adapter} must name an adapter set
   * when the set trains one (else it may be null: the pass's adapter, frozen), {@code head} a head
   * when the set trains one.
   */
  public static TrainableGrads allocate(LlavaModel model, TrainableSet set, String adapter, String head) {
    checkNotNull(model, "model");
    checkNotNull(set, "set");
    checkArgument(!set.trainsAdapter() || adapter != null, "adapter", "is null but %s trains an adapter set", set);
    checkArgument(!set.trainsHead() || head != null, "head", "is null but %s trains a head", set);
    ParameterBlob a = set.trainsAdapter() ? model.adapter(adapter) : null;
    ParameterBlob h = set.trainsHead() ? model.head(head).params() : null;
    List<ParameterBlob> made = new ArrayList<>();
    try {
      ParameterBlob bg = set.trainsBase() ? add(made, model.params().likeThis()) : null;
      ParameterBlob ag = a != null ? add(made, a.likeThis()) : null;
      ParameterBlob hg = h != null ? add(made, h.likeThis()) : null;
      return new TrainableGrads(model, set, adapter, head, bg, ag, hg);
    } catch (RuntimeException e) {
      made.forEach(ParameterBlob::close);
      throw e;
    }
  }

  private static ParameterBlob add(List<ParameterBlob> made, ParameterBlob b) {
    made.add(b);
    return b;
  }

  public TrainableSet set() {
    return set;
  }

  /** The adapter set named at allocation (null: none). */
  public String adapter() {
    return adapter;
  }

  /** The head named at allocation (null: none). */
  public String head() {
    return head;
  }

  /** The base's gradients (a blob like {@code model.params()}), or null when the set trains no base group. */
  public ParameterBlob baseGrads() {
    return baseGrads;
  }

  /** The adapter set's gradients, or null. */
  public ParameterBlob adapterGrads() {
    return adapterGrads;
  }

  /** The head's gradients, or null. */
  public ParameterBlob headGrads() {
    return headGrads;
  }

  /** The trained (params, grads) pairs, base first, then the adapter set, then the head. */
  public List<AdamW.Trainable> trainables() {
    List<AdamW.Trainable> out = new ArrayList<>();
    if (baseGrads != null) {
      out.add(new AdamW.Trainable(model.params(), baseGrads));
    }
    if (adapterGrads != null) {
      out.add(new AdamW.Trainable(model.adapter(adapter), adapterGrads));
    }
    if (headGrads != null) {
      out.add(new AdamW.Trainable(model.head(head).params(), headGrads));
    }
    return out;
  }

  /**
   * AdamW over {@link #trainables()} with {@code config}, base entries outside the set's groups
   * excluded from weight decay (they have zero gradients and must not move). The caller closes it.
   */
  public AdamW adamW(AdamWConfig config) {
    checkNotNull(config, "config");
    AdamWConfig c = config;
    if (set.trainsBase() && !set.baseGroups().containsAll(java.util.EnumSet.allOf(ParamGroup.class))) {
      Set<ParamGroup> groups = set.baseGroups();
      c = config.toBuilder()
          .noDecay(n -> config.excludedFromDecay(n) || (model.params().contains(n) && !groups.contains(ParamGroup.of(n))))
          .build();
    }
    return AdamW.over(c, trainables());
  }

  /** The model's {@link LlavaModel#backward} of the last forward (d logp and/or d hidden) into these blobs. */
  public void backward(Tensor dLogp, Tensor dHidden, GradMode mode) {
    model.backward(dLogp, dHidden, baseGrads, set.baseGroups(), adapterGrads, mode);
  }

  /** The model's {@link LlavaModel#headBackward} of the last score / values pass into these blobs. */
  public void headBackward(Tensor dOut, GradMode mode) {
    model.headBackward(dOut, headGrads, baseGrads, set.baseGroups(), adapterGrads, mode);
  }

  /** Zeroes every gradient blob (one call each). */
  public void zero() {
    for (ParameterBlob b : blobs()) {
      try (Tensor flat = b.flat(DType.F32)) {
        flat.fillZero();
      }
    }
  }

  /** Bytes of the gradient blobs (what the device holds for them). */
  public long bytes() {
    long sum = 0;
    for (ParameterBlob b : blobs()) {
      sum += b.bytes();
    }
    return sum;
  }

  private List<ParameterBlob> blobs() {
    List<ParameterBlob> out = new ArrayList<>();
    for (ParameterBlob b : new ParameterBlob[] {baseGrads, adapterGrads, headGrads}) {
      if (b != null) {
        out.add(b);
      }
    }
    return out;
  }

  @Override
  public void close() {
    for (ParameterBlob b : blobs()) {
      b.close();
    }
  }

  @Override
  public String toString() {
    return "TrainableGrads(" + set + ", adapter " + adapter + ", head " + head + ", " + bytes() + " bytes)";
  }
}

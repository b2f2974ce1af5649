package org.factrl.model;

import static org.factrl.engine.Native.checkArgument;
import static org.factrl.engine.Native.checkNotNull;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.factrl.engine.DType;
import org.factrl.engine.FactRlException;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.model.io.IfExists;
import org.factrl.model.io.SafeTensors;

/**
 * A {@link LlavaModel}'s named heads and the state of its last head pass: the hidden states the
 * forward wrote (the head's backward reads them), a copy of the pass's end indices or mask (so the
 * caller may close theirs), and the d hidden buffer the backward hands to the model's backward.
 * These scratch tensors are kept at the last pass's exact shape and reused while it stays the same;
 * their bytes are the memory plan's "head activations".
 */
final class HeadSet {
  /** Metadata key of a head file naming its kind (the tensor names say it too). */
  static final String KIND_KEY = "factrl.head";

  private final LlavaModel model;
  private final Map<String, Head> heads = new LinkedHashMap<>();
  private Tensor hidden;
  private Tensor dHidden;
  private Tensor index;  // I32 [B] end indices (reward) or [B, S] mask (value)
  private boolean hasMask;  // false: the value pass had no mask
  private Head lastHead;
  private long lastForward = -1;  // the model's forward count after the head pass's forward
  private boolean lastTrain;

  HeadSet(LlavaModel model) {
    this.model = model;
  }

  // ---- named heads --------------------------------------------------------------------------

  Head add(String name, HeadKind kind) {
    checkNotNull(name, "name");
    checkNotNull(kind, "kind");
    checkArgument(!name.isEmpty(), "name", "is empty");
    checkArgument(!heads.containsKey(name), "name", "a head '%s' already exists", name);
    Head h = Head.create(model, name, kind);
    heads.put(name, h);
    return h;
  }

  Head get(String name) {
    checkNotNull(name, "name");
    Head h = heads.get(name);
    if (h == null) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "argument 'head': no head '" + name + "' (have "
          + heads.keySet() + ")");
    }
    return h;
  }

  Set<String> names() {
    return Collections.unmodifiableSet(heads.keySet());
  }

  Map<String, Head> all() {
    return Collections.unmodifiableMap(heads);
  }

  void remove(String name) {
    Head h = get(name);
    if (h == lastHead) {
      lastHead = null;
    }
    h.free();
    heads.remove(name);
  }

  /** The head's blob as a safetensors file: its two HF-named tensors, the kind in the metadata. */
  void save(String name, Path file, IfExists ifExists) {
    Head h = get(name);
    checkNotNull(file, "file");
    checkNotNull(ifExists, "ifExists");
    SafeTensors.write(file, h.params(), Map.of("format", "pt", KIND_KEY, h.kind().name()), ifExists);
  }

  /** A new head from a file {@link #save} wrote: the kind from its tensor names; names and shapes checked first. */
  Head load(String name, Path file) {
    checkNotNull(name, "name");
    checkNotNull(file, "file");
    checkArgument(!heads.containsKey(name), "name", "a head '%s' already exists", name);
    SafeTensors st = SafeTensors.read(file);
    HeadKind kind = null;
    for (String n : st.names()) {
      HeadKind k = HeadKind.ofWeightName(n);
      kind = k != null ? k : kind;
    }
    if (kind == null) {
      throw new FactRlException(file + ": holds no head weight (" + HeadKind.REWARD.weightName() + " or "
          + HeadKind.VALUE.weightName() + "); it has " + st.names());
    }
    Head h = add(name, kind);
    try {
      st.loadInto(h.params());  // every name, type and shape checked before a byte is read
      return h;
    } catch (RuntimeException e) {
      remove(name);
      throw e;
    }
  }

  // ---- head passes --------------------------------------------------------------------------

  /** Forward under {@code adapter}, then the reward head at endIndex: a new [B] tensor. */
  Tensor score(String adapter, String headName, LlavaModel.Inputs inputs, Tensor endIndex, boolean train) {
    Head h = get(headName);
    h.requireKind(HeadKind.REWARD);
    checkNotNull(endIndex, "endIndex");
    long[] bs = batchShape(inputs);
    forwardHidden(adapter, inputs, bs, train);
    Tensor scores = model.device().zeros(DType.F32, bs[0]);
    try {
      h.rewardHead().forward(hidden, endIndex, scores);
      index = keep(index, endIndex);
    } catch (RuntimeException e) {
      scores.close();
      lastHead = null;
      throw e;
    }
    hasMask = true;
    remember(h, train);
    return scores;
  }

  /** Forward under {@code adapter}, then the value head at every (unmasked) position: a new [B, S] tensor. */
  Tensor values(String adapter, String headName, LlavaModel.Inputs inputs, Tensor mask, boolean train) {
    Head h = get(headName);
    h.requireKind(HeadKind.VALUE);
    long[] bs = batchShape(inputs);
    forwardHidden(adapter, inputs, bs, train);
    Tensor values = model.device().zeros(DType.F32, bs[0], bs[1]);
    try {
      h.valueHead().forward(hidden, mask, values);
      if (mask != null) {
        index = keep(index, mask);
      }
    } catch (RuntimeException e) {
      values.close();
      lastHead = null;
      throw e;
    }
    hasMask = mask != null;
    remember(h, train);
    return values;
  }

  /**
   * The backward of the last {@link #score} / {@link #values} pass made with train: the head's
   * gradients into headGrads (or none when null), d hidden into the model's backward (skipped when
   * no base group and no adapter gradients are asked for: head-only training never runs the
   * decoder's backward).
   */
  void backward(Tensor dOut, ParameterBlob headGrads, ParameterBlob baseGrads, Set<ParamGroup> baseGroups,
      ParameterBlob adapterGrads, GradMode mode) {
    checkNotNull(dOut, "dOut");
    checkNotNull(baseGroups, "baseGroups");
    checkNotNull(mode, "mode");
    if (lastHead == null) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "no head pass to take the backward of (call score"
          + " or values with train = true first)");
    }
    checkArgument(lastTrain, "train", "the last head pass ran with train = false; its backward needs train = true");
    checkArgument(model.forwardCount() == lastForward, "model", "ran another forward after the head pass"
        + " (head '%s'); the backward needs that pass's activations", lastHead.name());
    Head h = lastHead;
    boolean throughModel = baseGrads != null || adapterGrads != null;
    checkArgument(baseGrads != null || baseGroups.isEmpty(), "baseGroups", "names %s but baseGrads is null",
        baseGroups);
    if (headGrads != null) {
      checkArgument(headGrads.names().equals(h.params().names()), "headGrads",
          "has entries %s, head '%s' has %s (make it with head.params().likeThis())", headGrads.names(), h.name(),
          h.params().names());
      checkArgument(Arrays.equals(headGrads.tensor(h.kind().weightName()).shape(),
          h.params().tensor(h.kind().weightName()).shape()), "headGrads", "has a weight of shape %s, head '%s' %s",
          Arrays.toString(headGrads.tensor(h.kind().weightName()).shape()), h.name(),
          Arrays.toString(h.params().tensor(h.kind().weightName()).shape()));
    }
    Tensor dW = headGrads == null ? null : headGrads.tensor(h.kind().weightName()).view(h.width());
    try {
      Tensor dB = headGrads == null ? null : headGrads.tensor(h.kind().biasName());
      Tensor dH = throughModel ? dHidden : null;
      if (h.kind() == HeadKind.REWARD) {
        h.rewardHead().backward(hidden, index, dOut, dH, GradMode.OVERWRITE, dW, dB, mode);
      } else {
        h.valueHead().backward(hidden, hasMask ? index : null, dOut, dH, GradMode.OVERWRITE, dW, dB, mode);
      }
    } finally {
      if (dW != null) {
        dW.close();
      }
    }
    if (throughModel) {
      model.backward(null, dHidden, baseGrads, baseGroups, adapterGrads, mode);
    }
  }

  private static long[] batchShape(LlavaModel.Inputs inputs) {
    checkNotNull(inputs, "inputs");
    Tensor ids = inputs.inputIds();
    checkArgument(ids.ndim() == 2, "inputIds", "must be 2-D [B, S], got shape %s", Arrays.toString(ids.shape()));
    return ids.shape();
  }

  private void forwardHidden(String adapter, LlavaModel.Inputs inputs, long[] bs, boolean train) {
    lastHead = null;
    long d = model.config().hidden();
    long[] shape = {bs[0], bs[1], d};
    if (hidden == null || !Arrays.equals(hidden.shape(), shape)) {
      freeScratch();
      hidden = model.device().zeros(DType.F32, shape);
    }
    if (train && dHidden == null) {
      dHidden = model.device().zeros(DType.F32, shape);
    }
    model.forward(adapter, inputs, new LlavaModel.Outputs(null, hidden, null), train);
  }

  /** A scratch copy of {@code src} (reallocated only when its shape changes). */
  private Tensor keep(Tensor scratch, Tensor src) {
    checkArgument(src.dtype() == DType.I32, src.ndim() == 1 ? "endIndex" : "mask", "must be I32, got %s", src.dtype());
    Tensor out = scratch;
    if (out == null || !Arrays.equals(out.shape(), src.shape())) {
      if (out != null) {
        out.close();
      }
      index = null;
      out = model.device().zeros(DType.I32, src.shape());
    }
    try {
      out.copyFrom(src);
    } catch (RuntimeException e) {
      out.close();
      index = null;
      throw e;
    }
    return out;
  }

  private void remember(Head h, boolean train) {
    lastHead = h;
    lastTrain = train;
    lastForward = model.forwardCount();
  }

  /** Bytes of the scratch tensors now held (hidden, d hidden, the index copy). */
  long scratchBytes() {
    return bytesOf(hidden) + bytesOf(dHidden) + bytesOf(index);
  }

  /** Bytes of all heads' blobs. */
  long headBytes() {
    long sum = 0;
    for (Head h : heads.values()) {
      sum += h.bytes();
    }
    return sum;
  }

  private static long bytesOf(Tensor t) {
    return t == null ? 0 : t.numel() * t.dtype().bytes();
  }

  private void freeScratch() {
    for (Tensor t : new Tensor[] {hidden, dHidden, index}) {
      if (t != null) {
        t.close();
      }
    }
    hidden = null;
    dHidden = null;
    index = null;
    lastHead = null;
  }

  /** Frees the scratch and every head (the model's close). */
  void close() {
    freeScratch();
    for (Head h : heads.values()) {
      h.free();
    }
    heads.clear();
  }
}

package org.factrl.train;

import static org.factrl.engine.Native.check;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.bytedeco.javacpp.DoublePointer;
import org.factrl.bindings.OptimNative;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Native;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.model.io.IfExists;
import org.factrl.model.io.SafeTensors;
import org.factrl.model.io.SafeTensorsDType;
import org.factrl.model.io.SafeTensorsEntry;

/**
 * AdamW over a chosen trainable set — one or more (parameter blob, gradient blob) pairs — with
 * global-norm gradient clipping and a learning-rate schedule, PyTorch semantics
 * ({@code clip_grad_norm_} then {@code torch.optim.AdamW.step()}, math in
 * {@code native/include/factrl/optim.h}). The moments m and v live in two F32 blobs per pair, laid
 * out like the parameter blob, owned by this object.
 *
 * <p>{@link #step()}: the global gradient norm over every gradient blob (fixed-order double sum,
 * bitwise reproducible), the clip factor {@code min(1, maxGradNorm / (norm + 1e-6))}, the rate
 * {@code schedule.lr(k)} for the k-th step (0-based; bias correction uses t = k + 1), then one
 * native update per run of consecutive blob entries that share the decay choice: one call for the
 * whole blob when no entry is excluded from weight decay, a few when biases or norm weights are
 * (each run is a slice of the blob's flat view; the alignment padding inside it is zero in every
 * blob and stays zero). A non-finite gradient norm throws and changes nothing.
 *
 * <p>{@link #saveState} / {@link #loadState}: m and v as {@code exp_avg.<name>} and
 * {@code exp_avg_sq.<name>} in a safetensors file (written atomically), the step count in its
 * metadata ({@code step}); save it beside the weights, and a run resumed from both takes the same
 * next step bit for bit. Close the optimizer before the blobs' device.
 */
public final class AdamW implements AutoCloseable {
  /** The ε PyTorch's {@code clip_grad_norm_} adds to the norm before dividing. */
  public static final double CLIP_EPS = 1e-6;
  /** Metadata keys of the state file. */
  public static final String STEP_KEY = "step";
  public static final String FORMAT_KEY = "format";
  public static final String FORMAT = "factrl.adamw.v1";

  /** A parameter blob and the gradient blob of the same layout that the backward pass fills. */
  public record Trainable(ParameterBlob params, ParameterBlob grads) {
    public Trainable {
      Native.checkNotNull(params, "params");
      Native.checkNotNull(grads, "grads");
    }
  }

  /** What one step did: its 1-based index, the rate, the gradient norm before clipping, the factor the gradients were scaled by. */
  public record StepStats(long step, double lr, double gradNorm, double gradScale, boolean clipped) {}

  /** Consecutive entries [first element, first + length) of a blob's flat view with one decay choice. */
  private record Run(long start, long length, boolean decay) {}

  private final AdamWConfig config;
  private final Device device;
  private final List<Trainable> trainables;
  private final List<ParameterBlob> expAvg = new ArrayList<>();
  private final List<ParameterBlob> expAvgSq = new ArrayList<>();
  private final List<List<Run>> runs = new ArrayList<>();
  private long steps;
  private boolean closed;

  private AdamW(AdamWConfig config, List<Trainable> trainables) {
    this.config = config;
    this.trainables = List.copyOf(trainables);
    this.device = this.trainables.get(0).params().device();
    try {
      for (Trainable t : this.trainables) {
        expAvg.add(t.params().likeThis());
        expAvgSq.add(t.params().likeThis());
        runs.add(runsOf(t.params()));
      }
    } catch (RuntimeException e) {
      closeMoments();
      throw e;
    }
  }

  /** AdamW over {@code trainables}: every entry F32, names distinct across all pairs, one device. */
  public static AdamW over(AdamWConfig config, List<Trainable> trainables) {
    Native.checkNotNull(config, "config");
    Native.checkNotNull(trainables, "trainables");
    Native.checkArgument(!trainables.isEmpty(), "trainables", "is empty");
    Set<String> seen = new HashSet<>();
    Device device = null;
    for (int i = 0; i < trainables.size(); i++) {
      Trainable t = Native.checkNotNull(trainables.get(i), "trainables[" + i + "]");
      String where = "trainables[" + i + "]";
      Native.checkArgument(!t.params().isClosed(), where, "params blob is closed");
      Native.checkArgument(!t.grads().isClosed(), where, "grads blob is closed");
      Native.checkArgument(t.params() != t.grads(), where, "params and grads are the same blob");
      device = device == null ? t.params().device() : device;
      Native.checkArgument(t.params().device() == device && t.grads().device() == device, where,
          "is on another device than trainables[0] (%s)", device);
      checkSameLayout(t.params(), t.grads(), where);
      for (String name : t.params().names()) {
        Native.checkArgument(t.params().tensor(name).dtype() == DType.F32, where,
            "entry '%s' is %s; AdamW updates F32 entries", name, t.params().tensor(name).dtype());
        Native.checkArgument(seen.add(name), where, "entry '%s' also appears in an earlier blob (state names must be unique)", name);
      }
    }
    return new AdamW(config, trainables);
  }

  /** AdamW over one parameter blob and its gradients. */
  public static AdamW over(AdamWConfig config, ParameterBlob params, ParameterBlob grads) {
    return over(config, List.of(new Trainable(params, grads)));
  }

  private static void checkSameLayout(ParameterBlob params, ParameterBlob grads, String where) {
    Native.checkArgument(params.names().equals(grads.names()), where,
        "grads blob has entries %s, params blob %s (same names in the same order required)", grads.names(), params.names());
    for (String name : params.names()) {
      Tensor p = params.tensor(name);
      Tensor g = grads.tensor(name);
      Native.checkArgument(p.dtype() == g.dtype() && Arrays.equals(p.shape(), g.shape())
          && params.byteOffset(name) == grads.byteOffset(name), where,
          "entry '%s' is %s %s in params but %s %s in grads", name, p.dtype(), Arrays.toString(p.shape()), g.dtype(),
          Arrays.toString(g.shape()));
    }
    Native.checkArgument(params.bytes() == grads.bytes(), where, "grads blob has %d bytes, params blob %d",
        grads.bytes(), params.bytes());
  }

  /** Runs of consecutive entries with the same decay choice, as element ranges of the flat F32 view. */
  private List<Run> runsOf(ParameterBlob params) {
    List<Run> out = new ArrayList<>();
    long start = -1;
    long end = 0;
    boolean decay = false;
    for (String name : params.names()) {
      long numel = params.tensor(name).numel();
      if (numel == 0) {
        continue;
      }
      long first = params.byteOffset(name) / DType.F32.bytes();
      boolean d = !config.excludedFromDecay(name);
      if (start >= 0 && d != decay) {
        out.add(new Run(start, end - start, decay));
        start = -1;
      }
      if (start < 0) {
        start = first;
        decay = d;
      }
      end = first + numel;
    }
    if (start >= 0) {
      out.add(new Run(start, end - start, decay));
    }
    return List.copyOf(out);
  }

  /** The global L2 norm of every gradient blob (padding is zero and adds nothing). */
  public double gradNorm() {
    checkOpen();
    double sum = 0;
    try (DoublePointer out = new DoublePointer(1)) {
      for (Trainable t : trainables) {
        try (Tensor flat = t.grads().flat(DType.F32)) {
          check(OptimNative.frl_sum_squares(device.handle(), flat.handle("grads"), out));
          sum += out.get();
        }
      }
    }
    return Math.sqrt(sum);
  }

  /** One optimizer step over every trainable from the gradients in the grad blobs (which it leaves unchanged). */
  public StepStats step() {
    checkOpen();
    double norm = gradNorm();
    if (!Double.isFinite(norm)) {
      throw new FactRlException("AdamW step " + (steps + 1) + ": the gradient norm is " + norm
          + " (a NaN or infinite gradient); nothing was updated");
    }
    double scale = 1.0;
    boolean clipped = false;
    if (config.clips()) {
      double coef = config.maxGradNorm() / (norm + CLIP_EPS);
      clipped = coef < 1.0;
      scale = Math.min(1.0, coef);
    }
    double lr = config.schedule().lr(steps);
    long t = steps + 1;
    for (int i = 0; i < trainables.size(); i++) {
      update(trainables.get(i), expAvg.get(i), expAvgSq.get(i), runs.get(i), lr, t, (float) scale);
    }
    steps = t;
    return new StepStats(t, lr, norm, scale, clipped);
  }

  private void update(Trainable tr, ParameterBlob m, ParameterBlob v, List<Run> blobRuns, double lr, long t, float scale) {
    try (Tensor pf = tr.params().flat(DType.F32);
        Tensor gf = tr.grads().flat(DType.F32);
        Tensor mf = m.flat(DType.F32);
        Tensor vf = v.flat(DType.F32)) {
      for (Run run : blobRuns) {
        try (Tensor p = pf.narrow(0, run.start(), run.length());
            Tensor g = gf.narrow(0, run.start(), run.length());
            Tensor mm = mf.narrow(0, run.start(), run.length());
            Tensor vv = vf.narrow(0, run.start(), run.length())) {
          check(OptimNative.frl_adamw_step(device.handle(), p.handle("param"), g.handle("grad"), mm.handle("exp_avg"),
              vv.handle("exp_avg_sq"), lr, config.beta1(), config.beta2(), config.eps(),
              run.decay() ? config.weightDecay() : 0.0, t, scale));
        }
      }
    }
  }

  /** Bytes of the moment blobs m and v (what the device holds for the optimizer's state). */
  public long stateBytes() {
    checkOpen();
    long sum = 0;
    for (ParameterBlob b : concat(expAvg, expAvgSq)) {
      sum += b.bytes();
    }
    return sum;
  }

  /** Steps taken so far (restored by {@link #loadState}). */
  public long steps() {
    return steps;
  }

  public AdamWConfig config() {
    return config;
  }

  /** The first moment of entry {@code name} (belongs to the optimizer; do not close). */
  public Tensor expAvg(String name) {
    return moment(expAvg, name);
  }

  /** The second moment of entry {@code name} (belongs to the optimizer; do not close). */
  public Tensor expAvgSq(String name) {
    return moment(expAvgSq, name);
  }

  private Tensor moment(List<ParameterBlob> blobs, String name) {
    checkOpen();
    Native.checkNotNull(name, "name");
    for (ParameterBlob b : blobs) {
      if (b.contains(name)) {
        return b.tensor(name);
      }
    }
    throw new FactRlException(FactRlException.Status.ARGUMENT, "argument 'name': no trainable entry named '" + name + "'");
  }

  /** The state tensors by file name, in file order: every exp_avg, then every exp_avg_sq. */
  private Map<String, Tensor> stateTensors() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (String prefix : new String[] {"exp_avg.", "exp_avg_sq."}) {
      List<ParameterBlob> blobs = prefix.equals("exp_avg.") ? expAvg : expAvgSq;
      for (ParameterBlob b : blobs) {
        for (String name : b.names()) {
          out.put(prefix + name, b.tensor(name));
        }
      }
    }
    return out;
  }

  /**
   * Writes m, v and the step count to {@code file} (safetensors, atomic; the hyperparameters go
   * into the metadata for the record). Refuses to replace a file unless {@code ifExists} is REPLACE.
   */
  public void saveState(Path file, IfExists ifExists) {
    checkOpen();
    Native.checkNotNull(file, "file");
    Native.checkNotNull(ifExists, "ifExists");
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put(FORMAT_KEY, FORMAT);
    meta.put(STEP_KEY, Long.toString(steps));
    meta.put("config", config.toString());
    SafeTensors.write(file, stateTensors(), meta, ifExists);
  }

  /**
   * Restores m, v and the step count from a file {@link #saveState} wrote for the same trainable
   * set. Every name, type and shape is checked before anything is read, so a file that does not fit
   * leaves the optimizer as it was; the error names the file, the tensor and both shapes.
   */
  public void loadState(Path file) {
    checkOpen();
    Native.checkNotNull(file, "file");
    SafeTensors st = SafeTensors.read(file);
    String stepText = st.metadata().get(STEP_KEY);
    if (stepText == null) {
      throw new FactRlException(file + ": no '" + STEP_KEY + "' in the metadata (not an AdamW state file?)");
    }
    long restored;
    try {
      restored = Long.parseLong(stepText);
    } catch (NumberFormatException e) {
      throw new FactRlException(file + ": metadata '" + STEP_KEY + "' is '" + stepText + "', not a step count", e);
    }
    if (restored < 0) {
      throw new FactRlException(file + ": metadata '" + STEP_KEY + "' is negative (" + restored + ")");
    }
    Map<String, Tensor> want = stateTensors();
    TreeSet<String> missing = new TreeSet<>(want.keySet());
    missing.removeAll(st.names());
    TreeSet<String> unexpected = new TreeSet<>(st.names());
    unexpected.removeAll(want.keySet());
    if (!missing.isEmpty() || !unexpected.isEmpty()) {
      throw new FactRlException(file + ": optimizer state does not fit the trainable set: " + missing.size()
          + " tensors missing from the file " + firstFew(missing) + ", " + unexpected.size()
          + " not in the trainable set " + firstFew(unexpected));
    }
    for (Map.Entry<String, Tensor> e : want.entrySet()) {
      SafeTensorsEntry entry = st.entry(e.getKey());
      Tensor t = e.getValue();
      if (entry.dtype() != SafeTensorsDType.F32 || !Arrays.equals(entry.shape(), t.shape())) {
        throw new FactRlException(file + ": tensor '" + e.getKey() + "' is " + entry.dtype() + " "
            + Arrays.toString(entry.shape()) + " in the file, but the optimizer's is F32 " + Arrays.toString(t.shape()));
      }
    }
    for (Map.Entry<String, Tensor> e : want.entrySet()) {
      st.load(e.getKey(), e.getValue());
    }
    steps = restored;
  }

  private static String firstFew(TreeSet<String> names) {
    List<String> few = new ArrayList<>();
    for (String n : names) {
      if (few.size() == 5) {
        few.add("...");
        break;
      }
      few.add("'" + n + "'");
    }
    return few.toString();
  }

  private void checkOpen() {
    if (closed) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "AdamW optimizer is closed");
    }
  }

  private void closeMoments() {
    RuntimeException first = null;
    for (ParameterBlob b : concat(expAvg, expAvgSq)) {
      try {
        b.close();
      } catch (RuntimeException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private static List<ParameterBlob> concat(List<ParameterBlob> a, List<ParameterBlob> b) {
    List<ParameterBlob> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  /** Frees the moment blobs (the trainables stay the caller's). */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      closeMoments();
    }
  }

  @Override
  public String toString() {
    return "AdamW{" + config + ", " + trainables.size() + " blobs, " + steps + " steps}";
  }
}

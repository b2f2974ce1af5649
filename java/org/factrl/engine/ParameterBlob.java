package org.factrl.engine;

import static org.factrl.engine.Native.check;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.factrl.bindings.FactRlCore;
import org.factrl.bindings.FactRlCore.frl_tensor;
import org.factrl.bindings.ViewNative;
import org.factrl.bindings.ViewNative.frl_blob;

/**
 * Many named tensors in one zero-filled allocation: every weight of a model (HF names such as
 * {@code model.layers.0.self_attn.q_proj.weight}), and — with {@link #likeThis()} — its gradients
 * and optimizer moments in blobs of the same layout. Entries keep the order they were added in,
 * each at an offset aligned to {@value ViewNative#FRL_ALIGN_BYTES} bytes.
 *
 * <p>{@link #tensor(String)} returns the entry as a {@link Tensor} that belongs to the blob: do not
 * close it (its {@code close()} does nothing); it becomes unusable when the blob closes. Views made
 * from it ({@code reshape}, {@code narrow}) are ordinary views and must be closed before the blob:
 * closing a blob with open views throws {@link FactRlException} and leaves it open.
 * {@link Device#bytesInUse()} counts the blob once ({@link #bytes()}, padding included).
 */
public final class ParameterBlob implements AutoCloseable {
  private final Device device;
  private final List<String> names;
  private final Map<String, Tensor> tensors;
  private final long bytes;
  /** False for a blob that a native object owns (a model's parameters or adapter set). */
  private final boolean owned;
  private frl_blob handle;
  private String closedBecause = "is closed";

  private ParameterBlob(Device device, frl_blob handle) {
    this(device, handle, true);
  }

  private ParameterBlob(Device device, frl_blob handle, boolean owned) {
    this.device = device;
    this.handle = handle;
    this.owned = owned;
    try (LongPointer out = new LongPointer(1); PointerPointer<BytePointer> name = new PointerPointer<>(1)) {
      check(ViewNative.frl_blob_count(handle, out));
      long count = out.get();
      check(ViewNative.frl_blob_bytes(handle, out));
      this.bytes = out.get();
      List<String> order = new ArrayList<>();
      Map<String, Tensor> byName = new LinkedHashMap<>();
      for (long i = 0; i < count; i++) {
        check(ViewNative.frl_blob_name(handle, i, name));
        String n = name.get(BytePointer.class, 0).getString();
        frl_tensor t = new frl_tensor();
        check(ViewNative.frl_blob_tensor_at(handle, i, t));
        DType dtype = dtypeOf(t);
        order.add(n);
        byName.put(n, Tensor.wrap(device, dtype, t, Tensor.Kind.BLOB_ENTRY));
      }
      this.names = Collections.unmodifiableList(order);
      this.tensors = Collections.unmodifiableMap(byName);
    }
  }

  private static DType dtypeOf(frl_tensor t) {
    try (IntPointer out = new IntPointer(1)) {
      check(ViewNative.frl_tensor_dtype(t, out));
      return DType.values()[out.get()];
    }
  }

  /**
   * Wraps a blob that a native object owns and frees (a model's parameters or an adapter set), for
   * wrappers such as {@code LlavaModel}; not an API for users. Its {@link #close()} does nothing;
   * the owner calls {@link #release(String)} when the native blob goes away.
   */
  public static ParameterBlob borrowed(Device device, frl_blob handle) {
    Native.checkNotNull(device, "device");
    Native.checkNotNull(handle, "handle");
    return new ParameterBlob(device, handle, false);
  }

  /**
   * For the owner of a {@link #borrowed} blob, once the native blob is freed: drops the handle
   * without freeing it; later use fails saying {@code because}.
   */
  public void release(String because) {
    Native.checkArgument(!owned, "this", "is an owned blob: close() it instead");
    handle = null;
    closedBecause = because;
    for (Tensor t : tensors.values()) {
      t.invalidate("belongs to a parameter blob that " + because);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Collects entries (name, dtype, shape) in layout order; {@link #build} allocates the blob. */
  public static final class Builder {
    private final LinkedHashMap<String, Object[]> entries = new LinkedHashMap<>();

    private Builder() {}

    public Builder add(String name, DType dtype, long... shape) {
      Native.checkNotNull(name, "name");
      Native.checkNotNull(dtype, "dtype");
      Native.checkNotNull(shape, "shape");
      Native.checkArgument(!name.isEmpty(), "name", "is empty");
      Native.checkArgument(!entries.containsKey(name), "name", "'%s' was already added", name);
      Native.checkArgument(shape.length <= FactRlCore.FRL_MAX_DIMS, "shape",
          "of '%s' has %d dimensions, at most %d allowed", name, shape.length, FactRlCore.FRL_MAX_DIMS);
      for (int i = 0; i < shape.length; i++) {
        Native.checkArgument(shape[i] >= 0, "shape", "of '%s': dimension %d is negative (%d)", name, i, shape[i]);
      }
      entries.put(name, new Object[] {dtype, shape.clone()});
      return this;
    }

    /** Allocates the blob on {@code device}, zero-filled. */
    public ParameterBlob build(Device device) {
      Native.checkNotNull(device, "device");
      int n = entries.size();
      frl_blob out = new frl_blob();
      try (PointerPointer<BytePointer> names = new PointerPointer<>(Math.max(1, n));
          IntPointer dtypes = new IntPointer(Math.max(1, n));
          IntPointer ndims = new IntPointer(Math.max(1, n));
          LongPointer shapes = new LongPointer(Math.max(1, (long) n * FactRlCore.FRL_MAX_DIMS))) {
        List<BytePointer> keep = new ArrayList<>();
        int i = 0;
        for (Map.Entry<String, Object[]> e : entries.entrySet()) {
          BytePointer name = new BytePointer(e.getKey(), java.nio.charset.StandardCharsets.UTF_8);
          keep.add(name);
          names.put(i, name);
          dtypes.put(i, ((DType) e.getValue()[0]).code());
          long[] shape = (long[]) e.getValue()[1];
          ndims.put(i, shape.length);
          for (int d = 0; d < shape.length; d++) {
            shapes.put((long) i * FactRlCore.FRL_MAX_DIMS + d, shape[d]);
          }
          i++;
        }
        try {
          check(ViewNative.frl_blob_create(device.handle(), n, names, dtypes, ndims, shapes, out));
        } finally {
          keep.forEach(BytePointer::close);
        }
      }
      return new ParameterBlob(device, out);
    }
  }

  /** A new zero-filled blob with this layout (names, dtypes, shapes, offsets): gradients, moments. */
  public ParameterBlob likeThis() {
    frl_blob out = new frl_blob();
    check(ViewNative.frl_blob_create_like(handle(), out));
    return new ParameterBlob(device, out);
  }

  /**
   * The whole blob as one contiguous 1-D tensor of {@code bytes() / dtype.bytes()} elements,
   * alignment padding included (zero unless written through this view): zero all gradients with one
   * {@code fillZero()}, or update all parameters with one element-wise call when every entry has
   * this dtype. A view: close it before the blob.
   */
  public Tensor flat(DType dtype) {
    Native.checkNotNull(dtype, "dtype");
    frl_tensor out = new frl_tensor();
    check(ViewNative.frl_blob_flat(handle(), dtype.code(), out));
    return Tensor.wrap(device, dtype, out, Tensor.Kind.VIEW);
  }

  /** The named entry (belongs to the blob; do not close). */
  public Tensor tensor(String name) {
    Native.checkNotNull(name, "name");
    handle();
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new FactRlException(FactRlException.Status.ARGUMENT,
          "argument 'name': the blob has no tensor named '" + name + "' (" + names.size() + " entries)");
    }
    return t;
  }

  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  /** Entry names in layout order (immutable). */
  public List<String> names() {
    return names;
  }

  /** Byte offset of the named entry from the blob's start. */
  public long byteOffset(String name) {
    tensor(name);
    try (LongPointer out = new LongPointer(1)) {
      check(ViewNative.frl_blob_entry_offset(handle(), names.indexOf(name), out));
      return out.get();
    }
  }

  /** Total bytes of the blob's one allocation (entries plus alignment padding). */
  public long bytes() {
    return bytes;
  }

  public Device device() {
    return device;
  }

  private frl_blob handle() {
    if (handle == null) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "parameter blob of " + names.size() + " tensors "
          + closedBecause);
    }
    return handle;
  }

  /**
   * The native handle of this blob passed as {@code argument} of an operation (for wrappers such as
   * {@code LlavaModel}); a closed blob is an error naming the argument.
   */
  public frl_blob handle(String argument) {
    if (handle == null) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "argument '" + argument + "' is closed (parameter blob of "
          + names.size() + " tensors " + closedBecause + ")");
    }
    return handle;
  }

  /** False for a blob a native object owns ({@link #borrowed}): closing it does nothing. */
  public boolean isOwned() {
    return owned;
  }

  public boolean isClosed() {
    return handle == null;
  }

  /**
   * Frees the blob and its named tensors. Throws {@link FactRlException} and stays open while views
   * of it are open. Does nothing for a {@link #borrowed} blob (its owner frees it).
   */
  @Override
  public void close() {
    if (handle != null && owned) {
      check(ViewNative.frl_blob_destroy(handle));
      handle = null;
      for (Tensor t : tensors.values()) {
        t.invalidate("belongs to a parameter blob that was closed");
      }
    }
  }

  @Override
  public String toString() {
    return "ParameterBlob(" + names.size() + " tensors, " + bytes + " bytes) on " + device;
  }
}

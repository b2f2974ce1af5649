package org.factrl.engine;

import static org.factrl.engine.Native.check;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.LongPointer;
import org.factrl.bindings.FactRlCore;
import org.factrl.bindings.FactRlCore.frl_tensor;
import org.factrl.bindings.ViewNative;
import org.factrl.bindings.ViewNative.frl_arena;

/**
 * One allocation for a step's activations, llm.c style: planned once per shape (sum
 * {@link #bytesFor} over the step's tensors), handed out front to back by {@link #allocate}, and
 * taken back whole by {@link #reset()} once per step — no allocation or free inside the loop.
 * {@link Device#bytesInUse()} counts the full capacity.
 *
 * <p>Tensors from the arena are views; {@link #reset()} invalidates all of them at once (their
 * memory is handed out again). Using one from before the last reset in an op or a read throws a
 * {@link FactRlException} naming the argument (the engine checks a generation counter); tensors
 * from before the last-but-one reset are closed by the arena (their use says "closed: its arena
 * was reset"), so handles do not pile up over steps. Closing an arena tensor early is fine. Closing
 * the arena closes the tensors it handed out; it throws, and stays open, while other views of its
 * memory (e.g. a {@code reshape} of an arena tensor) are open.
 */
public final class ActivationArena implements AutoCloseable {
  private final Device device;
  private final long capacity;
  private frl_arena handle;
  private List<Tensor> current = new ArrayList<>();  // handed out since the last reset
  private List<Tensor> previous = new ArrayList<>(); // handed out before it (stale, still open)

  private ActivationArena(Device device, long capacity, frl_arena handle) {
    this.device = device;
    this.capacity = capacity;
    this.handle = handle;
  }

  /** An arena of {@code capacityBytes} on {@code device}. */
  public static ActivationArena create(Device device, long capacityBytes) {
    Native.checkNotNull(device, "device");
    Native.checkArgument(capacityBytes >= 0, "capacityBytes", "must be >= 0, got %d", capacityBytes);
    frl_arena out = new frl_arena();
    check(ViewNative.frl_arena_create(device.handle(), capacityBytes, out));
    return new ActivationArena(device, capacityBytes, out);
  }

  /** Bytes one {@link #allocate} of this dtype and shape takes (rounded up to the alignment). */
  public static long bytesFor(DType dtype, long... shape) {
    Native.checkNotNull(dtype, "dtype");
    Native.checkNotNull(shape, "shape");
    Native.checkArgument(shape.length <= FactRlCore.FRL_MAX_DIMS, "shape",
        "at most %d dimensions, got %d", FactRlCore.FRL_MAX_DIMS, shape.length);
    try (LongPointer dims = new LongPointer(Math.max(1, shape.length)); LongPointer out = new LongPointer(1)) {
      dims.put(shape, 0, shape.length);
      check(ViewNative.frl_arena_bytes_for(dtype.code(), shape.length, dims, out));
      return out.get();
    }
  }

  /**
   * The next block as a contiguous tensor (contents unspecified: whatever the arena held). Throws
   * {@link FactRlException} ({@code MEMORY}) when the capacity is exceeded.
   */
  public Tensor allocate(DType dtype, long... shape) {
    Native.checkNotNull(dtype, "dtype");
    Native.checkNotNull(shape, "shape");
    Native.checkArgument(shape.length <= FactRlCore.FRL_MAX_DIMS, "shape",
        "at most %d dimensions, got %d", FactRlCore.FRL_MAX_DIMS, shape.length);
    frl_tensor out = new frl_tensor();
    try (LongPointer dims = new LongPointer(Math.max(1, shape.length))) {
      dims.put(shape, 0, shape.length);
      check(ViewNative.frl_arena_allocate(handle(), dtype.code(), shape.length, dims, out));
    }
    Tensor t = Tensor.wrap(device, dtype, out, Tensor.Kind.VIEW);
    current.add(t);
    return t;
  }

  /** Takes the whole capacity back: every tensor allocated so far becomes invalid. */
  public void reset() {
    check(ViewNative.frl_arena_reset(handle()));
    closeAll(previous, "was allocated from an activation arena that has been reset since; allocate it again");
    previous = current;
    current = new ArrayList<>();
  }

  private static void closeAll(List<Tensor> tensors, String because) {
    for (Tensor t : tensors) {
      if (!t.isClosed()) {
        t.close();
        t.invalidate(because);
      }
    }
  }

  public long used() {
    return query(0);
  }

  public long capacity() {
    return capacity;
  }

  /** Number of resets so far. */
  public long generation() {
    return query(1);
  }

  private long query(int what) {
    try (LongPointer out = new LongPointer(1)) {
      check(what == 0 ? ViewNative.frl_arena_used(handle(), out) : ViewNative.frl_arena_generation(handle(), out));
      return out.get();
    }
  }

  public Device device() {
    return device;
  }

  private frl_arena handle() {
    if (handle == null) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "activation arena of " + capacity + " bytes is closed");
    }
    return handle;
  }

  public boolean isClosed() {
    return handle == null;
  }

  /**
   * Closes the tensors it handed out, then frees the arena. Throws {@link FactRlException} and
   * stays open while other views of its memory are open.
   */
  @Override
  public void close() {
    if (handle == null) {
      return;
    }
    closeAll(previous, "was allocated from an activation arena that was closed");
    closeAll(current, "was allocated from an activation arena that was closed");
    previous.clear();
    current.clear();
    check(ViewNative.frl_arena_destroy(handle));
    handle = null;
  }

  @Override
  public String toString() {
    return "ActivationArena(" + capacity + " bytes) on " + device;
  }
}

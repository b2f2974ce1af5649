package org.factrl.layers;

import static org.factrl.engine.Native.check;
import static org.factrl.layers.Handles.required;

import org.factrl.bindings.LayersNative;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;

/**
 * Token embedding lookup, {@code out[n, :] = table[ids[n], :]}, over {@code table [V, d]} F32 and
 * {@code ids} I32 of any shape up to 3-D (out: that shape with d appended). An id outside
 * {@code [0, V)} is rejected naming {@code ids} and the entry: on a CPU device before anything is
 * written, on a CUDA device at the next sync (the ids live on the device). The backward
 * scatter-adds {@code dout} rows into {@code dTable} in a fixed order (reproducible). Float
 * tensors F32 on a CPU device, F32 or BF16 (one dtype) on a CUDA device. Immutable; the table stays owned by the caller.
 */
public final class Embedding {
  private final Tensor table;

  private Embedding(Tensor table) {
    this.table = table;
  }

  /** An embedding over {@code table [V, d]}. */
  public static Embedding of(Tensor table) {
    Native.checkNotNull(table, "table");
    Native.checkArgument(table.ndim() == 2, "table", "must be 2-D [V, d], got %d dimensions", table.ndim());
    return new Embedding(table);
  }

  public Tensor table() {
    return table;
  }

  public long vocabSize() {
    return table.dim(0);
  }

  public long width() {
    return table.dim(1);
  }

  public void forward(Tensor ids, Tensor out) {
    check(LayersNative.frl_embedding_forward(table.device().handle(), required(ids, "ids"), table.handle("table"),
        required(out, "out")));
  }

  /** {@code dTable[v] (+)= Σ_{ids[n]=v} dOut[n]}; OVERWRITE zeroes rows of ids that do not occur. */
  public void backward(Tensor ids, Tensor dOut, Tensor dTable, GradMode mode) {
    Native.checkNotNull(mode, "mode");
    check(LayersNative.frl_embedding_backward(table.device().handle(), required(ids, "ids"),
        required(dOut, "dout"), required(dTable, "dTable"), mode.flag()));
  }

  @Override
  public String toString() {
    return "Embedding[V=" + vocabSize() + ", d=" + width() + "]";
  }
}

package org.factrl.layers;

import static org.factrl.layers.RmsNormTest.assertMessage;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.factrl.engine.ActivationArena;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.junit.jupiter.api.Test;

/**
 * One decoder-block forward written the llm.c way — weights in a parameter blob, every activation
 * in an arena, ids a row range of a bigger batch, q/k/v reshaped to heads without copies — gives
 * exactly the bits of the same calls on freshly allocated tensors (every op here reads the same
 * contiguous memory through a view: only the addressing differs). Column slices, which attention
 * cannot read, are rejected naming the argument.
 */
class LayersOnViewsTest {
  private static final int B = 2, S = 5, H = 2, D = 4, E = H * D, V = 11, F = 12;

  /** embed -> rmsnorm -> q,k,v -> rope(q,k) -> attention -> o-proj; gate/up -> swiglu. */
  private static float[][] block(Device dev, Tensor ids, Tensor positions, ParameterBlob p, Alloc alloc) {
    Tensor h = alloc.get(DType.F32, B, S, E);
    Embedding.of(p.tensor("embed")).forward(ids, h);
    Tensor n = alloc.get(DType.F32, B * S, E);
    Tensor rstd = alloc.get(DType.F32, B * S);
    RmsNorm.of(p.tensor("norm"), 1e-5f).forward(alloc.reshape(h, B * S, E), n, rstd);
    Tensor[] qkv = new Tensor[3];
    String[] names = {"q", "k", "v"};
    for (int i = 0; i < 3; i++) {
      Tensor flat = alloc.get(DType.F32, B * S, E);
      Linear.of(p.tensor(names[i]), null).forward(n, flat);
      qkv[i] = alloc.reshape(flat, B, S, H, D);
    }
    Rope rope = Rope.withBase(Rope.DEFAULT_BASE);
    Tensor qr = alloc.get(DType.F32, B, S, H, D);
    Tensor kr = alloc.get(DType.F32, B, S, H, D);
    rope.forward(qkv[0], positions, qr);
    rope.forward(qkv[1], positions, kr);
    Tensor att = alloc.get(DType.F32, B, S, H, D);
    Tensor lse = alloc.get(DType.F32, B, H, S);
    Attention.causal(D).forward(qr, kr, qkv[2], att, lse);
    Tensor o = alloc.get(DType.F32, B * S, E);
    Linear.of(p.tensor("o"), null).forward(alloc.reshape(att, B * S, E), o);
    Tensor gate = alloc.get(DType.F32, B * S, F);
    Tensor up = alloc.get(DType.F32, B * S, F);
    Linear.of(p.tensor("gate"), null).forward(o, gate);
    Linear.of(p.tensor("up"), null).forward(o, up);
    Tensor act = alloc.get(DType.F32, B * S, F);
    SwiGlu.forward(gate, up, act);
    return new float[][] {n.toFloatArray(), qr.toFloatArray(), att.toFloatArray(), lse.toFloatArray(),
        o.toFloatArray(), act.toFloatArray()};
  }

  /** Where activations come from: an arena (views) or plain tensors; closes what it made. */
  private interface Alloc extends AutoCloseable {
    Tensor get(DType dtype, long... shape);

    Tensor reshape(Tensor t, long... shape);

    @Override
    void close();
  }

  private static final class Fresh implements Alloc {
    private final Device dev;
    private final java.util.ArrayDeque<Tensor> made = new java.util.ArrayDeque<>();

    Fresh(Device dev) {
      this.dev = dev;
    }

    @Override
    public Tensor get(DType dtype, long... shape) {
      Tensor t = dev.zeros(dtype, shape);
      made.push(t);
      return t;
    }

    @Override
    public Tensor reshape(Tensor t, long... shape) {
      Tensor c = get(t.dtype(), shape);
      c.copyFrom(t);  // the copy the views avoid
      return c;
    }

    @Override
    public void close() {
      while (!made.isEmpty()) {
        made.pop().close();
      }
    }
  }

  private static final class FromArena implements Alloc {
    private final ActivationArena arena;
    private final java.util.ArrayDeque<Tensor> views = new java.util.ArrayDeque<>();

    FromArena(ActivationArena arena) {
      this.arena = arena;
    }

    @Override
    public Tensor get(DType dtype, long... shape) {
      return arena.allocate(dtype, shape);
    }

    @Override
    public Tensor reshape(Tensor t, long... shape) {
      Tensor v = t.reshape(shape);
      views.push(v);
      return v;
    }

    @Override
    public void close() {
      while (!views.isEmpty()) {
        views.pop().close();
      }
    }
  }

  @Test
  void aBlockOnBlobArenaAndRowViewsMatchesFreshTensorsExactly() {
    int[] allIds = new int[3 * B * S];
    for (int i = 0; i < allIds.length; i++) {
      allIds[i] = (i * 7 + 3) % V;
    }
    int[] pos = new int[B * S];
    for (int i = 0; i < pos.length; i++) {
      pos[i] = i % S + 2;
    }
    try (Device cpu = Device.cpu();
        ParameterBlob p = ParameterBlob.builder().add("embed", DType.F32, V, E).add("norm", DType.F32, E)
            .add("q", DType.F32, E, E).add("k", DType.F32, E, E).add("v", DType.F32, E, E).add("o", DType.F32, E, E)
            .add("gate", DType.F32, F, E).add("up", DType.F32, F, E).build(cpu);
        Tensor batch = cpu.fromInts(allIds, 3 * B, S);
        Tensor ids = batch.rows(B, B);  // the middle minibatch, no copy
        Tensor idsCopy = cpu.zeros(DType.I32, B, S);
        Tensor positions = cpu.fromInts(pos, B, S)) {
      int seed = 1;
      for (String name : p.names()) {
        Tensor t = p.tensor(name);
        t.write(uniform(seed++, (int) t.numel(), 0.5f));
      }
      idsCopy.copyFrom(ids);
      float[][] expected;
      try (Fresh fresh = new Fresh(cpu)) {
        expected = block(cpu, idsCopy, positions, p, fresh);
      }
      long plan = 0;
      for (long[] s : new long[][] {{B * S, E}, {B * S, E}, {B * S}, {B * S, E}, {B * S, E}, {B * S, E}, {B, S, H, D},
          {B, S, H, D}, {B, S, H, D}, {B, H, S}, {B * S, E}, {B * S, F}, {B * S, F}, {B * S, F}}) {
        plan += ActivationArena.bytesFor(DType.F32, s);
      }
      try (ActivationArena arena = ActivationArena.create(cpu, plan)) {
        for (int step = 0; step < 2; step++) {  // planned once, reset per step
          try (FromArena a = new FromArena(arena)) {
            float[][] got = block(cpu, ids, positions, p, a);
            for (int i = 0; i < expected.length; i++) {
              assertArrayEquals(expected[i], got[i], "output " + i + " of step " + step);
            }
          }
          assertEquals(plan, arena.used());
          arena.reset();
        }
      }
    }
  }

  @Test
  void attentionRejectsColumnSlicesNamingTheArgument() {
    try (Device cpu = Device.cpu(); Tensor qkv = cpu.fromFloats(uniform(9, B * S * 3 * E, 1f), B, S, 3 * H, D);
        Tensor q = qkv.narrow(2, 0, H); Tensor k = qkv.narrow(2, H, H); Tensor v = qkv.narrow(2, 2 * H, H);
        Tensor out = cpu.zeros(DType.F32, B, S, H, D); Tensor lse = cpu.zeros(DType.F32, B, H, S)) {
      assertMessage(() -> Attention.causal(D).forward(q, k, v, out, lse), "argument 'q' is a non-contiguous view");
    }
  }
}

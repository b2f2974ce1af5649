package org.factrl.bench;

import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.layers.Attention;
import org.factrl.testing.Numerics;
import org.factrl.testing.Torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Multi-head causal attention on the CPU: FactRL's {@link Attention} beside libtorch's
 * {@code scaled_dot_product_attention} (its CPU flash-attention kernel) on the same fp32 inputs,
 * with libtorch set to our thread count.
 *
 * <ul>
 *   <li>forward: out and lse (libtorch: sdpa under no-grad; its CPU kernel computes the
 *       log-sum-exp too).
 *   <li>forwardBackward: forward, then dq, dk, dv from dout (libtorch: sdpa + autograd
 *       {@code torch.grad}).
 * </ul>
 *
 * <p>Layouts: ours is [B, S, H, D] (the projections' output, no transpose); libtorch gets the same
 * storage viewed as [B, H, S, D] by {@code permute(0, 2, 1, 3)}, as a model would pass it (its
 * kernel takes strided inputs).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 8, time = 2)
@Fork(1)
public class AttentionBench {
  @Param({"4"})
  public int batch;

  @Param({"256", "1024"})
  public int seq;

  @Param({"8"})
  public int heads;

  @Param({"64"})
  public int headDim;

  private Device cpu;
  private Attention attention;
  private Tensor q, k, v, dout, out, lse, dq, dk, dv;

  private PointerScope torchScope;
  private org.bytedeco.pytorch.Tensor tq, tk, tv, tdout;
  private DoubleOptional tscale;

  /** Our OpenMP thread count, from the device name "cpu (N threads)". */
  static int factrlThreads(Device cpu) {
    Matcher m = Pattern.compile("\\((\\d+) threads?\\)").matcher(cpu.name());
    if (!m.find()) {
      throw new IllegalStateException("cannot read the thread count from device name " + cpu.name());
    }
    return Integer.parseInt(m.group(1));
  }

  @Setup(Level.Trial)
  public void setUp() {
    Loader.load(torch.class);
    long[] bshd = {batch, seq, heads, headDim};
    int n = batch * seq * heads * headDim;
    float[] qs = Numerics.uniform(1, n, 1f);
    float[] ks = Numerics.uniform(2, n, 1f);
    float[] vs = Numerics.uniform(3, n, 1f);
    float[] dos = Numerics.uniform(4, n, 1f);
    cpu = Device.cpu();
    int threads = factrlThreads(cpu);
    torch.set_num_threads(threads);
    System.out.printf("# threads: FactRL %d, libtorch %d%n", threads, torch.get_num_threads());
    attention = Attention.causal(headDim);
    q = cpu.fromFloats(qs, bshd);
    k = cpu.fromFloats(ks, bshd);
    v = cpu.fromFloats(vs, bshd);
    dout = cpu.fromFloats(dos, bshd);
    out = cpu.zeros(DType.F32, bshd);
    lse = cpu.zeros(DType.F32, batch, heads, seq);
    dq = cpu.zeros(DType.F32, bshd);
    dk = cpu.zeros(DType.F32, bshd);
    dv = cpu.zeros(DType.F32, bshd);

    torchScope = new PointerScope();
    tq = Torch.tensor(qs, true, bshd);
    tk = Torch.tensor(ks, true, bshd);
    tv = Torch.tensor(vs, true, bshd);
    tdout = Torch.tensor(dos, bshd).permute(0, 2, 1, 3);
    tscale = new DoubleOptional(attention.scale());
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (Tensor t : new Tensor[] {q, k, v, dout, out, lse, dq, dk, dv}) {
      t.close();
    }
    cpu.close();
    torchScope.close();
  }

  private org.bytedeco.pytorch.Tensor torchAttention() {
    return torch.scaled_dot_product_attention(tq.permute(0, 2, 1, 3), tk.permute(0, 2, 1, 3),
        tv.permute(0, 2, 1, 3), new TensorOptional(), 0.0, true, tscale, false);
  }

  @Benchmark
  public Tensor factrlForward() {
    attention.forward(q, k, v, out, lse);
    return out;
  }

  @Benchmark
  public Object torchForward() {
    try (PointerScope scope = new PointerScope();
        NoGradGuard noGrad = new NoGradGuard()) {
      return torchAttention().data_ptr_float().get(0);
    }
  }

  @Benchmark
  public Tensor factrlForwardBackward() {
    attention.forward(q, k, v, out, lse);
    attention.backward(q, k, v, out, lse, dout, dq, dk, dv, GradMode.OVERWRITE);
    return dv;
  }

  @Benchmark
  public Object torchForwardBackward() {
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor o = torchAttention();
      TensorVector grads = torch.grad(new TensorVector(o), new TensorVector(tq, tk, tv), new TensorVector(tdout),
          new BoolOptional(), false, false);
      return grads.get(2).data_ptr_float().get(0);
    }
  }
}

package org.factrl.bench;

import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;

import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.openblas.global.openblas;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.factrl.kernels.LoraAdapter;
import org.factrl.kernels.LoraMatmul;
import org.factrl.kernels.GradMode;
import org.factrl.testing.Numerics;
import org.factrl.testing.Torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Fused LoRA matmul on the CPU: FactRL's K-augmented GEMM beside libtorch (CPU) doing the same math,
 * {@code y = x.matmul(W^T) + s * (x.matmul(A^T)).matmul(B^T)}, forward alone (no grad) and forward +
 * autograd backward (grads of x, A, B; W frozen). fp32, same inputs.
 *
 * <p>Also beside the same math as OpenBLAS {@code cblas_sgemm} calls (the fair CPU baseline: this
 * libtorch build's GEMM is slow), with as many threads as FactRL: forward {@code u = x Aᵀ},
 * {@code y = x Wᵀ}, {@code y += s u Bᵀ}; backward {@code v = g B}, {@code dx = g W},
 * {@code dx += s v A}, {@code dA = s vᵀ x}, {@code dB = s gᵀ u}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class LoraBench {
  @Param({"256"})
  public int n;

  @Param({"512"})
  public int k;

  @Param({"512"})
  public int m;

  @Param({"16"})
  public int r;

  private static final float ALPHA = 16f;

  private Device cpu;
  private Tensor x, w, a, b, dy, y, u, dx, dA, dB;
  private LoraAdapter adapter;

  private PointerScope torchScope;
  private org.bytedeco.pytorch.Tensor tx, tw, ta, tb, tdy;
  private Scalar ts;

  private FloatPointer px, pw, pa, pb, pdy, py, pu, pv, pdx, pdA, pdB;

  @Setup
  public void setup() {
    float[] xs = Numerics.uniform(1, n * k, 1f);
    float[] ws = Numerics.uniform(2, m * k, 1f);
    float[] as = Numerics.uniform(3, r * k, 1f);
    float[] bs = Numerics.uniform(4, m * r, 1f);
    float[] dys = Numerics.uniform(5, n * m, 1f);
    cpu = Device.cpu();
    x = cpu.fromFloats(xs, n, k);
    w = cpu.fromFloats(ws, m, k);
    a = cpu.fromFloats(as, r, k);
    b = cpu.fromFloats(bs, m, r);
    dy = cpu.fromFloats(dys, n, m);
    y = cpu.zeros(DType.F32, n, m);
    u = cpu.zeros(DType.F32, n, r);
    dx = cpu.zeros(DType.F32, n, k);
    dA = cpu.zeros(DType.F32, r, k);
    dB = cpu.zeros(DType.F32, m, r);
    adapter = LoraAdapter.withAlpha(a, b, ALPHA);

    torchScope = new PointerScope();
    tx = Torch.tensor(xs, true, n, k);
    tw = Torch.tensor(ws, m, k);
    ta = Torch.tensor(as, true, r, k);
    tb = Torch.tensor(bs, true, m, r);
    tdy = Torch.tensor(dys, n, m);
    ts = new Scalar(ALPHA / r);

    Loader.load(openblas.class);
    openblas.blas_set_num_threads(GemmBench.ompThreads());
    px = new FloatPointer(xs);
    pw = new FloatPointer(ws);
    pa = new FloatPointer(as);
    pb = new FloatPointer(bs);
    pdy = new FloatPointer(dys);
    py = new FloatPointer((long) n * m);
    pu = new FloatPointer((long) n * r);
    pv = new FloatPointer((long) n * r);
    pdx = new FloatPointer((long) n * k);
    pdA = new FloatPointer((long) r * k);
    pdB = new FloatPointer((long) m * r);
  }

  @TearDown
  public void tearDown() {
    for (Tensor t : new Tensor[] {x, w, a, b, dy, y, u, dx, dA, dB}) {
      t.close();
    }
    cpu.close();
    torchScope.close();
    for (FloatPointer p : new FloatPointer[] {px, pw, pa, pb, pdy, py, pu, pv, pdx, pdA, pdB}) {
      p.close();
    }
  }

  @Benchmark
  public Tensor factrlForward() {
    LoraMatmul.forward(x, w, adapter, y, u);
    return y;
  }

  @Benchmark
  public Object torchForward() {
    try (PointerScope scope = new PointerScope();
        NoGradGuard noGrad = new NoGradGuard()) {
      org.bytedeco.pytorch.Tensor out = tx.matmul(tw.t()).add(tx.matmul(ta.t()).matmul(tb.t()).mul(ts));
      return out.data_ptr_float().get(0);
    }
  }

  @Benchmark
  public Tensor factrlForwardBackward() {
    LoraMatmul.forward(x, w, adapter, y, u);
    LoraMatmul.backward(x, w, adapter, dy, u, dx, dA, dB, GradMode.OVERWRITE);
    return dB;
  }

  @Benchmark
  public Object torchForwardBackward() {
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor out = tx.matmul(tw.t()).add(tx.matmul(ta.t()).matmul(tb.t()).mul(ts));
      TensorVector grads = torch.grad(new TensorVector(out), new TensorVector(tx, ta, tb), new TensorVector(tdy),
          new BoolOptional(), false, false);
      return grads.get(2).data_ptr_float().get(0);
    }
  }

  @Benchmark
  public FloatPointer openblasForward() {
    blasForward();
    return py;
  }

  @Benchmark
  public FloatPointer openblasForwardBackward() {
    blasForward();
    float s = ALPHA / r;
    sgemm(false, false, n, r, m, 1f, pdy, m, pb, r, 0f, pv, r);  // v = g B
    sgemm(false, false, n, k, m, 1f, pdy, m, pw, k, 0f, pdx, k);  // dx = g W
    sgemm(false, false, n, k, r, s, pv, r, pa, k, 1f, pdx, k);  // dx += s v A
    sgemm(true, false, r, k, n, s, pv, r, px, k, 0f, pdA, k);  // dA = s v^T x
    sgemm(true, false, m, r, n, s, pdy, m, pu, r, 0f, pdB, r);  // dB = s g^T u
    return pdB;
  }

  private void blasForward() {
    sgemm(false, true, n, r, k, 1f, px, k, pa, k, 0f, pu, r);  // u = x A^T
    sgemm(false, true, n, m, k, 1f, px, k, pw, k, 0f, py, m);  // y = x W^T
    sgemm(false, true, n, m, r, ALPHA / r, pu, r, pb, r, 1f, py, m);  // y += s u B^T
  }

  private static void sgemm(boolean ta, boolean tb, int rows, int cols, int depth, float alpha, FloatPointer a,
      int lda, FloatPointer b, int ldb, float beta, FloatPointer c, int ldc) {
    openblas.cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, rows, cols,
        depth, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

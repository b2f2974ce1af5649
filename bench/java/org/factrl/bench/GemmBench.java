package org.factrl.bench;

import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;

import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.factrl.layers.Linear;
import org.factrl.testing.Numerics;
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
 * The CPU GEMM as the linear layer uses it, {@code y = x Wᵀ} with x [tokens, in] and W [out, in]
 * (nn.Linear layout, no bias), through {@link Linear#forward}, beside OpenBLAS's {@code cblas_sgemm}
 * (RowMajor, NoTrans, Trans) on the same data in the same run. OpenBLAS gets as many threads as
 * FactRL's OpenMP ({@code OMP_NUM_THREADS}, default: the cores). fp32. GFLOP/s = 2 tokens in out / time.
 *
 * <p>{@code bin/factrl bench -f 3 -wi 5 -i 10 GemmBench} (the ratio printed is openblas time / factrl time).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class GemmBench {
  /** tokens x in x out (M x K times K x N in BLAS terms). */
  @Param({"256x512x512", "1024x1024x1024", "4096x512x512"})
  public String shape;

  private int tokens, in, out;
  private Device cpu;
  private Tensor x, w, y;
  private Linear linear;
  private FloatPointer px, pw, py;

  @Setup
  public void setup() {
    String[] d = shape.split("x");
    tokens = Integer.parseInt(d[0]);
    in = Integer.parseInt(d[1]);
    out = Integer.parseInt(d[2]);
    float[] xs = Numerics.uniform(1, tokens * in, 1f);
    float[] ws = Numerics.uniform(2, out * in, 1f);
    cpu = Device.cpu();
    x = cpu.fromFloats(xs, tokens, in);
    w = cpu.fromFloats(ws, out, in);
    y = cpu.zeros(DType.F32, tokens, out);
    linear = Linear.of(w, null);
    Loader.load(openblas.class);
    openblas.blas_set_num_threads(ompThreads());
    px = new FloatPointer(xs);
    pw = new FloatPointer(ws);
    py = new FloatPointer((long) tokens * out);
  }

  /** FactRL's thread count: OMP_NUM_THREADS if set, else every core (OpenMP's default). */
  static int ompThreads() {
    String env = System.getenv("OMP_NUM_THREADS");
    return env != null && !env.isBlank() ? Integer.parseInt(env.trim().split(",")[0]) : Runtime.getRuntime().availableProcessors();
  }

  @TearDown
  public void tearDown() {
    x.close();
    w.close();
    y.close();
    cpu.close();
    px.close();
    pw.close();
    py.close();
  }

  @Benchmark
  public Tensor factrlLinear() {
    linear.forward(x, y);
    return y;
  }

  @Benchmark
  public FloatPointer openblasLinear() {
    openblas.cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, tokens, out, in, 1f, px, in, pw, in, 0f, py, out);
    return py;
  }
}

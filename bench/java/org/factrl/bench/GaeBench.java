package org.factrl.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.global.torch;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.factrl.kernels.Gae;
import org.factrl.kernels.GaeOptions;
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
 * GAE on the CPU over a B×T batch with random response lengths (γ = 0.99, λ = 0.95), inputs already
 * resident, outputs preallocated, fp32.
 *
 * <ul>
 *   <li>{@code gae}: advantages and returns. FactRL: the per-sequence reverse loop (OpenMP over
 *       sequences). libtorch: the usual RLHF code vectorised across the batch (TRL / LLaVA-RLHF
 *       style), from Java: {@code r·m, V·m}, then for t = T−1..0:
 *       {@code δ = r[:,t] + γ·V[:,t+1] − V[:,t]; last = δ + γλ·last; A[:,t] = last}, then
 *       {@code A·m} and {@code R = A + V·m}.
 *   <li>{@code gaeWhiten}: the same plus masked whitening of A (unbiased variance, eps 1e-8).
 *       libtorch: {@code mean = Σ A m / Σ m; var = Σ (A − mean)² m / (n − 1);
 *       A = (A − mean)·rsqrt(var + eps)·m}.
 *   <li>{@code javaLoopGae}: a plain single-threaded Java loop (second reference, no ratio).
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class GaeBench {
  @Param({"512"})
  public int batch;

  @Param({"1024"})
  public int length;

  private static final float GAMMA = 0.99f;
  private static final float LAMBDA = 0.95f;
  private static final float EPS = 1e-8f;

  private Device cpu;
  private Tensor rewards, values, mask, advantages, returns;
  private GaeOptions plain, whitened;
  private float[] r, v, a, ret;
  private int[] m;
  private org.bytedeco.pytorch.Tensor tr, tv, tm;

  @Setup(Level.Trial)
  public void setUp() {
    Loader.load(torch.class);
    SplittableRandom rnd = new SplittableRandom(7);
    int n = batch * length;
    r = new float[n];
    v = new float[n];
    m = new int[n];
    a = new float[n];
    ret = new float[n];
    float[] mf = new float[n];
    for (int b = 0; b < batch; b++) {
      int len = 1 + rnd.nextInt(length);
      for (int t = 0; t < length; t++) {
        int i = b * length + t;
        r[i] = (float) rnd.nextGaussian() * 0.1f;
        v[i] = (float) rnd.nextGaussian();
        m[i] = t < len ? 1 : 0;
        mf[i] = m[i];
      }
    }
    cpu = Device.cpu();
    rewards = cpu.fromFloats(r, batch, length);
    values = cpu.fromFloats(v, batch, length);
    mask = cpu.fromInts(m, batch, length);
    advantages = cpu.zeros(DType.F32, batch, length);
    returns = cpu.zeros(DType.F32, batch, length);
    plain = GaeOptions.builder().gamma(GAMMA).lambda(LAMBDA).whiten(false).build();
    whitened = plain.toBuilder().whiten(true).eps(EPS).build();
    tr = org.bytedeco.pytorch.Tensor.create(r, batch, length);
    tv = org.bytedeco.pytorch.Tensor.create(v, batch, length);
    tm = org.bytedeco.pytorch.Tensor.create(mf, batch, length);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (Tensor t : new Tensor[] {rewards, values, mask, advantages, returns}) {
      t.close();
    }
    cpu.close();
    tr.close();
    tv.close();
    tm.close();
  }

  @Benchmark
  public Tensor factrlGae() {
    Gae.compute(rewards, values, mask, plain, advantages, returns);
    return advantages;
  }

  @Benchmark
  public float torchGae() {
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor adv = torchLoop();
      return adv.select(0, 0).select(0, 0).item_float();
    }
  }

  @Benchmark
  public Tensor factrlGaeWhiten() {
    Gae.compute(rewards, values, mask, whitened, advantages, returns);
    return advantages;
  }

  @Benchmark
  public float torchGaeWhiten() {
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor adv = torchLoop();
      org.bytedeco.pytorch.Tensor n = tm.sum();
      org.bytedeco.pytorch.Tensor mean = adv.mul(tm).sum().div(n);
      org.bytedeco.pytorch.Tensor centered = adv.sub(mean);
      org.bytedeco.pytorch.Tensor var = centered.mul(centered).mul(tm).sum().div(n.sub(new Scalar(1.0)));
      org.bytedeco.pytorch.Tensor white = centered.mul(var.add(new Scalar(EPS)).rsqrt()).mul(tm);
      return white.select(0, 0).select(0, 0).item_float();
    }
  }

  /** The vectorised reverse loop over t; returns the masked advantages (returns computed too). */
  private org.bytedeco.pytorch.Tensor torchLoop() {
    org.bytedeco.pytorch.Tensor rm = tr.mul(tm);
    org.bytedeco.pytorch.Tensor vm = tv.mul(tm);
    org.bytedeco.pytorch.Tensor adv = torch.zeros_like(rm);
    Scalar g = new Scalar(GAMMA);
    Scalar gl = new Scalar(GAMMA * LAMBDA);
    org.bytedeco.pytorch.Tensor last = null;
    for (int t = length - 1; t >= 0; t--) {
      org.bytedeco.pytorch.Tensor delta = rm.select(1, t).sub(vm.select(1, t));
      if (t + 1 < length) {
        delta = delta.add(vm.select(1, t + 1), g);
      }
      last = last == null ? delta : delta.add(last, gl);
      adv.select(1, t).copy_(last);
    }
    org.bytedeco.pytorch.Tensor advMasked = adv.mul(tm);
    advMasked.add(vm);  // the returns (eager: computed even though only A is used afterwards)
    return advMasked;
  }

  @Benchmark
  public float[] javaLoopGae() {
    final double gl = (double) GAMMA * LAMBDA;
    for (int b = 0; b < batch; b++) {
      int base = b * length;
      int len = 0;
      while (len < length && m[base + len] != 0) {
        len++;
      }
      double last = 0;
      double next = 0;
      for (int t = length - 1; t >= len; t--) {
        a[base + t] = 0;
        ret[base + t] = 0;
      }
      for (int t = len - 1; t >= 0; t--) {
        double vt = v[base + t];
        last = r[base + t] + GAMMA * next - vt + gl * last;
        a[base + t] = (float) last;
        ret[base + t] = (float) (last + vt);
        next = vt;
      }
    }
    return a;
  }
}

package org.factrl.bench;

import java.util.EnumSet;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.factrl.kernels.TokenLogProbs;
import org.factrl.kernels.GradMode;
import org.factrl.kernels.TokenLogProbs.Outputs;
import org.factrl.kernels.TokenLogProbs.Quantity;
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
 * Per-token log-probs / KL on the CPU: FactRL's one-pass kernel against libtorch eager doing the
 * same work (T = rows, V = vocabulary, fp32, all cores for both).
 *
 * <ul>
 *   <li>forward: logp of policy and reference, k1 = logp_p − logp_r, and the policy entropy.
 *       torch: log_softmax of both rows, gather, subtract; entropy = −Σ exp(lsp)·lsp.
 *   <li>backward: dlogits = g·(onehot(a) − softmax(z)) given what the forward saved (our lse;
 *       torch's log_softmax output): torch eager {@code exp(lsp)·(−g)} then {@code scatter_add_(g)}.
 *   <li>forwardBackward: logp of the policy and its gradient w.r.t. the logits (the PPO path).
 *       torch: autograd of {@code (log_softmax(z).gather(a) · g).sum()}.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class KlBench {
  @Param({"256"})
  public int rows;

  @Param({"32000"})
  public int vocab;

  private Device cpu;
  private Tensor policy, ref, actions, grad, dlogits;
  private Outputs forwardOut, lseOut;
  private org.bytedeco.pytorch.Tensor tp, tr, tidx, tg2d, tlsp;

  @Setup(Level.Trial)
  public void setUp() {
    Loader.load(torch.class);
    SplittableRandom r = new SplittableRandom(42);
    float[] zp = new float[rows * vocab], zr = new float[rows * vocab], g = new float[rows];
    int[] a = new int[rows];
    long[] idx = new long[rows];
    for (int i = 0; i < zp.length; i++) {
      zp[i] = (float) (r.nextGaussian() * 3);
      zr[i] = zp[i] + (float) (r.nextGaussian() * 0.5);
    }
    for (int t = 0; t < rows; t++) {
      a[t] = r.nextInt(vocab);
      idx[t] = a[t];
      g[t] = (float) r.nextGaussian();
    }
    cpu = Device.cpu();
    policy = cpu.fromFloats(zp, rows, vocab);
    ref = cpu.fromFloats(zr, rows, vocab);
    actions = cpu.fromInts(a, rows);
    grad = cpu.fromFloats(g, rows);
    dlogits = cpu.zeros(DType.F32, rows, vocab);
    forwardOut = Outputs.allocate(cpu, rows, EnumSet.of(Quantity.LOGP_POLICY, Quantity.LOGP_REF, Quantity.KL_K1,
        Quantity.ENTROPY));
    lseOut = Outputs.allocate(cpu, rows, Quantity.LOGP_POLICY, Quantity.LSE_POLICY);
    TokenLogProbs.computeInto(policy, null, actions, null, lseOut);

    tp = org.bytedeco.pytorch.Tensor.create(zp, rows, vocab);
    tr = org.bytedeco.pytorch.Tensor.create(zr, rows, vocab);
    tidx = org.bytedeco.pytorch.Tensor.create(idx, rows, 1);
    tg2d = org.bytedeco.pytorch.Tensor.create(g, rows, 1);
    tlsp = tp.log_softmax(1);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (Tensor t : new Tensor[] {policy, ref, actions, grad, dlogits}) {
      t.close();
    }
    forwardOut.close();
    lseOut.close();
    cpu.close();
  }

  @Benchmark
  public Outputs factrlForward() {
    TokenLogProbs.computeInto(policy, ref, actions, null, forwardOut);
    return forwardOut;
  }

  @Benchmark
  public float torchForward() {
    try (PointerScope s = new PointerScope()) {
      org.bytedeco.pytorch.Tensor lsp = tp.log_softmax(1);
      org.bytedeco.pytorch.Tensor lsr = tr.log_softmax(1);
      org.bytedeco.pytorch.Tensor gp = lsp.gather(1, tidx);
      org.bytedeco.pytorch.Tensor gr = lsr.gather(1, tidx);
      org.bytedeco.pytorch.Tensor k1 = gp.sub(gr);
      org.bytedeco.pytorch.Tensor entropy = lsp.exp().mul(lsp).sum(1).neg();
      return k1.data_ptr_float().get(0) + entropy.data_ptr_float().get(0);
    }
  }

  @Benchmark
  public Tensor factrlBackward() {
    TokenLogProbs.backward(policy, actions, null, grad, lseOut.get(Quantity.LSE_POLICY), dlogits, GradMode.OVERWRITE);
    return dlogits;
  }

  @Benchmark
  public float torchBackward() {
    try (PointerScope s = new PointerScope()) {
      org.bytedeco.pytorch.Tensor dz = tlsp.exp().mul(tg2d.neg()).scatter_add_(1, tidx, tg2d);
      return dz.data_ptr_float().get(0);
    }
  }

  @Benchmark
  public Tensor factrlForwardBackward() {
    TokenLogProbs.computeInto(policy, null, actions, null, lseOut);
    TokenLogProbs.backward(policy, actions, null, grad, lseOut.get(Quantity.LSE_POLICY), dlogits, GradMode.OVERWRITE);
    return dlogits;
  }

  @Benchmark
  public float torchForwardBackward() {
    try (PointerScope s = new PointerScope()) {
      org.bytedeco.pytorch.Tensor leaf = tp.detach().requires_grad_(true);
      org.bytedeco.pytorch.Tensor logp = leaf.log_softmax(1).gather(1, tidx);
      logp.mul(tg2d).sum().backward();
      return leaf.grad().data_ptr_float().get(0);
    }
  }
}

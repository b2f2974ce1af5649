package org.factrl.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.kernels.RewardHead;
import org.factrl.kernels.ValueHead;
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
 * Reward-head pooling and the per-token value head on the CPU (fp32, all cores for both): FactRL
 * against libtorch eager doing the same work on h [B, S, d].
 *
 * <ul>
 *   <li>rewardForward: ours vs {@code linear(index_select(h.view(B·S, d), 0, b·S + e_b), w, c)}.
 *   <li>rewardBackward: dh (dense, zero but the pooled rows), dw, dbias. torch: the ops its
 *       autograd runs for that graph — {@code zeros(B·S, d).index_add_(0, idx, outer(g, w))},
 *       {@code mv(pooledᵀ, g)} (pooled saved by the forward), {@code g.sum()}.
 *   <li>valueForward: ours vs {@code linear(h.view(B·S, d), w, c)} (no mask).
 *   <li>valueBackward: dh = g ⊗ w, dw = hᵀ g, dbias = Σ g. torch: {@code outer(g, w)},
 *       {@code mv(hᵀ, g)}, {@code g.sum()}. Ours writes into preallocated outputs; torch allocates
 *       its outputs, as eager autograd does.
 *   <li>rewardBackwardPrealloc / valueBackwardPrealloc: the same, but torch also writes into
 *       preallocated outputs ({@code zero_().index_add_}, {@code ger_out}, {@code mv_out}), so the
 *       ratio shows the kernels alone, without the cost of allocating a fresh [B·S, d] dh per call.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class PoolingBench {
  @Param({"16"})
  public int batch;

  @Param({"512"})
  public int seq;

  @Param({"1024"})
  public int width;

  private Device cpu;
  private Tensor h, endIndex, w, c, scores, dScores, dh, dw, dc, values, dValues;
  private RewardHead reward;
  private ValueHead value;
  private org.bytedeco.pytorch.Tensor th, tidx, tw, tw1, tc, tpooled, tg, tgv, tdh, tdw;

  @Setup(Level.Trial)
  public void setUp() {
    Loader.load(torch.class);
    SplittableRandom r = new SplittableRandom(7);
    int n = batch * seq;
    float[] hv = new float[n * width];
    for (int i = 0; i < hv.length; i++) {
      hv[i] = (float) r.nextGaussian();
    }
    float[] wv = new float[width];
    for (int j = 0; j < width; j++) {
      wv[j] = (float) (r.nextGaussian() / Math.sqrt(width));
    }
    int[] e = new int[batch];
    long[] idx = new long[batch];
    float[] g = new float[batch];
    for (int b = 0; b < batch; b++) {
      e[b] = seq / 2 + r.nextInt(seq / 2);
      idx[b] = (long) b * seq + e[b];
      g[b] = (float) r.nextGaussian();
    }
    float[] gv = new float[n];
    for (int i = 0; i < n; i++) {
      gv[i] = (float) r.nextGaussian();
    }

    cpu = Device.cpu();
    h = cpu.fromFloats(hv, batch, seq, width);
    endIndex = cpu.fromInts(e, batch);
    w = cpu.fromFloats(wv, width);
    c = cpu.fromFloats(new float[] {0.1f}, 1);
    scores = cpu.zeros(DType.F32, batch);
    dScores = cpu.fromFloats(g, batch);
    dh = cpu.zeros(DType.F32, batch, seq, width);
    dw = cpu.zeros(DType.F32, width);
    dc = cpu.zeros(DType.F32, 1);
    values = cpu.zeros(DType.F32, batch, seq);
    dValues = cpu.fromFloats(gv, batch, seq);
    reward = RewardHead.of(w, c);
    value = ValueHead.of(w, c);

    th = org.bytedeco.pytorch.Tensor.create(hv, (long) n, width);
    tidx = org.bytedeco.pytorch.Tensor.create(idx, batch);
    tw = org.bytedeco.pytorch.Tensor.create(wv, 1, width);
    tw1 = tw.reshape(width);
    tc = org.bytedeco.pytorch.Tensor.create(new float[] {0.1f}, 1);
    tpooled = torch.index_select(th, 0, tidx);
    tg = org.bytedeco.pytorch.Tensor.create(g, batch);
    tgv = org.bytedeco.pytorch.Tensor.create(gv, n);
    tdh = org.bytedeco.pytorch.Tensor.create(new float[n * width], (long) n, width);
    tdw = org.bytedeco.pytorch.Tensor.create(new float[width], width);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (Tensor t : new Tensor[] {h, endIndex, w, c, scores, dScores, dh, dw, dc, values, dValues}) {
      t.close();
    }
    cpu.close();
    for (org.bytedeco.pytorch.Tensor t : new org.bytedeco.pytorch.Tensor[] {tdw, tdh, tgv, tg, tpooled, tc, tw1, tw, tidx, th}) {
      t.close();
    }
  }

  // ---- reward head ---------------------------------------------------------------------------------

  @Benchmark
  public void factrlRewardForward() {
    reward.forward(h, endIndex, scores);
  }

  @Benchmark
  public long torchRewardForward() {
    try (PointerScope scope = new PointerScope()) {
      return torch.linear(torch.index_select(th, 0, tidx), tw, new TensorOptional(tc)).numel();
    }
  }

  @Benchmark
  public void factrlRewardBackward() {
    reward.backward(h, endIndex, dScores, dh, dw, dc, GradMode.OVERWRITE);
  }

  @Benchmark
  public long torchRewardBackward() {
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor gradH =
          torch.zeros(new long[] {(long) batch * seq, width}).index_add_(0, tidx, torch.outer(tg, tw1));
      org.bytedeco.pytorch.Tensor gradW = torch.mv(tpooled.t(), tg);
      org.bytedeco.pytorch.Tensor gradC = tg.sum();
      return gradH.numel() + gradW.numel() + gradC.numel();
    }
  }

  @Benchmark
  public void factrlRewardBackwardPrealloc() {
    reward.backward(h, endIndex, dScores, dh, dw, dc, GradMode.OVERWRITE);
  }

  @Benchmark
  public long torchRewardBackwardPrealloc() {
    try (PointerScope scope = new PointerScope()) {
      tdh.zero_().index_add_(0, tidx, torch.outer(tg, tw1));
      torch.mv_out(tdw, tpooled.t(), tg);
      return tg.sum().numel();
    }
  }

  // ---- value head ----------------------------------------------------------------------------------

  @Benchmark
  public void factrlValueForward() {
    value.forward(h, null, values);
  }

  @Benchmark
  public long torchValueForward() {
    try (PointerScope scope = new PointerScope()) {
      return torch.linear(th, tw, new TensorOptional(tc)).numel();
    }
  }

  @Benchmark
  public void factrlValueBackward() {
    value.backward(h, null, dValues, dh, dw, dc, GradMode.OVERWRITE);
  }

  @Benchmark
  public long torchValueBackward() {
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor gradH = torch.outer(tgv, tw1);
      org.bytedeco.pytorch.Tensor gradW = torch.mv(th.t(), tgv);
      org.bytedeco.pytorch.Tensor gradC = tgv.sum();
      return gradH.numel() + gradW.numel() + gradC.numel();
    }
  }

  @Benchmark
  public void factrlValueBackwardPrealloc() {
    value.backward(h, null, dValues, dh, dw, dc, GradMode.OVERWRITE);
  }

  @Benchmark
  public long torchValueBackwardPrealloc() {
    try (PointerScope scope = new PointerScope()) {
      torch.ger_out(tdh, tgv, tw1);
      torch.mv_out(tdw, th.t(), tgv);
      return tgv.sum().numel();
    }
  }
}

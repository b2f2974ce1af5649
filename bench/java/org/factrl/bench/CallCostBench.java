package org.factrl.bench;

import java.util.concurrent.TimeUnit;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.factrl.layers.Rope;
import org.factrl.layers.SwiGlu;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What one engine call costs from Java when the work itself is nothing (issue: "cheap calls";
 * goal ≤ 2 µs per op from Java, ≤ 1 µs native side — the native side is measured by
 * {@code bench/native/call_cost.cpp}). The per-op API is for tests and users composing their own
 * models; the model itself runs its layer sequence in one native call (DESIGN.md §1), but every op
 * still pays its argument checks, so those must cost nothing when they pass.
 *
 * <ul>
 *   <li>{@code swiglu1x1}: {@link SwiGlu#forward} on 1×1 tensors: JNI crossing + checks + no work.
 *   <li>{@code tensorCreateClose64x64}: {@code zeros(F32, 64, 64)} then {@code close()}.
 *   <li>{@code rope8192}: RoPE over 8192 positions with D = 2 (one pair): dominated by the
 *       per-position validity check of {@code positions}, which once formatted a message per
 *       position even when it passed.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CallCostBench {
  private Device cpu;
  private Tensor a, b, out;
  private Tensor ropeX, ropeY, positions;
  private final Rope rope = Rope.withBase(Rope.DEFAULT_BASE);

  @Setup(Level.Trial)
  public void setUp() {
    cpu = Device.cpu();
    a = cpu.fromFloats(new float[] {0.5f}, 1, 1);
    b = cpu.fromFloats(new float[] {2f}, 1, 1);
    out = cpu.zeros(DType.F32, 1, 1);
    int s = 8192;
    ropeX = cpu.zeros(DType.F32, 1, s, 1, 2);
    ropeY = cpu.zeros(DType.F32, 1, s, 1, 2);
    int[] pos = new int[s];
    for (int i = 0; i < s; i++) {
      pos[i] = i;
    }
    positions = cpu.fromInts(pos, 1, s);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (Tensor t : new Tensor[] {a, b, out, ropeX, ropeY, positions}) {
      t.close();
    }
    cpu.close();
  }

  @Benchmark
  public void swiglu1x1() {
    SwiGlu.forward(a, b, out);
  }

  @Benchmark
  public void tensorCreateClose64x64() {
    try (Tensor t = cpu.zeros(DType.F32, 64, 64)) {
      // nothing: the cost of the pair is measured
    }
  }

  @Benchmark
  public void rope8192() {
    rope.forward(ropeX, positions, ropeY);
  }
}

package org.factrl.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.function.Supplier;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;

/**
 * The work of {@link AttentionBench} measured in CPU time of the calling thread, one thread for both
 * (run with OMP_NUM_THREADS=1; libtorch is set to 1 thread here): on a shared, busy machine, wall
 * time measures the other tenants as much as the code, while the CPU time of a single-threaded
 * call does not (apart from cache sharing). A supplement to the JMH run, not a replacement.
 *
 * <pre>
 *   OMP_NUM_THREADS=1 java -cp "target/test-classes:target/factrl-0.1.0-SNAPSHOT.jar:$(cat target/classpath-test.txt)" \
 *       -Dorg.bytedeco.javacpp.cachedir=$HOME/.cache/factrl-javacpp org.factrl.bench.AttentionCpuTime [reps]
 * </pre>
 *
 * <p>Prints, per case, the median and minimum CPU milliseconds per call over {@code reps} calls
 * (default 7) after 2 warm-up calls, and the ratio of the medians (libtorch / FactRL).
 */
public final class AttentionCpuTime {
  private AttentionCpuTime() {}

  public static void main(String[] args) {
    if (!"1".equals(System.getenv("OMP_NUM_THREADS"))) {
      throw new IllegalStateException("run with OMP_NUM_THREADS=1: only the calling thread's CPU time is counted");
    }
    int reps = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    Loader.load(torch.class);
    torch.set_num_threads(1);
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    for (int seq : new int[] {256, 1024}) {
      AttentionBench b = new AttentionBench();
      b.batch = 4;
      b.heads = 8;
      b.headDim = 64;
      b.seq = seq;
      b.setUp();
      torch.set_num_threads(1);  // setUp set it to our thread count; one thread each here
      try {
        report("forward", seq, measure(mx, reps, b::factrlForward), measure(mx, reps, b::torchForward));
        report("forward+backward", seq, measure(mx, reps, b::factrlForwardBackward),
            measure(mx, reps, b::torchForwardBackward));
      } finally {
        b.tearDown();
      }
    }
  }

  /** {median, min} CPU milliseconds of the calling thread per call. */
  private static double[] measure(ThreadMXBean mx, int reps, Supplier<Object> call) {
    for (int i = 0; i < 2; i++) {
      call.get();
    }
    double[] ms = new double[reps];
    for (int i = 0; i < reps; i++) {
      try (PointerScope scope = new PointerScope()) {
        long t0 = mx.getCurrentThreadCpuTime();
        call.get();
        ms[i] = (mx.getCurrentThreadCpuTime() - t0) / 1e6;
      }
    }
    Arrays.sort(ms);
    return new double[] {ms[reps / 2], ms[0]};
  }

  private static void report(String what, int seq, double[] ours, double[] theirs) {
    System.out.printf("%-17s B=4 H=8 S=%-4d D=64 causal, 1 thread, CPU ms/call median (min): FactRL %.2f (%.2f), "
        + "libtorch %.2f (%.2f), ratio %.2fx%n", what, seq, ours[0], ours[1], theirs[0], theirs[1], theirs[0] / ours[0]);
  }
}

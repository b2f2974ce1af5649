package org.factrl.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.function.Supplier;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;

/**
 * The work of {@link SftStepBench} measured in CPU time, one thread for both (run with
 * OMP_NUM_THREADS=1; libtorch is set to 1 thread): on a shared, busy machine wall time measures the
 * other tenants as much as the code, and libtorch's many short parallel regions suffer from
 * descheduled threads far more than our few; single-threaded CPU time does not (apart from cache
 * sharing). A supplement to the JMH run, as {@link AttentionCpuTime}.
 *
 * <pre>
 *   OMP_NUM_THREADS=1 java -cp "target/test-classes:target/factrl-0.1.0-SNAPSHOT.jar:$(cat target/classpath-test.txt)" \
 *       -Dorg.bytedeco.javacpp.cachedir=$HOME/.cache/factrl-javacpp org.factrl.bench.SftStepCpuTime [reps]
 * </pre>
 *
 * <p>Prints the median and minimum CPU milliseconds of the calling thread per call (after one
 * warm-up call) and the process's CPU milliseconds per call (median; includes the JVM's own threads,
 * a check that no work ran elsewhere), for forward, forward + backward and the whole step, the
 * libtorch / FactRL ratios, and the phases by difference: backward = (forward + backward) −
 * forward, optimizer = step − (forward + backward) (noisy; the AdamW update is also measured alone).
 */
public final class SftStepCpuTime {
  private SftStepCpuTime() {}

  public static void main(String[] args) {
    if (!"1".equals(System.getenv("OMP_NUM_THREADS"))) {
      throw new IllegalStateException("run with OMP_NUM_THREADS=1: only the calling thread's CPU time is counted");
    }
    int reps = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    Loader.load(torch.class);
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    SftStepBench b = new SftStepBench();
    b.rows = 8;
    b.seq = 96;
    b.setup();
    torch.set_num_threads(1);
    try {
      double[] of = measure(mx, reps, b::factrlForward);
      double[] ofb = measure(mx, reps, b::factrlForwardBackward);
      double[] os = measure(mx, reps, b::factrlStep);
      double[] tf = measure(mx, reps, b::torchForward);
      double[] tfb = measure(mx, reps, b::torchForwardBackward);
      double[] ts = measure(mx, reps, b::torchStep);
      double[] oo = measure(mx, reps, b::factrlOptimizer);
      double[] to = measure(mx, reps, b::torchOptimizer);
      System.out.println("tiny, batch 8 x 96, 1 thread each; CPU ms/call: thread median (min) [process median]");
      report("forward", of, tf);
      report("forward+backward", ofb, tfb);
      report("step (+AdamW)", os, ts);
      report("AdamW alone", oo, to);
      System.out.printf("phases (medians, by difference): FactRL forward %.1f, backward %.1f, AdamW %.1f; "
          + "libtorch forward %.1f, backward %.1f, AdamW %.1f ms%n", of[0], ofb[0] - of[0], os[0] - ofb[0], tf[0],
          tfb[0] - tf[0], ts[0] - tfb[0]);
    } finally {
      b.tearDown();
    }
  }

  /** {thread median, thread min, process median} CPU milliseconds per call. */
  private static double[] measure(ThreadMXBean mx, int reps, Supplier<Object> call) {
    call.get();
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    double[] ms = new double[reps];
    double[] proc = new double[reps];
    for (int i = 0; i < reps; i++) {
      try (PointerScope scope = new PointerScope()) {
        long p0 = os.getProcessCpuTime();
        long t0 = mx.getCurrentThreadCpuTime();
        call.get();
        ms[i] = (mx.getCurrentThreadCpuTime() - t0) / 1e6;
        proc[i] = (os.getProcessCpuTime() - p0) / 1e6;
      }
    }
    Arrays.sort(ms);
    Arrays.sort(proc);
    return new double[] {ms[reps / 2], ms[0], proc[reps / 2]};
  }

  private static void report(String what, double[] ours, double[] theirs) {
    System.out.printf("%-17s FactRL %.1f (%.1f) [%.1f], libtorch %.1f (%.1f) [%.1f], ratio %.2fx%n", what, ours[0],
        ours[1], ours[2], theirs[0], theirs[1], theirs[2], theirs[0] / ours[0]);
  }
}

package org.factrl.cli;

import java.io.PrintStream;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;

/** A quick proof that the native engine loads and runs on the chosen device. */
final class KernelSelfCheck {
  private KernelSelfCheck() {}

  static void run(Device device, PrintStream out) {
    float[] values = {1f, 2f, 3f, 4f};
    try (Tensor t = device.fromFloats(values, 2, 2)) {
      float[] back = t.toFloatArray();
      boolean ok = java.util.Arrays.equals(values, back);
      out.println("[self-check] tensor round trip on " + device.name() + ": " + (ok ? "ok" : "MISMATCH"));
      if (!ok) {
        throw new IllegalStateException("native tensor round trip returned wrong values");
      }
    }
  }
}

package org.factrl.cli;

import java.io.PrintStream;
import org.bytedeco.javacpp.Loader;
import org.factrl.bindings.FactRlCore;
import org.factrl.engine.Device;

/** {@code bin/factrl info}: what the native engine was built with and which devices it sees. */
final class InfoCommand implements Command {
  @Override
  public String name() {
    return "info";
  }

  @Override
  public String summary() {
    return "show the native engine's build and the devices it can use";
  }

  @Override
  public int run(Options options, PrintStream out, PrintStream err) {
    Loader.load(FactRlCore.class);
    out.println("factrl native engine " + FactRlCore.frl_version().getString());
    out.println("  CUDA backend built in: " + (Device.builtWithCuda() ? "yes" : "no")
        + (FactRlCore.frl_built_with_cublas() != 0 ? " (cuBLAS)" : ""));
    out.println("  CUDA devices usable:   " + Device.cudaDeviceCount());
    out.println("  CPU GEMM kernels:      " + Device.cpuIsa());
    try (Device d = Device.best()) {
      out.println("  default device:        " + d);
    }
    return 0;
  }
}

package org.factrl.cli;

import org.bytedeco.javacpp.Loader;
import org.factrl.bindings.FactRlCore;
import org.factrl.engine.Device;
import picocli.CommandLine.Command;

/** {@code bin/factrl info}: what the native engine was built with and which devices it sees. */
@Command(name = "info", description = "show the native engine's build and the devices it can use")
final class InfoCommand extends FactrlCommand {
  @Override
  int run() {
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

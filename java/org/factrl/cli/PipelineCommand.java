package org.factrl.cli;

import java.util.List;
import org.factrl.engine.Device;

/**
 * {@code bin/factrl pipeline}: the end-to-end job on the built-in data and the tiny model. Runs every
 * stage that exists today and names the ones that are not built yet, so its output never claims
 * work it did not do.
 */
final class PipelineCommand implements Command {
  @Override
  public String name() {
    return "pipeline";
  }

  @Override
  public String summary() {
    return "run the end-to-end pipeline (data -> SFT -> reward model -> Fact-RLHF PPO -> eval)";
  }

  @Override
  public int run(List<String> args) throws Exception {
    if (args.contains("--help")) {
      System.out.println("usage: bin/factrl pipeline   (no options yet)");
      return 0;
    }
    try (Device device = Device.best()) {
      System.out.println("[pipeline] device: " + device);
      KernelSelfCheck.run(device, System.out);
    }
    System.out.println("[pipeline] stages not built yet: shapes-world data, SFT, reward model, PPO, eval"
        + " (see the open issues); nothing was trained.");
    return 0;
  }
}

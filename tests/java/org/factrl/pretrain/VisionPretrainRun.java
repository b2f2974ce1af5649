package org.factrl.pretrain;

import java.nio.file.Path;
import java.util.Locale;
import org.factrl.engine.Device;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;

/**
 * Measurement runner (not a test): vision pretraining of a freshly initialised preset model on a
 * data set folder, printing progress, the held-out evaluations and seconds per step.
 *
 * <pre>
 *   java -cp target/test-classes:target/classes:DEPS org.factrl.pretrain.VisionPretrainRun \
 *       DATA_DIR [steps=300] [batch=32] [lr=1e-3] [seed=0] [evalEvery=100] [preset=tiny] [initStd=0.02]
 * </pre>
 */
public final class VisionPretrainRun {
  private VisionPretrainRun() {}

  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("usage: VisionPretrainRun DATA_DIR [key=value ...] (steps batch lr seed evalEvery preset initStd)");
      System.exit(2);
    }
    Path data = Path.of(args[0]);
    VisionPretrainConfig.Builder b = VisionPretrainConfig.builder();
    String preset = "tiny";
    float initStd = 0.02f;
    for (int i = 1; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      switch (kv[0]) {
        case "steps" -> b.steps(Integer.parseInt(kv[1]));
        case "batch" -> b.batchSize(Integer.parseInt(kv[1]));
        case "lr" -> b.lr(Double.parseDouble(kv[1]));
        case "warmup" -> b.warmupSteps(Integer.parseInt(kv[1]));
        case "seed" -> b.seed(Long.parseLong(kv[1]));
        case "evalEvery" -> b.evalEvery(Integer.parseInt(kv[1]));
        case "preset" -> preset = kv[1];
        case "initStd" -> initStd = Float.parseFloat(kv[1]);
        default -> throw new IllegalArgumentException("unknown setting '" + kv[0] + "'");
      }
    }
    VisionPretrainConfig config = b.build();
    System.out.println("config: " + config + " preset " + preset + " initStd " + initStd);
    try (LlavaModel m = LlavaModel.create(Device.cpu(), ModelConfig.preset(preset))) {
      m.initWeights(config.seed(), initStd);
      long t0 = System.nanoTime();
      VisionPretrainResult r = VisionPretrainer.train(m, data, config, null, System.out);
      System.out.printf(Locale.ROOT, "done: %d steps, loss %.4f -> %.4f, %.3f s/step, wall %.1f s%n", r.steps(),
          r.firstLoss(), r.finalLoss(), r.secondsPerStep(), (System.nanoTime() - t0) / 1e9);
      System.out.println(r.last().summary());
    }
  }
}

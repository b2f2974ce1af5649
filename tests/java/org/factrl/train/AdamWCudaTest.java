package org.factrl.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.ParameterBlob;
import org.factrl.testing.Numerics;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The whole optimizer on a CUDA device against the same run on the CPU (skipped where no GPU is
 * present): 5 steps with clipping active, weight decay, a warm-up + cosine schedule and a no-decay
 * set over a blob large enough for many sum-of-squares chunks. Tolerance: none — the header
 * promises bitwise equal parameters, moments and gradient norms on both backends.
 */
class AdamWCudaTest {
  private static ParameterBlob blob(Device d) {
    return ParameterBlob.builder().add("layers.0.mlp.up_proj.weight", DType.F32, 300, 257)
        .add("layers.0.post_attention_layernorm.weight", DType.F32, 257).add("layers.0.mlp.up_proj.bias", DType.F32, 300)
        .add("head.weight", DType.F32, 1, 257).build(d);
  }

  @Test
  void cudaRunIsBitwiseTheCpuRun() {
    Assumptions.assumeTrue(Device.cudaDeviceCount() > 0, "no CUDA device");
    AdamWConfig config = AdamWConfig.builder().schedule(LearningRateSchedule.warmupCosine(0.01, 1, 5, 0.1))
        .weightDecay(0.1).maxGradNorm(1.0).noDecay(AdamWConfig.BIASES_AND_NORMS).build();
    try (Device cpu = Device.cpu(); Device gpu = Device.cuda(0);
        ParameterBlob pc = blob(cpu); ParameterBlob gc = pc.likeThis();
        ParameterBlob pg = blob(gpu); ParameterBlob gg = pg.likeThis();
        AdamW onCpu = AdamW.over(config, pc, gc); AdamW onGpu = AdamW.over(config, pg, gg)) {
      int k = 0;
      for (String n : pc.names()) {
        float[] init = Numerics.uniform(100 + k++, (int) pc.tensor(n).numel(), 1f);
        pc.tensor(n).write(init);
        pg.tensor(n).write(init);
      }
      for (int step = 0; step < 5; step++) {
        int j = 0;
        for (String n : gc.names()) {
          float[] g = Numerics.uniform(1000L * step + j++, (int) gc.tensor(n).numel(), 0.5f);
          gc.tensor(n).write(g);
          gg.tensor(n).write(g);
        }
        AdamW.StepStats a = onCpu.step();
        AdamW.StepStats b = onGpu.step();
        assertEquals(a, b, "step stats (norm, factor, lr) of step " + step);
        for (String n : pc.names()) {
          assertArrayEquals(pc.tensor(n).toFloatArray(), pg.tensor(n).toFloatArray(), n + " after step " + step);
          assertArrayEquals(onCpu.expAvg(n).toFloatArray(), onGpu.expAvg(n).toFloatArray(), "exp_avg " + n);
          assertArrayEquals(onCpu.expAvgSq(n).toFloatArray(), onGpu.expAvgSq(n).toFloatArray(), "exp_avg_sq " + n);
        }
      }
    }
  }
}

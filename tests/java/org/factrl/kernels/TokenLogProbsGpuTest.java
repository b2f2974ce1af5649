package org.factrl.kernels;

import static org.factrl.testing.Numerics.assertClose;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.kernels.TokenLogProbs.Outputs;
import org.factrl.kernels.TokenLogProbs.Quantity;
import org.factrl.testing.Numerics;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CUDA kernels against the CPU reference (skipped without a GPU). BF16 logits are compared with
 * the CPU run on the same bf16-rounded values, so both sides see identical inputs: tolerance
 * atol 1e-4 + rtol 1e-4 (fast-math exp on the GPU), gradients atol 1e-5 (F32 out) or bf16 rounding
 * (BF16 out: rtol 1/128).
 */
class TokenLogProbsGpuTest {
  @BeforeAll
  static void needsGpu() {
    Assumptions.assumeTrue(Device.cudaDeviceCount() > 0, "no CUDA device");
  }

  @ParameterizedTest(name = "{2} T={0} V={1}")
  @CsvSource({"1, 1, F32", "3, 7, BF16", "5, 33, F32", "9, 257, BF16", "4, 1001, F32", "6, 4097, BF16",
      "3, 32001, BF16", "2, 32000, F32", "8, 32000, BF16"})
  void cudaMatchesCpu(int rows, int vocab, DType dtype) {
    long seed = 31L * rows + vocab;
    float[] zp = TokenLogProbsTest.logits(seed, rows, vocab, 4);
    float[] zr = TokenLogProbsTest.logits(seed + 1, rows, vocab, 4);
    int[] a = TokenLogProbsTest.actions(seed + 2, rows, vocab);
    int[] m = TokenLogProbsTest.mask(seed + 3, rows);
    float[] g = Numerics.uniform(seed + 4, rows, 2);
    try (Device cpu = Device.cpu(); Device gpu = Device.cuda(0)) {
      // the values the GPU will see
      try (Tensor p = gpu.fromFloats(dtype, zp, rows, vocab); Tensor r = gpu.fromFloats(dtype, zr, rows, vocab)) {
        zp = p.toFloatArray();
        zr = r.toFloatArray();
      }
      float[][] want = TokenLogProbsTest.ours(cpu, zp, zr, a, m, rows, vocab);
      try (Tensor p = gpu.fromFloats(dtype, zp, rows, vocab);
          Tensor r = gpu.fromFloats(dtype, zr, rows, vocab);
          Tensor at = gpu.fromInts(a, rows);
          Tensor mt = gpu.fromInts(m, rows);
          Tensor gt = gpu.fromFloats(g, rows);
          Outputs out = TokenLogProbs.compute(p, r, at, mt, EnumSet.allOf(Quantity.class))) {
        for (Quantity q : Quantity.values()) {
          assertClose(want[q.ordinal()], out.floats(q), 1e-4, 1e-4, "CUDA " + dtype + " " + q);
        }
        float[] wantGrad;
        try (Tensor pc = cpu.fromFloats(zp, rows, vocab);
            Tensor ac = cpu.fromInts(a, rows);
            Tensor mc = cpu.fromInts(m, rows);
            Tensor gc = cpu.fromFloats(g, rows);
            Tensor dc = cpu.zeros(DType.F32, rows, vocab)) {
          TokenLogProbs.backward(pc, ac, mc, gc, null, dc, GradMode.OVERWRITE);
          wantGrad = dc.toFloatArray();
        }
        for (DType gradType : new DType[] {DType.F32, DType.BF16}) {
          for (boolean withLse : new boolean[] {false, true}) {
            try (Tensor dz = gpu.zeros(gradType, rows, vocab)) {
              TokenLogProbs.backward(p, at, mt, gt, withLse ? out.get(Quantity.LSE_POLICY) : null, dz,
                  GradMode.OVERWRITE);
              double rtol = gradType == DType.BF16 ? 1.0 / 128 : 1e-4;
              assertClose(wantGrad, dz.toFloatArray(), 1e-5, rtol, "CUDA grad " + gradType + " lse=" + withLse);
            }
          }
        }
      }
    }
  }

  @Test
  void cudaFlagsAnOutOfRangeAction() {
    try (Device gpu = Device.cuda(0);
        Tensor p = gpu.zeros(DType.BF16, 3, 40);
        Tensor at = gpu.fromInts(new int[] {0, 40, 1}, 3);
        Tensor g = gpu.zeros(DType.F32, 3);
        Tensor dz = gpu.zeros(DType.F32, 3, 40)) {
      // No host sync in the calls: the device error flag fails the next sync point, naming the op.
      TokenLogProbs.compute(p, null, at, null, Quantity.LOGP_POLICY).close();
      FactRlException e = org.junit.jupiter.api.Assertions.assertThrows(FactRlException.class, gpu::synchronize);
      assertTrue(e.getMessage().contains("frl_token_logprobs: argument 'actions'") && e.getMessage().contains("row 1"),
          e.getMessage());
      gpu.synchronize();  // reported once, then cleared
      TokenLogProbs.backward(p, at, null, g, null, dz, GradMode.ACCUMULATE);
      e = org.junit.jupiter.api.Assertions.assertThrows(FactRlException.class, gpu::synchronize);
      assertTrue(e.getMessage().contains("frl_token_logprobs_backward") && e.getMessage().contains("row 1"),
          e.getMessage());
    }
  }
}

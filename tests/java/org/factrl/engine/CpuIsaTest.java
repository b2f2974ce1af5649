package org.factrl.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Java sees which GEMM kernels the engine dispatched to. The kernels themselves (every ISA path
 * against a double loop, bits across thread counts, FACTRL_CPU_ISA) are checked by the native
 * tests/native/gemm_test, which ctest runs in Maven's test phase.
 */
class CpuIsaTest {
  @Test
  void reportsOneOfTheKernelSets() {
    assertTrue(List.of("avx512", "avx2", "scalar").contains(Device.cpuIsa()), Device.cpuIsa());
  }
}

package org.factrl.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the native GEMM test program (tests/native/gemm_test.cpp, built by CMake beside the library):
 * every instruction-set path this CPU supports against a double-precision loop at odd shapes, with
 * several segments, strides and accumulate (tolerance 1e-5 of the sum of magnitudes, stated there),
 * bit-identical results for 1, 2, 3, 4 and 7 OpenMP threads, and the run-time dispatch under each
 * value of {@code FACTRL_CPU_ISA}.
 */
class NativeGemmTest {
  private static Path program() {
    Path dir = Path.of(System.getProperty("factrl.cmake.dir", "target/cmake"));
    Path exe = dir.resolve("gemm_test");
    assertTrue(Files.isExecutable(exe), "native test program not built: " + exe);
    return exe;
  }

  private static String run(Map<String, String> env, String... args) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder();
    pb.command().add(program().toString());
    pb.command().addAll(List.of(args));
    pb.environment().remove("FACTRL_CPU_ISA");
    pb.environment().putAll(env);
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(10, TimeUnit.MINUTES), "gemm_test did not finish");
    assertEquals(0, p.exitValue(), "gemm_test " + env + " failed:\n" + out);
    return out;
  }

  @Test
  void everyIsaPathMatchesTheReferenceAndEveryThreadCountGivesTheSameBits() throws Exception {
    String out = run(Map.of("OMP_NUM_THREADS", "2"));
    assertTrue(out.contains(" 0 failures"), out);
  }

  @Test
  void environmentForcesALowerIsaAndNeverAHigherOne() throws Exception {
    for (String isa : List.of("scalar", "avx2", "avx512", "not-an-isa")) {
      String out = run(Map.of("FACTRL_CPU_ISA", isa, "OMP_NUM_THREADS", "1"), "dispatch");
      assertTrue(out.contains(" 0 failures"), out);
    }
  }

  @Test
  void javaReportsTheIsaTheEngineUses() {
    assertTrue(List.of("avx512", "avx2", "scalar").contains(Device.cpuIsa()), Device.cpuIsa());
  }
}

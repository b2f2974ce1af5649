package org.factrl.train;

import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.OptimizerParamGroup;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.factrl.bindings.OptimNative;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.model.io.IfExists;
import org.factrl.model.io.SafeTensors;
import org.factrl.testing.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * AdamW against libtorch's {@code torch::optim::AdamW} (with {@code clip_grad_norm_} first, the
 * rate set per step from the schedule, biases and norms in a second group without weight decay),
 * over two parameter blobs, 6 steps; the fixed-order sum of squares against a double sum and a
 * re-implementation of its order; save → restore → the next steps bit for bit; argument errors.
 *
 * <p>Tolerances: parameters atol 1e-7 + rtol 1e-6 after every step (fp32 per-element math in the
 * same order as libtorch; its vectorised kernels may fuse a multiply-add: measured at most 1.5e-7
 * relative over the 6 steps); the gradient norm rtol 1e-6 (ours is a double sum, libtorch's an
 * fp32 norm of per-tensor norms: measured 6e-8).
 */
class AdamWTest {
  private static final int STEPS = 6;

  /** Two blobs: a linear layer + norm, and an embedding-like entry (a second trainable). */
  private static ParameterBlob blobA(Device d) {
    return ParameterBlob.builder().add("layers.0.proj.weight", DType.F32, 5, 7).add("layers.0.proj.bias", DType.F32, 5)
        .add("layers.0.input_layernorm.weight", DType.F32, 7).add("layers.0.out.weight", DType.F32, 3, 5).build(d);
  }

  private static ParameterBlob blobB(Device d) {
    return ParameterBlob.builder().add("head.weight", DType.F32, 1, 9).add("head.bias", DType.F32, 1).build(d);
  }

  private static void fill(ParameterBlob b, long seed, float scale) {
    int k = 0;
    for (String n : b.names()) {
      Tensor t = b.tensor(n);
      t.write(uniform(seed * 101 + k++, (int) t.numel(), scale));
    }
  }

  private static List<float[]> values(ParameterBlob... blobs) {
    List<float[]> out = new ArrayList<>();
    for (ParameterBlob b : blobs) {
      for (String n : b.names()) {
        out.add(b.tensor(n).toFloatArray());
      }
    }
    return out;
  }

  private static List<String> names(ParameterBlob... blobs) {
    List<String> out = new ArrayList<>();
    for (ParameterBlob b : blobs) {
      out.addAll(b.names());
    }
    return out;
  }

  /** The gradient of step k (0-based) for the blob, reproducible; scale 1 gives norms ~ 4. */
  private static void grads(ParameterBlob g, int blobIndex, int k) {
    fill(g, 7_000 + 31L * k + blobIndex, 1f);
  }

  @ParameterizedTest(name = "maxGradNorm={0} weightDecay={1} noDecay={2}")
  @CsvSource({
      "0, 0.1, false",     // clipping off
      "1000, 0.1, true",   // clipping on but inactive
      "1.0, 0.1, true",    // clipping active every step
      "1.0, 0.0, false",   // no weight decay at all
  })
  void matchesTorchAdamW(double maxGradNorm, double weightDecay, boolean noDecay) {
    LearningRateSchedule schedule = LearningRateSchedule.warmupCosine(0.02, 2, STEPS, 0.1);
    AdamWConfig.Builder cb = AdamWConfig.builder().schedule(schedule).betas(0.9, 0.999).eps(1e-8)
        .weightDecay(weightDecay).maxGradNorm(maxGradNorm);
    if (noDecay) {
      cb.noDecay(AdamWConfig.BIASES_AND_NORMS);
    }
    AdamWConfig config = cb.build();
    try (Device cpu = Device.cpu();
        ParameterBlob pa = blobA(cpu);
        ParameterBlob ga = pa.likeThis();
        ParameterBlob pb = blobB(cpu);
        ParameterBlob gb = pb.likeThis();
        PointerScope scope = new PointerScope()) {
      fill(pa, 1, 1f);
      fill(pb, 2, 1f);
      List<String> names = names(pa, pb);
      List<float[]> init = values(pa, pb);
      long[][] shapes = new long[names.size()][];
      for (int i = 0; i < names.size(); i++) {
        shapes[i] = (pa.contains(names.get(i)) ? pa : pb).tensor(names.get(i)).shape();
      }
      // The oracle: the same tensors in libtorch, biases and norms in a group without decay.
      List<org.bytedeco.pytorch.Tensor> tp = new ArrayList<>();
      TensorVector all = new TensorVector();
      TensorVector decayed = new TensorVector();
      TensorVector plain = new TensorVector();
      for (int i = 0; i < names.size(); i++) {
        org.bytedeco.pytorch.Tensor t = Torch.tensor(init.get(i), true, shapes[i]);
        tp.add(t);
        all.push_back(t);
        (noDecay && config.excludedFromDecay(names.get(i)) ? plain : decayed).push_back(t);
      }
      org.bytedeco.pytorch.AdamW oracle = new org.bytedeco.pytorch.AdamW(decayed, options(config, weightDecay));
      if (plain.size() > 0) {
        oracle.add_param_group(new OptimizerParamGroup(plain, options(config, 0.0)));
      }

      try (AdamW opt = AdamW.over(config, List.of(new AdamW.Trainable(pa, ga), new AdamW.Trainable(pb, gb)))) {
        for (int k = 0; k < STEPS; k++) {
          grads(ga, 0, k);
          grads(gb, 1, k);
          List<float[]> g = values(ga, gb);
          oracle.zero_grad(true);
          org.bytedeco.pytorch.Tensor loss = null;
          for (int i = 0; i < names.size(); i++) {
            org.bytedeco.pytorch.Tensor term = tp.get(i).mul(Torch.tensor(g.get(i), shapes[i])).sum();
            loss = loss == null ? term : loss.add(term);
          }
          loss.backward();  // each gradient is exactly g
          // Clipping off: a threshold no norm reaches (the factor is then clamped to exactly 1).
          double torchNorm = torch.clip_grad_norm_(all, maxGradNorm > 0 ? maxGradNorm : 1e30);
          double lr = schedule.lr(k);
          for (long j = 0; j < oracle.param_groups().size(); j++) {
            oracle.param_groups().get(j).options().set_lr(lr);
          }
          oracle.step();

          AdamW.StepStats stats = opt.step();
          assertEquals(k + 1, stats.step());
          assertEquals(lr, stats.lr(), 0.0, "lr of step " + k);
          assertEquals(torchNorm, stats.gradNorm(), 1e-6 * torchNorm, "grad norm of step " + k);
          assertEquals(maxGradNorm > 0 && torchNorm > maxGradNorm, stats.clipped(), "clipped at step " + k);
          List<float[]> ours = values(pa, pb);
          for (int i = 0; i < names.size(); i++) {
            assertClose(Torch.floats(tp.get(i)), ours.get(i), 1e-7, 1e-6, names.get(i) + " after step " + (k + 1));
          }
          assertArrayEquals(g.get(0), ga.tensor(names.get(0)).toFloatArray(), "step() leaves gradients alone");
        }
        // The update really moved the weights (a no-op optimizer fails the comparison above anyway).
        assertTrue(Math.abs(pa.tensor("layers.0.proj.weight").toFloatArray()[0] - init.get(0)[0]) > 1e-3);
      }
    }
  }

  private static AdamWOptions options(AdamWConfig c, double weightDecay) {
    AdamWOptions o = new AdamWOptions(c.schedule().lr(0));
    // betas() points at a std::tuple<double, double>, which libstdc++ lays out last element first.
    o.betas().put(0, c.beta2()).put(1, c.beta1());
    o.eps().put(c.eps());
    o.weight_decay().put(weightDecay);
    return o;
  }

  @Test
  void clippingScalesByMaxNormOverNorm() {
    // One entry, gradient (3, 4): norm 5; clip to 1 -> factor 1 / (5 + 1e-6).
    AdamWConfig config = AdamWConfig.builder().lr(0.1).weightDecay(0).maxGradNorm(1.0).build();
    try (Device cpu = Device.cpu();
        ParameterBlob p = ParameterBlob.builder().add("w", DType.F32, 2).build(cpu);
        ParameterBlob g = p.likeThis();
        AdamW opt = AdamW.over(config, p, g)) {
      g.tensor("w").write(new float[] {3, 4});
      AdamW.StepStats s = opt.step();
      assertEquals(5.0, s.gradNorm(), 0.0);
      assertEquals(1.0 / (5.0 + 1e-6), s.gradScale(), 1e-15);
      assertTrue(s.clipped());
      // First step: m̂ = g', v̂ = g'^2, so p = -lr * g'/(|g'| + eps) = -0.1 * sign(g) (up to eps).
      assertClose(new float[] {-0.1f, -0.1f}, p.tensor("w").toFloatArray(), 1e-6, 0, "w");
      assertClose(new float[] {0.1f * 3 / 5f, 0.1f * 4 / 5f}, opt.expAvg("w").toFloatArray(), 1e-7, 1e-6, "exp_avg");
    }
  }

  // ---- sum of squares --------------------------------------------------------------------------

  /** The order factrl/optim.h specifies, in Java: chunks, lanes, tree; then the same over partials. */
  private static double fixedOrder(float[] x) {
    int chunk = OptimNative.FRL_SUMSQ_CHUNK;
    int chunks = (x.length + chunk - 1) / chunk;
    double[] partial = new double[chunks];
    for (int c = 0; c < chunks; c++) {
      int begin = c * chunk;
      int n = Math.min(chunk, x.length - begin);
      double[] terms = new double[n];
      for (int i = 0; i < n; i++) {
        terms[i] = (double) x[begin + i] * x[begin + i];
      }
      partial[c] = lanesTree(terms);
    }
    return x.length == 0 ? 0 : lanesTree(partial);
  }

  private static double lanesTree(double[] terms) {
    int lanes = OptimNative.FRL_SUMSQ_LANES;
    double[] lane = new double[lanes];
    for (int i = 0; i < terms.length; i++) {
      lane[i % lanes] += terms[i];
    }
    for (int s = lanes / 2; s >= 1; s /= 2) {
      for (int l = 0; l < s; l++) {
        lane[l] += lane[l + s];
      }
    }
    return lane[0];
  }

  @ParameterizedTest(name = "n={0}")
  @CsvSource({"0", "1", "255", "4095", "4096", "4097", "12305", "1048581"})
  void sumSquaresIsTheFixedOrderDoubleSum(int n) {
    float[] x = uniform(n + 5L, n, 3f);
    // Neumaier-compensated double sum: the fixed order's error is ~log2(n) roundings, a plain
    // sequential sum's up to n (2e-13 relative was seen at n = 2^20).
    double plain = 0;
    double carry = 0;
    for (float v : x) {
      double term = (double) v * v;
      double t = plain + term;
      carry += Math.abs(plain) >= term ? (plain - t) + term : (term - t) + plain;
      plain = t;
    }
    plain += carry;
    try (Device cpu = Device.cpu();
        Tensor t = cpu.fromFloats(x, Math.max(n, 0));
        DoublePointer out = new DoublePointer(1)) {
      org.factrl.engine.Native.check(OptimNative.frl_sum_squares(cpu.handle(), t.handle("x"), out));
      assertEquals(plain, out.get(), 1e-14 * Math.max(1, plain), "against a compensated double sum");
      assertEquals(Double.doubleToLongBits(fixedOrder(x)), Double.doubleToLongBits(out.get()),
          "bitwise the documented order (hence independent of the thread count)");
    }
  }

  // ---- save / restore --------------------------------------------------------------------------

  @Test
  void saveRestoreThenNextStepsAreBitwiseTheUninterruptedRun(@TempDir Path dir) {
    AdamWConfig config = AdamWConfig.builder().schedule(LearningRateSchedule.warmupCosine(0.02, 2, 8, 0.1))
        .weightDecay(0.05).maxGradNorm(1.0).noDecay(AdamWConfig.BIASES_AND_NORMS).build();
    Path weights = dir.resolve("weights.safetensors");
    Path state = dir.resolve("optimizer.safetensors");
    try (Device cpu = Device.cpu()) {
      List<float[]> uninterrupted;
      List<float[]> momentsA;
      try (ParameterBlob p = blobA(cpu); ParameterBlob g = p.likeThis(); AdamW opt = AdamW.over(config, p, g)) {
        fill(p, 3, 1f);
        for (int k = 0; k < 3; k++) {
          grads(g, 0, k);
          opt.step();
        }
        SafeTensors.write(weights, p, java.util.Map.of(), IfExists.FAIL);
        opt.saveState(state, IfExists.FAIL);
        for (int k = 3; k < 5; k++) {
          grads(g, 0, k);
          opt.step();
        }
        uninterrupted = values(p);
        momentsA = moments(opt, p);
        assertThrows(FactRlException.class, () -> opt.saveState(state, IfExists.FAIL), "refuses to replace");
      }
      SafeTensors st = SafeTensors.read(state);
      assertEquals("3", st.metadata().get(AdamW.STEP_KEY));
      assertTrue(st.contains("exp_avg.layers.0.proj.weight") && st.contains("exp_avg_sq.layers.0.out.weight"));
      try (ParameterBlob p = blobA(cpu); ParameterBlob g = p.likeThis(); AdamW opt = AdamW.over(config, p, g)) {
        SafeTensors.load(weights, p);
        opt.loadState(state);
        assertEquals(3, opt.steps());
        for (int k = 3; k < 5; k++) {
          grads(g, 0, k);
          AdamW.StepStats s = opt.step();
          assertEquals(k + 1, s.step());
        }
        List<float[]> resumed = values(p);
        List<float[]> momentsB = moments(opt, p);
        for (int i = 0; i < resumed.size(); i++) {
          assertArrayEquals(uninterrupted.get(i), resumed.get(i), "param " + p.names().get(i));
        }
        for (int i = 0; i < momentsA.size(); i++) {
          assertArrayEquals(momentsA.get(i), momentsB.get(i), "moment " + i);
        }
      }
    }
  }

  private static List<float[]> moments(AdamW opt, ParameterBlob p) {
    List<float[]> out = new ArrayList<>();
    for (String n : p.names()) {
      out.add(opt.expAvg(n).toFloatArray());
      out.add(opt.expAvgSq(n).toFloatArray());
    }
    return out;
  }

  @Test
  void loadStateRejectsAnotherLayoutNamingTensorAndShapes(@TempDir Path dir) {
    Path state = dir.resolve("opt.safetensors");
    AdamWConfig config = AdamWConfig.builder().build();
    try (Device cpu = Device.cpu()) {
      try (ParameterBlob p = blobB(cpu); ParameterBlob g = p.likeThis(); AdamW opt = AdamW.over(config, p, g)) {
        opt.saveState(state, IfExists.FAIL);
      }
      try (ParameterBlob p = ParameterBlob.builder().add("head.weight", DType.F32, 9, 1).add("head.bias", DType.F32, 1)
          .build(cpu); ParameterBlob g = p.likeThis(); AdamW opt = AdamW.over(config, p, g)) {
        opt.expAvg("head.bias").write(new float[] {42});
        FactRlException e = assertThrows(FactRlException.class, () -> opt.loadState(state));
        assertTrue(e.getMessage().contains("'exp_avg.head.weight'") && e.getMessage().contains("[1, 9]")
            && e.getMessage().contains("[9, 1]"), e.getMessage());
        assertArrayEquals(new float[] {42}, opt.expAvg("head.bias").toFloatArray(), "nothing loaded");
        assertEquals(0, opt.steps());
      }
      try (ParameterBlob p = blobA(cpu); ParameterBlob g = p.likeThis(); AdamW opt = AdamW.over(config, p, g)) {
        FactRlException e = assertThrows(FactRlException.class, () -> opt.loadState(state));
        assertTrue(e.getMessage().contains("missing from the file") && e.getMessage().contains("exp_avg.layers.0.proj.bias"),
            e.getMessage());
      }
    }
  }

  // ---- bad arguments ---------------------------------------------------------------------------

  @Test
  void nativeStepNamesTheBadArgument() {
    try (Device cpu = Device.cpu();
        Tensor p = cpu.zeros(DType.F32, 4);
        Tensor g = cpu.zeros(DType.F32, 4);
        Tensor m = cpu.zeros(DType.F32, 4);
        Tensor v = cpu.zeros(DType.F32, 4);
        Tensor shortGrad = cpu.zeros(DType.F32, 3);
        Tensor bf = cpu.zeros(DType.BF16, 4)) {
      assertNative("argument 'grad' has 3 elements", () -> step(cpu, p, shortGrad, m, v, 1e-3, 0.9, 0.999, 0, 1, 1f));
      assertNative("argument 'exp_avg'", () -> step(cpu, p, g, bf, v, 1e-3, 0.9, 0.999, 0, 1, 1f));
      assertNative("argument 'lr'", () -> step(cpu, p, g, m, v, -1e-3, 0.9, 0.999, 0, 1, 1f));
      assertNative("argument 'lr'", () -> step(cpu, p, g, m, v, Double.NaN, 0.9, 0.999, 0, 1, 1f));
      assertNative("argument 'beta1'", () -> step(cpu, p, g, m, v, 1e-3, 1.0, 0.999, 0, 1, 1f));
      assertNative("argument 'beta2'", () -> step(cpu, p, g, m, v, 1e-3, 0.9, -0.1, 0, 1, 1f));
      assertNative("argument 'weight_decay'", () -> step(cpu, p, g, m, v, 1e-3, 0.9, 0.999, -1, 1, 1f));
      assertNative("argument 'step'", () -> step(cpu, p, g, m, v, 1e-3, 0.9, 0.999, 0, 0, 1f));
      assertNative("argument 'grad_scale'", () -> step(cpu, p, g, m, v, 1e-3, 0.9, 0.999, 0, 1, Float.NaN));
      assertNative("'exp_avg'", () -> step(cpu, p, g, p, v, 1e-3, 0.9, 0.999, 0, 1, 1f));  // aliased with param
      assertNative("argument 'x'", () -> {
        try (DoublePointer out = new DoublePointer(1)) {
          org.factrl.engine.Native.check(OptimNative.frl_sum_squares(cpu.handle(), bf.handle("x"), out));
        }
      });
    }
  }

  private static void step(Device d, Tensor p, Tensor g, Tensor m, Tensor v, double lr, double b1, double b2,
      double wd, long t, float scale) {
    org.factrl.engine.Native.check(OptimNative.frl_adamw_step(d.handle(), p.handle("param"), g.handle("grad"),
        m.handle("exp_avg"), v.handle("exp_avg_sq"), lr, b1, b2, 1e-8, wd, t, scale));
  }

  private static void assertNative(String fragment, org.junit.jupiter.api.function.Executable call) {
    FactRlException e = assertThrows(FactRlException.class, call);
    assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
  }

  @Test
  void configAndLayoutErrorsNameTheArgument() {
    assertNative("argument 'beta2'", () -> AdamWConfig.builder().betas(0.9, 1.0).build());
    assertNative("argument 'eps'", () -> AdamWConfig.builder().eps(-1).build());
    assertNative("argument 'weightDecay'", () -> AdamWConfig.builder().weightDecay(Double.NaN).build());
    assertNative("argument 'lr'", () -> AdamWConfig.builder().lr(-0.1));
    AdamWConfig config = AdamWConfig.builder().build();
    try (Device cpu = Device.cpu();
        ParameterBlob a = blobA(cpu);
        ParameterBlob b = blobB(cpu);
        ParameterBlob ga = a.likeThis();
        ParameterBlob a2 = blobA(cpu);
        ParameterBlob ga2 = a2.likeThis()) {
      assertNative("argument 'trainables[0]'", () -> AdamW.over(config, a, b));          // other layout
      assertNative("same blob", () -> AdamW.over(config, a, a));
      assertNative("also appears in an earlier blob",
          () -> AdamW.over(config, List.of(new AdamW.Trainable(a, ga), new AdamW.Trainable(a2, ga2))));
      assertNative("argument 'trainables'", () -> AdamW.over(config, List.of()));
    }
  }

  @Test
  void nonFiniteGradientChangesNothing() {
    AdamWConfig config = AdamWConfig.builder().lr(0.1).maxGradNorm(1.0).build();
    try (Device cpu = Device.cpu();
        ParameterBlob p = blobB(cpu);
        ParameterBlob g = p.likeThis();
        AdamW opt = AdamW.over(config, p, g)) {
      fill(p, 9, 1f);
      float[] before = p.tensor("head.weight").toFloatArray();
      float[] grad = new float[9];
      grad[4] = Float.NaN;
      g.tensor("head.weight").write(grad);
      FactRlException e = assertThrows(FactRlException.class, opt::step);
      assertTrue(e.getMessage().contains("NaN"), e.getMessage());
      assertArrayEquals(before, p.tensor("head.weight").toFloatArray());
      assertEquals(0, opt.steps());
      assertFalse(opt.expAvg("head.weight").toFloatArray()[4] != 0);
    }
  }
}

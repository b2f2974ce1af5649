package org.factrl.layers;

import static org.factrl.layers.RmsNormTest.assertMessage;
import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.CrossEntropyLossOptions;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.global.torch;
import org.factrl.bindings.CrossEntropyNative;
import org.factrl.bindings.FactRlCore;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.testing.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Masked cross-entropy against {@code torch.nn.functional.cross_entropy(logits, targets,
 * ignore_index=-100)} with the masked rows' targets set to -100: the loss, the per-row log-probs
 * (against {@code log_softmax} gathered at the target), and dlogits for an upstream gradient of the
 * loss, in both modes over a pre-filled random G0.
 *
 * <p>Tolerances (fp32, logits |z| <= 4): loss and logp atol 1e-5 + rtol 1e-5 (a log-sum-exp over V
 * in another order); dlogits atol 1e-6 + rtol 1e-4 (softmax / n), + 1e-6 over a G0 (|G0| <= 3).
 */
class CrossEntropyTest {
  private static final int IGNORE = -100;

  /** {loss, logp (0 on masked rows), dlogits} for upstream gradient gradLoss. */
  private static float[][] oracle(float[] z, int[] targets, int[] mask, int t, int v, float gradLoss) {
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor logits = Torch.tensor(z, true, t, v);
      long[] ignored = new long[t];
      for (int i = 0; i < t; i++) ignored[i] = mask == null || mask[i] != 0 ? targets[i] : IGNORE;
      org.bytedeco.pytorch.Tensor loss =
          torch.cross_entropy(logits, Torch.longTensor(ignored, t), new CrossEntropyLossOptions());
      loss.mul(new Scalar(gradLoss)).backward();
      float[] logSoftmax = Torch.floats(torch.log_softmax(logits, 1));
      float[] logp = new float[t];
      for (int i = 0; i < t; i++) logp[i] = ignored[i] == IGNORE ? 0f : logSoftmax[i * v + targets[i]];
      return new float[][] {Torch.floats(loss), logp, Torch.floats(logits.grad())};
    }
  }

  private static int[] targets(long seed, int t, int v) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] out = new int[t];
    for (int i = 0; i < t; i++) out[i] = r.nextInt(v);
    return out;
  }

  /** About a third of the rows masked (the prompt), never all. */
  private static int[] mask(long seed, int t) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] out = new int[t];
    for (int i = 0; i < t; i++) out[i] = r.nextInt(3) == 0 ? 0 : 1;
    out[t - 1] = 1;
    return out;
  }

  @ParameterizedTest(name = "T={0} V={1} masked={2}")
  @CsvSource({"1,1,false", "5,7,true", "16,50,true", "33,300,true", "8,1000,false", "64,129,true"})
  void matchesTorchCrossEntropyWithIgnoreIndex(int t, int v, boolean masked) {
    float[] z = uniform(t * 7L + v, t * v, 4f);
    int[] a = targets(t + 1L, t, v);
    int[] m = masked ? mask(t + 2L, t) : null;
    float gradLoss = 0.7f;
    float[][] want = oracle(z, a, m, t, v, gradLoss);
    float[] g0 = uniform(5, t * v, 3f);
    try (Device cpu = Device.cpu();
        Tensor logits = cpu.fromFloats(z, t, v);
        Tensor targets = cpu.fromInts(a, t);
        Tensor mask = m == null ? null : cpu.fromInts(m, t);
        Tensor loss = cpu.fromFloats(new float[] {42f}, 1);
        Tensor logp = cpu.fromFloats(uniform(6, t, 3f), t);
        Tensor lse = cpu.zeros(DType.F32, t);
        Tensor dlogits = cpu.fromFloats(g0, t, v)) {
      CrossEntropy.forward(logits, targets, mask, loss, logp, lse);
      assertClose(want[0], loss.toFloatArray(), 1e-5, 1e-5, "loss");
      assertClose(want[1], logp.toFloatArray(), 1e-5, 1e-5, "logp");
      CrossEntropy.backward(logits, targets, mask, lse, gradLoss, dlogits, GradMode.OVERWRITE);
      assertClose(want[2], dlogits.toFloatArray(), 1e-6, 1e-4, "dlogits (overwrite: masked rows 0)");
      // Accumulate onto G0: valid rows G0 + grad, masked rows keep G0 (torch's grad there is 0).
      dlogits.write(g0);
      CrossEntropy.backward(logits, targets, mask, null, gradLoss, dlogits, GradMode.ACCUMULATE);
      float[] acc = new float[t * v];
      for (int i = 0; i < t * v; i++) acc[i] = g0[i] + want[2][i];
      assertClose(acc, dlogits.toFloatArray(), 2e-6, 1e-4, "dlogits = G0 + grad (lse recomputed)");
      // Loss alone (no logp / lse outputs) is the same value.
      CrossEntropy.forward(logits, targets, mask, loss, null, null);
      assertClose(want[0], loss.toFloatArray(), 1e-5, 1e-5, "loss without logp/lse");
    }
  }

  @Test
  void maskedTargetsAreNeverReadAndNoCountedRowGivesZero() {
    int t = 4, v = 3;
    float[] z = uniform(1, t * v, 2f);
    int[] a = {1, 99, -5, 2};  // rows 1 and 2 masked: their targets are out of range on purpose
    int[] m = {1, 0, 0, 1};
    float[][] want = oracle(z, new int[] {1, 0, 0, 2}, m, t, v, 1f);
    try (Device cpu = Device.cpu();
        Tensor logits = cpu.fromFloats(z, t, v);
        Tensor targets = cpu.fromInts(a, t);
        Tensor mask = cpu.fromInts(m, t);
        Tensor none = cpu.zeros(DType.I32, t);
        Tensor loss = cpu.zeros(DType.F32, 1);
        Tensor dlogits = cpu.fromFloats(uniform(2, t * v, 1f), t, v)) {
      CrossEntropy.forward(logits, targets, mask, loss, null, null);
      assertClose(want[0], loss.toFloatArray(), 1e-5, 1e-5, "loss");
      CrossEntropy.backward(logits, targets, mask, null, 1f, dlogits, GradMode.OVERWRITE);
      assertClose(want[2], dlogits.toFloatArray(), 1e-6, 1e-4, "dlogits");
      // No counted row: torch gives NaN, we give 0 and a zero gradient (documented).
      CrossEntropy.forward(logits, targets, none, loss, null, null);
      assertEquals(0f, loss.toFloatArray()[0]);
      CrossEntropy.backward(logits, targets, none, null, 1f, dlogits, GradMode.OVERWRITE);
      assertArrayEquals(new float[t * v], dlogits.toFloatArray());
    }
  }

  @Test
  void badArgumentsNameTheArgument() {
    try (Device cpu = Device.cpu();
        Tensor logits = cpu.zeros(DType.F32, 3, 4);
        Tensor targets = cpu.fromInts(new int[] {0, 4, 1}, 3);
        Tensor good = cpu.fromInts(new int[] {0, 3, 1}, 3);
        Tensor shortTargets = cpu.zeros(DType.I32, 2);
        Tensor floatTargets = cpu.zeros(DType.F32, 3);
        Tensor loss = cpu.zeros(DType.F32, 1);
        Tensor loss2 = cpu.zeros(DType.F32, 2);
        Tensor dlogits = cpu.zeros(DType.F32, 3, 4);
        Tensor dlogitsBad = cpu.zeros(DType.F32, 4, 3)) {
      assertMessage(() -> CrossEntropy.forward(logits, targets, null, loss, null, null),
          "'targets': row 1 has token 4 outside [0, 4)");
      assertMessage(() -> CrossEntropy.backward(logits, targets, null, null, 1f, dlogits, GradMode.OVERWRITE),
          "'targets': row 1 has token 4 outside [0, 4)");
      assertMessage(() -> CrossEntropy.forward(logits, shortTargets, null, loss, null, null), "'targets'");
      assertMessage(() -> CrossEntropy.forward(logits, floatTargets, null, loss, null, null), "'targets'");
      assertMessage(() -> CrossEntropy.forward(logits, good, null, loss2, null, null), "'loss'");
      assertMessage(() -> CrossEntropy.forward(logits, good, null, null, null, null), "'loss'");
      assertMessage(() -> CrossEntropy.forward(null, good, null, loss, null, null), "'logits'");
      assertMessage(() -> CrossEntropy.forward(logits, good, null, loss, loss, null), "'logp'");
      assertMessage(() -> CrossEntropy.backward(logits, good, null, null, 1f, dlogitsBad, GradMode.OVERWRITE),
          "'dlogits'");
      assertMessage(() -> CrossEntropy.backward(logits, good, null, null, 1f, logits, GradMode.OVERWRITE),
          "'dlogits'");
      assertMessage(() -> CrossEntropy.backward(logits, good, null, null, Float.NaN, dlogits, GradMode.OVERWRITE),
          "'grad_loss'");
      assertMessage(() -> CrossEntropy.backward(logits, good, null, null, 1f, dlogits, null), "'mode'");
      assertEquals(1 /* FRL_ERR_ARGUMENT */, CrossEntropyNative.frl_cross_entropy_backward(cpu.handle(),
          logits.handle(), good.handle(), null, null, 1f, dlogits.handle(), 2));
      assertTrue(FactRlCore.frl_last_error().getString().contains("'mode'"));
    }
  }
}

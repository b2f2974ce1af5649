package org.factrl.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;
import org.factrl.kernels.TokenLogProbs.Outputs;
import org.factrl.kernels.TokenLogProbs.Quantity;
import org.factrl.layers.Attention;
import org.factrl.layers.Linear;
import org.factrl.layers.RmsNorm;
import org.factrl.layers.SwiGlu;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * A closed tensor passed to any kernel or layer is a {@link FactRlException} naming that argument
 * (the Java name the caller used), not a message about "a tensor" the caller has to guess.
 */
class ClosedArgumentsTest {
  Device cpu;

  @BeforeEach
  void setUp() {
    cpu = Device.cpu();
  }

  @AfterEach
  void tearDown() {
    assertEquals(0, cpu.bytesInUse(), "every tensor freed");
    cpu.close();
  }

  /** A tensor of the given shape, already closed. */
  Tensor closed(DType dtype, long... shape) {
    Tensor t = cpu.zeros(dtype, shape);
    t.close();
    return t;
  }

  static void failsNaming(String argument, Executable call) {
    FactRlException e = assertThrows(FactRlException.class, call);
    assertTrue(e.getMessage().contains("argument '" + argument + "' is closed"), e.getMessage());
    assertEquals(FactRlException.Status.ARGUMENT, e.status());
  }

  @Test
  void tokenLogProbs() {
    int t = 3;
    int v = 5;
    try (Tensor policy = cpu.zeros(DType.F32, t, v);
        Tensor actions = cpu.fromInts(new int[] {0, 1, 2}, t);
        Tensor grad = cpu.zeros(DType.F32, t);
        Tensor dz = cpu.zeros(DType.F32, t, v);
        Tensor out = cpu.zeros(DType.F32, t)) {
      failsNaming("policyLogits", () -> TokenLogProbs.compute(closed(DType.F32, t, v), null, actions, null,
          Quantity.LOGP_POLICY));
      failsNaming("refLogits", () -> TokenLogProbs.compute(policy, closed(DType.F32, t, v), actions, null,
          Quantity.KL_K1));
      failsNaming("actions", () -> TokenLogProbs.compute(policy, null, closed(DType.I32, t), null,
          Quantity.LOGP_POLICY));
      failsNaming("mask", () -> TokenLogProbs.compute(policy, null, actions, closed(DType.I32, t),
          Quantity.LOGP_POLICY));
      Outputs outputs = Outputs.builder().put(Quantity.LOGP_POLICY, out)
          .put(Quantity.ENTROPY, closed(DType.F32, t)).build();
      failsNaming("outputs[ENTROPY]", () -> TokenLogProbs.computeInto(policy, null, actions, null, outputs));
      failsNaming("gradLogp", () -> TokenLogProbs.backward(policy, actions, null, closed(DType.F32, t), null, dz,
          GradMode.OVERWRITE));
      failsNaming("lsePolicy", () -> TokenLogProbs.backward(policy, actions, null, grad, closed(DType.F32, t), dz,
          GradMode.OVERWRITE));
      failsNaming("dLogits", () -> TokenLogProbs.backward(policy, actions, null, grad, null,
          closed(DType.F32, t, v), GradMode.OVERWRITE));
    }
  }

  @Test
  void gaeAndHeads() {
    try (Tensor r = cpu.zeros(DType.F32, 2, 3);
        Tensor values = cpu.zeros(DType.F32, 2, 3);
        Tensor mask = cpu.fromInts(new int[] {1, 1, 1, 1, 1, 0}, 2, 3);
        Tensor adv = cpu.zeros(DType.F32, 2, 3);
        Tensor hidden = cpu.zeros(DType.F32, 2, 3, 4);
        Tensor endIndex = cpu.fromInts(new int[] {2, 2}, 2);
        Tensor scores = cpu.zeros(DType.F32, 2);
        Tensor w = cpu.zeros(DType.F32, 4);
        Tensor bias = cpu.zeros(DType.F32, 1)) {
      failsNaming("returns", () -> Gae.compute(r, values, mask, GaeOptions.defaults(), adv, closed(DType.F32, 2, 3)));
      failsNaming("values", () -> Gae.compute(r, closed(DType.F32, 2, 3), mask, GaeOptions.defaults(), adv,
          closed(DType.F32, 2, 3)));
      failsNaming("out", () -> Gae.maskedWhiten(r, mask, true, 1e-8f, closed(DType.F32, 2, 3)));
      RewardHead head = RewardHead.of(w, bias);
      failsNaming("hidden", () -> head.forward(closed(DType.F32, 2, 3, 4), endIndex, scores));
      failsNaming("endIndex", () -> head.forward(hidden, closed(DType.I32, 2), scores));
      failsNaming("scores", () -> head.forward(hidden, endIndex, closed(DType.F32, 2)));
    }
  }

  @Test
  void layers() {
    try (Tensor x = cpu.zeros(DType.F32, 2, 4);
        Tensor y = cpu.zeros(DType.F32, 2, 3);
        Tensor norm = cpu.zeros(DType.F32, 2, 4);
        Tensor q = cpu.zeros(DType.F32, 1, 2, 1, 4);
        Tensor gamma = cpu.fromFloats(new float[] {1, 1, 1, 1}, 4)) {
      Tensor weight = cpu.zeros(DType.F32, 3, 4);
      Linear linear = Linear.of(weight, null);
      failsNaming("x", () -> linear.forward(closed(DType.F32, 2, 4), y));
      failsNaming("y", () -> linear.forward(x, closed(DType.F32, 2, 3)));
      failsNaming("dx", () -> linear.backward(x, y, closed(DType.F32, 2, 4), null, null, GradMode.OVERWRITE));
      weight.close();  // a layer whose parameter was freed under it
      failsNaming("weight", () -> linear.forward(x, y));
      RmsNorm rms = RmsNorm.of(gamma, 1e-6f);
      failsNaming("x", () -> rms.forward(closed(DType.F32, 2, 4), norm, null));
      failsNaming("rstd", () -> rms.forward(x, norm, closed(DType.F32, 2)));
      failsNaming("b", () -> SwiGlu.forward(x, closed(DType.F32, 2, 4), norm));
      failsNaming("k", () -> Attention.causal(4).forward(q, closed(DType.F32, 1, 2, 1, 4), q, q, null));
    }
  }
}

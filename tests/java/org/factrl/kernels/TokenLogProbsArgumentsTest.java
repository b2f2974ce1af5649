package org.factrl.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import org.factrl.bindings.FactRlCore;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.KlNative;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.kernels.TokenLogProbs.Outputs;
import org.factrl.kernels.TokenLogProbs.Quantity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Bad arguments to {@link TokenLogProbs} (Java checks) and to the C entry points directly (native
 * checks): each must fail with a {@link FactRlException} / status whose message names the argument.
 */
class TokenLogProbsArgumentsTest {
  static final int T = 4, V = 6;

  Device cpu;
  Device other;
  Tensor policy, ref, actions, mask, grad, dz, out;

  @BeforeEach
  void setUp() {
    cpu = Device.cpu();
    other = Device.cpu();
    policy = cpu.fromFloats(new float[T * V], T, V);
    ref = cpu.fromFloats(new float[T * V], T, V);
    actions = cpu.fromInts(new int[] {0, 1, 2, 5}, T);
    mask = cpu.fromInts(new int[] {1, 1, 0, 1}, T);
    grad = cpu.fromFloats(new float[T], T);
    dz = cpu.zeros(DType.F32, T, V);
    out = cpu.zeros(DType.F32, T);
  }

  @AfterEach
  void tearDown() {
    for (Tensor t : new Tensor[] {policy, ref, actions, mask, grad, dz, out}) {
      t.close();
    }
    assertEquals(0, cpu.bytesInUse());
    cpu.close();
    other.close();
  }

  static FactRlException fails(Executable call, String... fragments) {
    FactRlException e = assertThrows(FactRlException.class, call);
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
    }
    return e;
  }

  Outputs k1() {
    return Outputs.builder().put(Quantity.KL_K1, out).build();
  }

  @Test
  void javaChecksNameTheArgument() {
    fails(() -> TokenLogProbs.compute(null, ref, actions, mask, Quantity.KL_K1), "policyLogits");
    fails(() -> TokenLogProbs.compute(policy, ref, null, mask, Quantity.KL_K1), "actions");
    fails(() -> TokenLogProbs.computeInto(policy, ref, actions, mask, null), "outputs");
    try (Tensor wrong = cpu.zeros(DType.F32, T, V + 1)) {
      fails(() -> TokenLogProbs.computeInto(policy, wrong, actions, mask, k1()), "refLogits", "[4, 7]");
    }
    try (Tensor shortActions = cpu.zeros(DType.I32, T - 1)) {
      fails(() -> TokenLogProbs.computeInto(policy, ref, shortActions, mask, k1()), "actions", "[3]");
    }
    try (Tensor longMask = cpu.zeros(DType.I32, T + 1)) {
      fails(() -> TokenLogProbs.computeInto(policy, ref, actions, longMask, k1()), "mask", "[5]");
    }
    try (Tensor floatActions = cpu.zeros(DType.F32, T)) {
      fails(() -> TokenLogProbs.computeInto(policy, ref, floatActions, mask, k1()), "actions", "F32");
    }
    try (Tensor bf16 = cpu.zeros(DType.BF16, T, V)) {
      fails(() -> TokenLogProbs.computeInto(bf16, null, actions, mask,
          Outputs.builder().put(Quantity.LOGP_POLICY, out).build()), "policyLogits", "BF16");
    }
    try (Tensor elsewhere = other.zeros(DType.I32, T)) {
      fails(() -> TokenLogProbs.computeInto(policy, ref, elsewhere, mask, k1()), "actions", "device");
    }
    try (Tensor elsewhere = other.zeros(DType.F32, T, V)) {
      fails(() -> TokenLogProbs.computeInto(policy, elsewhere, actions, mask, k1()), "refLogits", "device");
    }
    try (Tensor noVocab = cpu.zeros(DType.F32, T, 0)) {
      fails(() -> TokenLogProbs.compute(noVocab, null, actions, mask, Quantity.LOGP_POLICY), "policyLogits");
    }
    fails(() -> TokenLogProbs.compute(policy, null, actions, mask, Quantity.KL_FULL), "refLogits", "KL_FULL");
    try (Tensor wrongOut = cpu.zeros(DType.F32, T + 2)) {
      fails(() -> TokenLogProbs.computeInto(policy, ref, actions, mask,
          Outputs.builder().put(Quantity.KL_K3, wrongOut).build()), "outputs[KL_K3]");
    }
    fails(() -> Outputs.allocate(cpu, -1, EnumSet.of(Quantity.KL_K1)), "rows");
    fails(() -> Outputs.builder().build(), "outputs");
    try (Outputs o = Outputs.allocate(cpu, T, Quantity.KL_K1)) {
      fails(() -> o.get(Quantity.ENTROPY), "quantity", "ENTROPY");
    }
  }

  @Test
  void backwardJavaChecksNameTheArgument() {
    fails(() -> TokenLogProbs.backward(policy, actions, mask, null, null, dz, GradMode.OVERWRITE), "gradLogp");
    fails(() -> TokenLogProbs.backward(policy, actions, mask, grad, null, null, GradMode.OVERWRITE), "dLogits");
    fails(() -> TokenLogProbs.backward(policy, actions, mask, grad, null, dz, null), "mode");
    try (Tensor wrong = cpu.zeros(DType.F32, T, V - 1)) {
      fails(() -> TokenLogProbs.backward(policy, actions, mask, grad, null, wrong, GradMode.OVERWRITE), "dLogits");
    }
    try (Tensor wrong = cpu.zeros(DType.F32, T + 1)) {
      fails(() -> TokenLogProbs.backward(policy, actions, mask, wrong, null, dz, GradMode.OVERWRITE), "gradLogp");
      fails(() -> TokenLogProbs.backward(policy, actions, mask, grad, wrong, dz, GradMode.OVERWRITE), "lsePolicy");
    }
  }

  @Test
  void actionOutOfRangeOnAValidRowNamesActionsAndTheRow() {
    try (Tensor bad = cpu.fromInts(new int[] {0, 1, 2, V}, T)) {
      FactRlException e = fails(() -> TokenLogProbs.computeInto(policy, ref, bad, mask, k1()), "actions",
          "row 3", "token 6");
      assertEquals(FactRlException.Status.ARGUMENT, e.status());
      fails(() -> TokenLogProbs.backward(policy, bad, mask, grad, null, dz, GradMode.OVERWRITE), "actions", "row 3");
    }
    try (Tensor negative = cpu.fromInts(new int[] {0, -1, 2, 3}, T)) {
      fails(() -> TokenLogProbs.computeInto(policy, ref, negative, mask, k1()), "actions", "row 1", "token -1");
    }
    // out of range on a masked row (row 2) is fine
    try (Tensor maskedBad = cpu.fromInts(new int[] {0, 1, 99, 3}, T)) {
      TokenLogProbs.computeInto(policy, ref, maskedBad, mask, k1());
    }
  }

  // ---- the native checks, through the raw binding ------------------------------------------------

  static void nativeFails(int status, String... fragments) {
    assertNotEquals(FactRlCore.FRL_OK, status, "expected a failure");
    String message = FactRlCore.frl_last_error().getString();
    for (String f : fragments) {
      assertTrue(message.contains(f), "native message '" + message + "' lacks '" + f + "'");
    }
  }

  @Test
  void nativeChecksNameTheArgument() {
    frl_ctx ctx = cpu.handle();
    nativeFails(KlNative.frl_token_logprobs(null, policy.handle(), ref.handle(), actions.handle(), mask.handle(),
        null, null, out.handle(), null, null, null, null), "'ctx'");
    nativeFails(KlNative.frl_token_logprobs(ctx, null, ref.handle(), actions.handle(), mask.handle(), null, null,
        out.handle(), null, null, null, null), "frl_token_logprobs", "'policy_logits' is null");
    try (Tensor wrong = cpu.zeros(DType.F32, T + 1, V);
        Tensor shortI = cpu.zeros(DType.I32, T - 1);
        Tensor floats = cpu.zeros(DType.F32, T);
        Tensor bf16 = cpu.zeros(DType.BF16, T, V);
        Tensor elsewhere = other.zeros(DType.I32, T)) {
      nativeFails(KlNative.frl_token_logprobs(ctx, policy.handle(), wrong.handle(), actions.handle(), mask.handle(),
          null, null, out.handle(), null, null, null, null), "'ref_logits'", "[5, 6]", "expected [4, 6]");
      nativeFails(KlNative.frl_token_logprobs(ctx, policy.handle(), ref.handle(), shortI.handle(), mask.handle(),
          null, null, out.handle(), null, null, null, null), "'actions'", "[3]");
      nativeFails(KlNative.frl_token_logprobs(ctx, policy.handle(), ref.handle(), actions.handle(), shortI.handle(),
          null, null, out.handle(), null, null, null, null), "'mask'", "[3]");
      nativeFails(KlNative.frl_token_logprobs(ctx, policy.handle(), ref.handle(), floats.handle(), mask.handle(),
          null, null, out.handle(), null, null, null, null), "'actions'", "dtype f32");
      nativeFails(KlNative.frl_token_logprobs(ctx, bf16.handle(), null, actions.handle(), mask.handle(),
          out.handle(), null, null, null, null, null, null), "'policy_logits'", "bf16");
      nativeFails(KlNative.frl_token_logprobs(ctx, policy.handle(), ref.handle(), elsewhere.handle(), mask.handle(),
          null, null, out.handle(), null, null, null, null), "'actions'", "another context");
      nativeFails(KlNative.frl_token_logprobs(ctx, policy.handle(), null, actions.handle(), mask.handle(),
          null, null, out.handle(), null, null, null, null), "'kl_k1'", "ref_logits is null");
      nativeFails(KlNative.frl_token_logprobs(ctx, policy.handle(), ref.handle(), actions.handle(), mask.handle(),
          null, null, null, shortI.handle(), null, null, null), "'kl_k3'");
      // backward
      nativeFails(KlNative.frl_token_logprobs_backward(ctx, policy.handle(), actions.handle(), mask.handle(),
          floats.handle(), null, wrong.handle(), 0), "frl_token_logprobs_backward", "'dlogits'", "[5, 6]");
      nativeFails(KlNative.frl_token_logprobs_backward(ctx, policy.handle(), actions.handle(), mask.handle(),
          actions.handle(), null, dz.handle(), 0), "'grad_logp'", "dtype i32");
      nativeFails(KlNative.frl_token_logprobs_backward(ctx, policy.handle(), actions.handle(), mask.handle(),
          grad.handle(), shortI.handle(), dz.handle(), 0), "'lse_policy'");
      nativeFails(KlNative.frl_token_logprobs_backward(ctx, policy.handle(), actions.handle(), mask.handle(),
          grad.handle(), null, bf16.handle(), 0), "'dlogits'", "bf16");
    }
    try (Tensor bad = cpu.fromInts(new int[] {0, 7, 2, 3}, T)) {
      nativeFails(KlNative.frl_token_logprobs(ctx, policy.handle(), ref.handle(), bad.handle(), mask.handle(),
          null, null, out.handle(), null, null, null, null), "'actions'", "row 1", "token 7", "[0, 6)");
      nativeFails(KlNative.frl_token_logprobs_backward(ctx, policy.handle(), bad.handle(), null, grad.handle(), null,
          dz.handle(), 1), "'actions'", "row 1");
    }
    try (Tensor noVocab = cpu.zeros(DType.F32, T, 0)) {
      nativeFails(KlNative.frl_token_logprobs(ctx, noVocab.handle(), null, actions.handle(), null, out.handle(),
          null, null, null, null, null, null), "'policy_logits'", "vocabulary");
    }
  }

  @Test
  void oneTensorForTwoOutputsOrAsGradientAndLogitsIsRefused() {
    // Java: one tensor for LOGP_POLICY and ENTROPY would keep only the last quantity written
    Outputs twice = Outputs.builder().put(Quantity.LOGP_POLICY, out).put(Quantity.ENTROPY, out).build();
    FactRlException e = fails(() -> TokenLogProbs.computeInto(policy, null, actions, mask, twice),
        "outputs[ENTROPY]", "must not be the same tensor as 'outputs[LOGP_POLICY]'");
    assertEquals(FactRlException.Status.ARGUMENT, e.status());
    fails(() -> TokenLogProbs.backward(policy, actions, mask, grad, null, policy, GradMode.OVERWRITE),
        "'dLogits'", "same tensor as 'policyLogits'");
    // native: the same calls through the raw binding
    frl_ctx ctx = cpu.handle();
    nativeFails(KlNative.frl_token_logprobs(ctx, policy.handle(), null, actions.handle(), mask.handle(),
        out.handle(), null, null, null, null, out.handle(), null), "'entropy'", "same tensor as 'logp_policy'");
    nativeFails(KlNative.frl_token_logprobs(ctx, policy.handle(), ref.handle(), actions.handle(), mask.handle(),
        null, null, out.handle(), out.handle(), null, null, null), "'kl_k3'", "'kl_k1'");
    nativeFails(KlNative.frl_token_logprobs_backward(ctx, policy.handle(), actions.handle(), mask.handle(),
        grad.handle(), null, policy.handle(), 0), "frl_token_logprobs_backward", "'dlogits'",
        "same tensor as 'policy_logits'");
    // nothing was written by the refused calls
    org.junit.jupiter.api.Assertions.assertArrayEquals(new float[T], out.toFloatArray());
  }

  @Test
  void aFailedCallWritesNothing() {
    // the CPU checks actions before computing: outputs keep their values
    float[] sentinel = {9, 9, 9, 9};
    out.write(sentinel);
    try (Tensor bad = cpu.fromInts(new int[] {0, 1, 1, -5}, T)) {
      fails(() -> TokenLogProbs.computeInto(policy, ref, bad, mask, k1()), "row 3");
    }
    org.junit.jupiter.api.Assertions.assertArrayEquals(sentinel, out.toFloatArray());
  }
}

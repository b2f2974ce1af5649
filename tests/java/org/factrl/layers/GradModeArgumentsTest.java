package org.factrl.layers;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.factrl.bindings.AttentionNative;
import org.factrl.bindings.FactRlCore;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.FactRlCore.frl_tensor;
import org.factrl.bindings.KlNative;
import org.factrl.bindings.LayersNative;
import org.factrl.bindings.PoolingNative;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Every native gradient-mode argument accepts only FRL_GRAD_OVERWRITE (0) and FRL_GRAD_ACCUMULATE
 * (1), and a bad value fails with a message naming that argument (the Java API cannot pass one: its
 * GradMode has two values). Every other argument of each call is valid, so the mode is what fails.
 */
class GradModeArgumentsTest {

  private static void failsNaming(String argument, int status) {
    assertNotEquals(FactRlCore.FRL_OK, status, "expected a failure for " + argument);
    String message = FactRlCore.frl_last_error().getString();
    assertTrue(message.contains("'" + argument + "'"), () -> "message '" + message + "' lacks '" + argument + "'");
  }

  @Test
  void badModesNameTheirArgument() {
    try (Device cpu = Device.cpu();
        Tensor x = cpu.zeros(DType.F32, 2, 3);
        Tensor w = cpu.zeros(DType.F32, 4, 3);
        Tensor dy = cpu.zeros(DType.F32, 2, 4);
        Tensor dx = cpu.zeros(DType.F32, 2, 3);
        Tensor dw = cpu.zeros(DType.F32, 4, 3);
        Tensor g3 = cpu.zeros(DType.F32, 3);
        Tensor rstd = cpu.zeros(DType.F32, 2);
        Tensor dy3 = cpu.zeros(DType.F32, 2, 3);
        Tensor q = cpu.zeros(DType.F32, 1, 2, 1, 4);
        Tensor out = cpu.zeros(DType.F32, 1, 2, 1, 4);
        Tensor lse = cpu.zeros(DType.F32, 1, 1, 2);
        Tensor dq = cpu.zeros(DType.F32, 1, 2, 1, 4);
        Tensor pos = cpu.zeros(DType.I32, 1, 2);
        Tensor ids = cpu.zeros(DType.I32, 2);
        Tensor table = cpu.zeros(DType.F32, 5, 3);
        Tensor logits = cpu.zeros(DType.F32, 2, 3);
        Tensor dlogits = cpu.zeros(DType.F32, 2, 3);
        Tensor glogp = cpu.zeros(DType.F32, 2);
        Tensor h = cpu.zeros(DType.F32, 2, 1, 3);
        Tensor end = cpu.zeros(DType.I32, 2);
        Tensor scores = cpu.zeros(DType.F32, 2);
        Tensor dh = cpu.zeros(DType.F32, 2, 1, 3);
        Tensor values = cpu.zeros(DType.F32, 2, 1)) {
      frl_ctx ctx = cpu.handle();
      frl_tensor t = q.handle();
      failsNaming("dx_mode", LayersNative.frl_linear_backward(ctx, x.handle(), w.handle(), dy.handle(), dx.handle(),
          dw.handle(), null, 2, 0));
      failsNaming("dparam_mode", LayersNative.frl_linear_backward(ctx, x.handle(), w.handle(), dy.handle(),
          dx.handle(), dw.handle(), null, 0, -1));
      failsNaming("dx_mode", LayersNative.frl_rmsnorm_backward(ctx, x.handle(), g3.handle(), rstd.handle(),
          dy3.handle(), dx.handle(), null, 7, 0));
      failsNaming("dw_mode", LayersNative.frl_rmsnorm_backward(ctx, x.handle(), g3.handle(), rstd.handle(),
          dy3.handle(), dx.handle(), null, 0, 2));
      failsNaming("mode", AttentionNative.frl_attention_backward(ctx, t, t, t, out.handle(), lse.handle(), t, 1,
          0.5f, dq.handle(), null, null, 2));
      failsNaming("mode", LayersNative.frl_swiglu_backward(ctx, x.handle(), x.handle(), x.handle(), dx.handle(),
          null, 3));
      failsNaming("mode", LayersNative.frl_rope(ctx, t, pos.handle(), 10000f, 1, dq.handle(), 2));
      failsNaming("mode", LayersNative.frl_embedding_backward(ctx, ids.handle(), dy3.handle(), table.handle(), 2));
      failsNaming("mode", KlNative.frl_token_logprobs_backward(ctx, logits.handle(), ids.handle(), null,
          glogp.handle(), null, dlogits.handle(), 2));
      failsNaming("dh_mode", PoolingNative.frl_reward_head_backward(ctx, h.handle(), end.handle(), g3.handle(),
          scores.handle(), dh.handle(), null, null, 2, 0));
      failsNaming("dparam_mode", PoolingNative.frl_value_head_backward(ctx, h.handle(), null, g3.handle(),
          values.handle(), dh.handle(), null, null, 0, 2));
    }
  }
}

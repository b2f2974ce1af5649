package org.factrl.model;

import java.util.Set;

/**
 * A linear layer a LoRA adapter set adapts (model.h's {@code FRL_LORA_*} bits). The decoder targets
 * adapt that projection in every decoder layer; {@link #PROJECTOR} adapts the projector's linear
 * layers ({@code linear_1}, and {@code linear_2} of the MLP projector).
 */
public enum LoraTarget {
  Q(1, "self_attn.q_proj"),
  K(2, "self_attn.k_proj"),
  V(4, "self_attn.v_proj"),
  O(8, "self_attn.o_proj"),
  GATE(16, "mlp.gate_proj"),
  UP(32, "mlp.up_proj"),
  DOWN(64, "mlp.down_proj"),
  PROJECTOR(128, "multi_modal_projector");

  private final int bit;
  private final String module;

  LoraTarget(int bit, String module) {
    this.bit = bit;
    this.module = module;
  }

  /** The native bit. */
  public int bit() {
    return bit;
  }

  /**
   * The module path: inside a decoder layer ({@code self_attn.q_proj}) for the decoder targets, the
   * projector module for {@link #PROJECTOR}.
   */
  public String module() {
    return module;
  }

  /**
   * The short name PEFT's {@code target_modules} uses for a decoder target ({@code q_proj}, ...);
   * matching a module's last name part, as PEFT does.
   */
  public String peftName() {
    return module.substring(module.lastIndexOf('.') + 1);
  }

  public boolean isDecoder() {
    return this != PROJECTOR;
  }

  /** The native bit set of {@code targets}. */
  public static int bits(Set<LoraTarget> targets) {
    int bits = 0;
    for (LoraTarget t : targets) {
      bits |= t.bit;
    }
    return bits;
  }
}

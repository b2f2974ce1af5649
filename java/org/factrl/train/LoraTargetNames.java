package org.factrl.train;

import java.util.Locale;
import org.factrl.model.LoraTarget;

/**
 * The one spelling of LoRA targets in config files. Every stage accepts both the short names
 * ({@code q, k, v, o, gate, up, down, projector}) and PEFT's module names ({@code q_proj, k_proj,
 * v_proj, o_proj, gate_proj, up_proj, down_proj, multi_modal_projector}); every stage writes the
 * PEFT names, the ones a saved adapter's {@code adapter_config.json} carries.
 */
public final class LoraTargetNames {
  private LoraTargetNames() {}

  /** The written name: PEFT's ({@code q_proj}, ..., {@code multi_modal_projector}). */
  public static String name(LoraTarget t) {
    return t == LoraTarget.PROJECTOR ? "multi_modal_projector" : t.peftName();
  }

  /** The target either spelling names, or null. */
  public static LoraTarget parse(String s) {
    for (LoraTarget t : LoraTarget.values()) {
      if (name(t).equals(s) || t.name().toLowerCase(Locale.ROOT).equals(s)) {
        return t;
      }
    }
    return null;
  }

  /** The accepted names, for an error message. */
  static String expected(boolean projector) {
    return "q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"
        + (projector ? ", multi_modal_projector" : "") + " (or q, k, v, o, gate, up, down"
        + (projector ? ", projector)" : "; the vision encoder and projector stay frozen in this stage)");
  }
}

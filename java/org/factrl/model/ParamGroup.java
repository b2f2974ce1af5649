package org.factrl.model;

import java.util.Set;

/**
 * A part of the base model's parameters, by HF name prefix: the parts whose gradients a
 * {@link LlavaModel#backward} writes (full fine-tuning: all three; projector alignment:
 * {@link #PROJECTOR} only). Model.h's {@code FRL_GROUP_*} bits.
 */
public enum ParamGroup {
  /** {@code vision_tower.*} */
  VISION(1, "vision_tower."),
  /** {@code multi_modal_projector.*} */
  PROJECTOR(2, "multi_modal_projector."),
  /** {@code language_model.*} */
  DECODER(4, "language_model.");

  private final int bit;
  private final String prefix;

  ParamGroup(int bit, String prefix) {
    this.bit = bit;
    this.prefix = prefix;
  }

  /** The native bit. */
  public int bit() {
    return bit;
  }

  /** The prefix of every parameter name in this group. */
  public String prefix() {
    return prefix;
  }

  /** The group a base parameter name belongs to. */
  public static ParamGroup of(String parameterName) {
    for (ParamGroup g : values()) {
      if (parameterName.startsWith(g.prefix)) {
        return g;
      }
    }
    throw new IllegalArgumentException("'" + parameterName + "' is in no parameter group");
  }

  /** The native bit set of {@code groups}. */
  public static int bits(Set<ParamGroup> groups) {
    int bits = 0;
    for (ParamGroup g : groups) {
      bits |= g.bit;
    }
    return bits;
  }
}

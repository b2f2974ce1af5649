package org.factrl.model;

/**
 * The projector from vision features (width Dv) to the decoder's width d (model.h's
 * {@code FRL_PROJECTOR_*}).
 */
public enum Projector {
  /** {@code linear_1}: one Dv → d linear layer with bias, as in the LLaVA paper (v1). */
  LINEAR("linear"),
  /** {@code linear_2(gelu(linear_1 x))}, GELU erf, as in LLaVA 1.5 and HF's {@code LlavaMultiModalProjector}. */
  MLP2X_GELU("mlp2x_gelu");

  private final String jsonName;

  Projector(String jsonName) {
    this.jsonName = jsonName;
  }

  /** The name in config.json's {@code "projector"} key (LLaVA's own {@code mm_projector_type} names). */
  public String jsonName() {
    return jsonName;
  }

  /** The native {@code FRL_PROJECTOR_*} code. */
  public int code() {
    return ordinal();
  }
}

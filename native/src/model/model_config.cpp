// Validation of frl_model_config and the sizes derived from it (factrl/model.h).
#include <cmath>

#include "model/model_internal.h"

namespace frl {
namespace model {
namespace {

void positive(int32_t v, const char* field) {
  FRL_REQUIRE(v > 0, FRL_ERR_ARGUMENT, "config field '%s' must be > 0, got %d", field, v);
}

void positive_finite(float v, const char* field) {
  FRL_REQUIRE(std::isfinite(v) && v > 0.f, FRL_ERR_ARGUMENT, "config field '%s' must be finite and > 0, got %g",
              field, static_cast<double>(v));
}

}  // namespace

void validate_config(const frl_model_config& c) {
  positive(c.image_size, "image_size");
  positive(c.image_channels, "image_channels");
  positive(c.patch_size, "patch_size");
  FRL_REQUIRE(c.image_size % c.patch_size == 0, FRL_ERR_ARGUMENT,
              "config field 'image_size' (%d) must be a multiple of 'patch_size' (%d)", c.image_size, c.patch_size);
  positive(c.vision_hidden, "vision_hidden");
  FRL_REQUIRE(c.vision_layers >= 0, FRL_ERR_ARGUMENT, "config field 'vision_layers' must be >= 0, got %d",
              c.vision_layers);
  positive(c.vision_heads, "vision_heads");
  FRL_REQUIRE(c.vision_hidden % c.vision_heads == 0, FRL_ERR_ARGUMENT,
              "config field 'vision_heads' (%d) must divide 'vision_hidden' (%d)", c.vision_heads, c.vision_hidden);
  positive(c.vision_intermediate, "vision_intermediate");
  FRL_REQUIRE(c.vision_feature_layer >= -(c.vision_layers + 1) && c.vision_feature_layer <= c.vision_layers,
              FRL_ERR_ARGUMENT, "config field 'vision_feature_layer' must be in [%d, %d], got %d",
              -(c.vision_layers + 1), c.vision_layers, c.vision_feature_layer);
  positive_finite(c.vision_layer_norm_eps, "vision_layer_norm_eps");
  FRL_REQUIRE(c.projector == FRL_PROJECTOR_LINEAR || c.projector == FRL_PROJECTOR_MLP2X_GELU, FRL_ERR_ARGUMENT,
              "config field 'projector' must be FRL_PROJECTOR_LINEAR (0) or FRL_PROJECTOR_MLP2X_GELU (1), got %d",
              c.projector);
  positive(c.vocab_size, "vocab_size");
  positive(c.hidden, "hidden");
  FRL_REQUIRE(c.layers >= 0, FRL_ERR_ARGUMENT, "config field 'layers' must be >= 0, got %d", c.layers);
  positive(c.heads, "heads");
  FRL_REQUIRE(c.hidden % c.heads == 0 && (c.hidden / c.heads) % 2 == 0, FRL_ERR_ARGUMENT,
              "config field 'heads' (%d) must divide 'hidden' (%d) into even head dimensions (RoPE)", c.heads,
              c.hidden);
  positive(c.intermediate, "intermediate");
  positive(c.max_positions, "max_positions");
  positive_finite(c.rope_theta, "rope_theta");
  positive_finite(c.rms_norm_eps, "rms_norm_eps");
  FRL_REQUIRE(c.image_token_id >= 0 && c.image_token_id < c.vocab_size, FRL_ERR_ARGUMENT,
              "config field 'image_token_id' must be in [0, vocab_size = %d), got %d", c.vocab_size,
              c.image_token_id);
}

Dims dims_of(const frl_model_config& c) {
  Dims d{};
  d.C = c.image_channels;
  d.H = c.image_size;
  d.p = c.patch_size;
  d.P = (d.H / d.p) * (d.H / d.p);
  d.Pf = d.C * d.p * d.p;
  d.Tv = d.P + 1;
  d.Dv = c.vision_hidden;
  d.Hv = c.vision_heads;
  d.Dhv = d.Dv / d.Hv;
  d.Fv = c.vision_intermediate;
  d.Lv = c.vision_layers;
  // hidden_states index: 0 = embeddings after pre_layrnorm, i = output of block i-1; negative from the end.
  d.feature_blocks = c.vision_feature_layer >= 0 ? c.vision_feature_layer : d.Lv + 1 + c.vision_feature_layer;
  d.V = c.vocab_size;
  d.d = c.hidden;
  d.H_heads = c.heads;
  d.Dh = d.d / d.H_heads;
  d.F = c.intermediate;
  d.L = c.layers;
  return d;
}

}  // namespace model
}  // namespace frl

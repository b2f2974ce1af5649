// The parameter layouts: the base blob's entries under HF LlavaForConditionalGeneration names in
// the order of factrl/model.h, and an adapter set's entries under PEFT names.
#include <string>

#include "model/model_internal.h"

namespace frl {
namespace model {
namespace {

struct Builder {
  std::vector<std::string>* names;
  std::vector<std::vector<int64_t>>* shapes;
  int add(const std::string& name, std::vector<int64_t> shape) {
    names->push_back(name);
    shapes->push_back(std::move(shape));
    return static_cast<int>(names->size()) - 1;
  }
};

}  // namespace

BaseLayout base_layout(const frl_model_config& c) {
  const Dims D = dims_of(c);
  BaseLayout L;
  Builder b{&L.names, &L.shapes};
  const std::string vm = "vision_tower.vision_model.";
  L.group_begin[0] = 0;
  L.patch_w = b.add(vm + "embeddings.patch_embedding.weight", {D.Dv, D.C, D.p, D.p});
  L.class_emb = b.add(vm + "embeddings.class_embedding", {D.Dv});
  L.pos_emb = b.add(vm + "embeddings.position_embedding.weight", {D.Tv, D.Dv});
  L.pre_ln_w = b.add(vm + "pre_layrnorm.weight", {D.Dv});
  L.pre_ln_b = b.add(vm + "pre_layrnorm.bias", {D.Dv});
  for (int64_t i = 0; i < D.Lv; i++) {
    const std::string p = vm + "encoder.layers." + std::to_string(i) + ".";
    VisionLayerParams v;
    v.ln1_w = b.add(p + "layer_norm1.weight", {D.Dv});
    v.ln1_b = b.add(p + "layer_norm1.bias", {D.Dv});
    v.q_w = b.add(p + "self_attn.q_proj.weight", {D.Dv, D.Dv});
    v.k_w = b.add(p + "self_attn.k_proj.weight", {D.Dv, D.Dv});
    v.v_w = b.add(p + "self_attn.v_proj.weight", {D.Dv, D.Dv});
    v.o_w = b.add(p + "self_attn.out_proj.weight", {D.Dv, D.Dv});
    v.q_b = b.add(p + "self_attn.q_proj.bias", {D.Dv});
    v.k_b = b.add(p + "self_attn.k_proj.bias", {D.Dv});
    v.v_b = b.add(p + "self_attn.v_proj.bias", {D.Dv});
    v.o_b = b.add(p + "self_attn.out_proj.bias", {D.Dv});
    v.ln2_w = b.add(p + "layer_norm2.weight", {D.Dv});
    v.ln2_b = b.add(p + "layer_norm2.bias", {D.Dv});
    v.fc1_w = b.add(p + "mlp.fc1.weight", {D.Fv, D.Dv});
    v.fc1_b = b.add(p + "mlp.fc1.bias", {D.Fv});
    v.fc2_w = b.add(p + "mlp.fc2.weight", {D.Dv, D.Fv});
    v.fc2_b = b.add(p + "mlp.fc2.bias", {D.Dv});
    L.vision.push_back(v);
  }
  L.group_end[0] = L.group_begin[1] = static_cast<int>(L.names.size());
  L.proj1_w = b.add("multi_modal_projector.linear_1.weight", {D.d, D.Dv});
  L.proj1_b = b.add("multi_modal_projector.linear_1.bias", {D.d});
  if (c.projector == FRL_PROJECTOR_MLP2X_GELU) {
    L.proj2_w = b.add("multi_modal_projector.linear_2.weight", {D.d, D.d});
    L.proj2_b = b.add("multi_modal_projector.linear_2.bias", {D.d});
  }
  L.group_end[1] = L.group_begin[2] = static_cast<int>(L.names.size());
  const std::string lm = "language_model.model.";
  L.embed = b.add(lm + "embed_tokens.weight", {D.V, D.d});
  for (int64_t i = 0; i < D.L; i++) {
    const std::string p = lm + "layers." + std::to_string(i) + ".";
    DecoderLayerParams l;
    l.in_norm = b.add(p + "input_layernorm.weight", {D.d});
    l.q = b.add(p + "self_attn.q_proj.weight", {D.d, D.d});
    l.k = b.add(p + "self_attn.k_proj.weight", {D.d, D.d});
    l.v = b.add(p + "self_attn.v_proj.weight", {D.d, D.d});
    l.o = b.add(p + "self_attn.o_proj.weight", {D.d, D.d});
    l.post_norm = b.add(p + "post_attention_layernorm.weight", {D.d});
    l.gate = b.add(p + "mlp.gate_proj.weight", {D.F, D.d});
    l.up = b.add(p + "mlp.up_proj.weight", {D.F, D.d});
    l.down = b.add(p + "mlp.down_proj.weight", {D.d, D.F});
    L.decoder.push_back(l);
  }
  L.norm = b.add(lm + "norm.weight", {D.d});
  L.lm_head = b.add("language_model.lm_head.weight", {D.V, D.d});
  L.group_end[2] = static_cast<int>(L.names.size());
  return L;
}

// Projector pairs first (model order: the projector runs before the decoder), then each decoder
// layer's targets in the order q, k, v, o, gate, up, down; lora_A before lora_B.
AdapterLayout adapter_layout(const frl_model_config& c, int64_t r, uint32_t targets) {
  const Dims D = dims_of(c);
  AdapterLayout A;
  Builder b{&A.names, &A.shapes};
  auto pair = [&](const std::string& prefix, int64_t K, int64_t M) {
    LoraSlot s;
    s.a = b.add(prefix + ".lora_A.weight", {r, K});
    A.fan_in.push_back(K);
    A.is_a.push_back(true);
    s.b = b.add(prefix + ".lora_B.weight", {M, r});
    A.fan_in.push_back(r);
    A.is_a.push_back(false);
    return s;
  };
  if (targets & FRL_LORA_PROJECTOR) {
    A.proj1 = pair("base_model.model.multi_modal_projector.linear_1", D.Dv, D.d);
    if (c.projector == FRL_PROJECTOR_MLP2X_GELU)
      A.proj2 = pair("base_model.model.multi_modal_projector.linear_2", D.d, D.d);
  }
  static const char* const kNames[kTargets] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                               "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                               "mlp.down_proj"};
  const int64_t in[kTargets] = {D.d, D.d, D.d, D.d, D.d, D.d, D.F};
  const int64_t out[kTargets] = {D.d, D.d, D.d, D.d, D.F, D.F, D.d};
  A.layer.resize(static_cast<size_t>(D.L));
  for (int64_t i = 0; i < D.L; i++) {
    const std::string p = "base_model.model.language_model.model.layers." + std::to_string(i) + ".";
    for (int t = 0; t < kTargets; t++)
      if (targets & (1u << t)) A.layer[i][t] = pair(p + kNames[t], in[t], out[t]);
  }
  return A;
}

}  // namespace model
}  // namespace frl

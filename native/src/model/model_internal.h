// Internals of the LLaVA model (factrl/model.h) shared by the files of native/src/model: the
// parameter layout (entry indices of every weight in the base blob, PEFT entries of an adapter set),
// the activation arena (llm.c's ActivationTensors: every buffer's size from the plan), and the
// forward / backward passes of the three parts (vision tower, projector, decoder), which call the
// per-backend layer ops of model_ops.h on raw pointers (host memory on the CPU, device memory on
// CUDA), within the ExecScope each model C API entry point opens.
#pragma once

#include <array>
#include <functional>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine.h"
#include "factrl/model.h"

struct frl_storage;

namespace frl {
namespace model {

// ---- config ----------------------------------------------------------------------------------
// Checks every field (FRL_ERR_ARGUMENT naming the field and its value).
void validate_config(const frl_model_config& c);
// Derived sizes.
struct Dims {
  int64_t C, H, p, P, Pf;    // channels, image side, patch side, patches per image, C·p·p
  int64_t Tv;                // vision tokens per image: P + 1 (class token first)
  int64_t Dv, Hv, Dhv, Fv;   // vision width, heads, head dim, MLP width
  int64_t feature_blocks;    // vision blocks that run: the feature layer as a hidden_states index
  int64_t V, d, H_heads, Dh, F, L, Lv;
};
Dims dims_of(const frl_model_config& c);

// ---- parameter layout ------------------------------------------------------------------------
// Entry indices into the base blob (order and names: factrl/model.h).
struct VisionLayerParams {
  int ln1_w, ln1_b, q_w, k_w, v_w, o_w, q_b, k_b, v_b, o_b, ln2_w, ln2_b, fc1_w, fc1_b, fc2_w, fc2_b;
};
struct DecoderLayerParams {
  int in_norm, q, k, v, o, post_norm, gate, up, down;
};
struct BaseLayout {
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  int patch_w, class_emb, pos_emb, pre_ln_w, pre_ln_b;
  std::vector<VisionLayerParams> vision;
  int proj1_w, proj1_b, proj2_w = -1, proj2_b = -1;
  int embed;
  std::vector<DecoderLayerParams> decoder;
  int norm, lm_head;
  // Entry ranges [begin, end) of the groups vision, projector, decoder (FRL_GROUP_* bit order).
  int group_begin[3], group_end[3];
};
BaseLayout base_layout(const frl_model_config& c);

// The decoder's LoRA targets in PEFT order (bit i of FRL_LORA_* is target i).
enum Target { kQ = 0, kK, kV, kO, kGate, kUp, kDown, kTargets };
// One LoRA pair's entry indices in an adapter blob (-1: not targeted).
struct LoraSlot {
  int a = -1, b = -1;
};
struct AdapterLayout {
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  std::vector<int64_t> fan_in;  // K of each entry's projection (A's init bound 1/√K)
  std::vector<bool> is_a;
  std::vector<std::array<LoraSlot, kTargets>> layer;
  LoraSlot proj1, proj2;
};
AdapterLayout adapter_layout(const frl_model_config& c, int64_t rank, uint32_t targets);

// Deterministic initialisation (splitmix64 stream + Box-Muller), entries in blob order.
void init_base(const BaseLayout& layout, const std::vector<float*>& w, uint64_t seed, float std);
void init_adapter(const AdapterLayout& layout, const std::vector<float*>& w, uint64_t seed);

// ---- LoRA weights as the kernels take them ----------------------------------------------------
struct Lora {
  const float* A = nullptr;  // [r, K]; null: no adapter on this projection
  const float* B = nullptr;  // [M, r]
  float scale = 0.f;
  int64_t r = 0;
};
struct LoraGrad {
  float* dA = nullptr;
  float* dB = nullptr;
};

// y[N, M] = x[N, K] Wᵀ (+ s (x Aᵀ) Bᵀ) (+ b).
void project_forward(const float* x, const float* W, const float* b, const Lora& lora, float* y, int64_t N,
                     int64_t K, int64_t M);
// dx (=|+=) dy W (+ s (dy B) A) (dx may be null); dW += dyᵀ x, db += Σ_n dy, dA += s (dy B)ᵀ x,
// dB += s dyᵀ (x Aᵀ): parameter gradients always accumulate (the backward zeroes them first for
// FRL_GRAD_OVERWRITE), each null one is skipped.
void project_backward(const float* x, const float* W, const Lora& lora, const float* dy, float* dx, bool dx_accumulate,
                      float* dW, float* db, const LoraGrad& g, int64_t N, int64_t K, int64_t M);

// ---- activation arena --------------------------------------------------------------------------
struct VisionLayerActs {
  float *ln1, *ln1_mean, *ln1_rstd, *q, *k, *v, *att, *lse, *mid, *ln2, *ln2_mean, *ln2_rstd, *fc1, *act;
};
struct DecoderLayerActs {
  float *rms1, *rstd1, *qr, *kr, *v, *att, *lse, *mid, *rms2, *rstd2, *gate, *up, *act;
};
// Every buffer of a forward (and, when planned for training, of the backward), carved from one
// allocation by the same code that sizes it (carve with base = null only counts).
struct Acts {
  // vision
  float *patches, *patch_proj, *emb_v, *pre_mean, *pre_rstd;
  std::vector<float*> res_v;  // feature_blocks + 1 residual streams [Bi·Tv, Dv]
  std::vector<VisionLayerActs> vl;  // one per run block when training, one shared set otherwise
  float *feat, *proj_h, *proj_g, *proj_out;
  // decoder
  int32_t *ids, *positions, *img_pos, *targets;
  std::vector<int32_t> img_pos_host;  // img_pos's values on the host (the forward's), for the backward
  std::vector<float*> res;  // L + 1 residual streams [B·S, d]
  std::vector<DecoderLayerActs> dl;
  float *q_tmp, *k_tmp, *tmp, *hidden, *rstd_f, *logits, *lse_logits, *logp;
  // backward (training plans only)
  float *dlogits, *dres, *dtmp, *dq, *dk, *dv, *dqr, *dkr, *datt, *dgate, *dup, *dact;
  float *dproj_out, *dproj_g, *dproj_h, *dfeat;
  float *dres_v, *dtmp_v, *dq_v, *dk_v, *dv_v, *datt_v, *dfc1_v, *dact_v, *demb_v, *dpatch_proj;
};
// Lays the buffers out from base (null: count only); returns the bytes used.
int64_t carve_acts(const frl_model_config& c, int64_t max_batch, int64_t max_seq, int64_t max_images, bool train,
                   char* base, Acts* acts);

// ---- passes -------------------------------------------------------------------------------------
// Base weights and (optional) gradient pointers, indexed like BaseLayout.
using Ptrs = std::vector<float*>;
struct AdapterView {  // the active adapter's weights and gradients (all null: none)
  const std::vector<std::array<LoraSlot, kTargets>>* layer = nullptr;
  LoraSlot proj1, proj2;
  const Ptrs* w = nullptr;
  const Ptrs* g = nullptr;  // adapter_grads entries, or null
  float scale = 0.f;
  int64_t r = 0;
  Lora lora(const LoraSlot& s) const;
  LoraGrad grad(const LoraSlot& s) const;
};

// Vision tower: images [Bi, C, H, W] → acts.feat [Bi·P, Dv] (the feature layer's patch tokens).
void vision_forward(const Dims& D, const BaseLayout& L, const Ptrs& w, float eps, const float* images, int64_t Bi,
                    Acts& a, bool train);
// d feat → gradients of the vision group (g: base grads, all entries non-null).
void vision_backward(const Dims& D, const BaseLayout& L, const Ptrs& w, const Ptrs& g, float eps, int64_t Bi,
                     Acts& a);
// Projector: acts.feat → acts.proj_out [Bi·P, d].
void projector_forward(const Dims& D, const BaseLayout& L, const Ptrs& w, int projector, const AdapterView& ad,
                       int64_t Bi, Acts& a);
// d proj_out → projector weight grads (gw null: not wanted), LoRA grads, and d feat when want_dfeat.
void projector_backward(const Dims& D, const BaseLayout& L, const Ptrs& w, const Ptrs* gw, int projector,
                        const AdapterView& ad, int64_t Bi, bool want_dfeat, Acts& a);
// Called by decoder_forward for every layer l with its K after RoPE and its V ([B·S, d] each), before
// the attention: the prefill copies them into a KV cache.
using KvHook = std::function<void(int64_t l, const float* kr, const float* v)>;
// Decoder: acts.ids (+ proj_out spliced at img_pos) → hidden, and logits when want_logits.
void decoder_forward(const Dims& D, const BaseLayout& L, const Ptrs& w, const frl_model_config& c,
                     const AdapterView& ad, int64_t B, int64_t S, int64_t n_img, bool want_logits, Acts& a,
                     bool train, const KvHook* kv_hook = nullptr);
// The decoder's pieces, shared by decoder_forward and the KV-cache decode step (decode.cpp), N rows:
// x.rms1 = RMS1(in), x.v = v(x.rms1), x.qr / x.kr = RoPE(q / k(x.rms1)) at positions (q_tmp, k_tmp:
// pre-RoPE scratch [N, d]).
void decoder_layer_qkv(const Dims& D, const BaseLayout& L, const Ptrs& w, const frl_model_config& c,
                       const AdapterView& ad, int64_t l, const float* in, const int32_t* positions, float* q_tmp,
                       float* k_tmp, DecoderLayerActs& x, int64_t N);
// x.mid = in + o(x.att), out = x.mid + down(silu(gate(RMS2 x.mid)) · up(RMS2 x.mid)).
void decoder_layer_out(const Dims& D, const BaseLayout& L, const Ptrs& w, const frl_model_config& c,
                       const AdapterView& ad, int64_t l, const float* in, DecoderLayerActs& x, float* out, int64_t N);
// hidden = RMS_f(x_last) (rstd: its [N] scratch), logits = hidden lm_headᵀ unless logits is null.
void decoder_head(const Dims& D, const BaseLayout& L, const Ptrs& w, const frl_model_config& c, const float* x_last,
                  float* hidden, float* rstd, float* logits, int64_t N);
// From d_logp (over acts.logits, acts.targets) and/or d_hidden: decoder weight grads (gw null: not
// wanted), LoRA grads, and d proj_out when want_dproj.
void decoder_backward(const Dims& D, const BaseLayout& L, const Ptrs& w, const Ptrs* gw, const frl_model_config& c,
                      const AdapterView& ad, int64_t B, int64_t S, int64_t n_img, const float* d_logp,
                      const float* d_hidden, bool want_dproj, Acts& a);

// ---- model state (the frl_model handle) --------------------------------------------------------
// A named LoRA adapter set: its blob (PEFT names) and the entry pointers.
struct AdapterSet {
  std::string name;
  int32_t rank = 0;
  float alpha = 0.f;
  uint32_t targets = 0;
  AdapterLayout layout;
  frl_blob* blob = nullptr;
  Ptrs w;
};
// The set's weights as the passes take them (set null: no adapter), with its gradients when given.
AdapterView adapter_view(const AdapterSet* set, const Ptrs* grads);
// The set called `name` (argument `arg`), or FRL_ERR_ARGUMENT quoting the name.
AdapterSet* find_adapter(const frl_model* model, const char* name, const char* arg);




}  // namespace model
}  // namespace frl

// The model handle: config, the base blob, the adapter sets, the activation plan, and what the
// backward needs to know about the last training forward. (Here, not in model_api.cpp, so that
// other native code on the model — generation — can reach the same state.)
struct frl_model {
  frl_ctx* ctx = nullptr;
  frl_model_config config{};
  frl::model::Dims dims{};
  frl::model::BaseLayout layout;
  frl_blob* params = nullptr;
  frl::model::Ptrs w;
  std::vector<std::unique_ptr<frl::model::AdapterSet>> adapters;
  // the plan
  frl_storage* arena = nullptr;
  int64_t plan_batch = 0, plan_seq = 0, plan_images = 0;
  bool plan_train = false;
  frl::model::Acts acts{};
  // the last training forward, for the backward (valid while no other forward ran since)
  bool trained = false;
  const frl::model::AdapterSet* fwd_adapter = nullptr;
  int64_t fwd_B = 0, fwd_S = 0, fwd_Bi = 0, fwd_nimg = 0;
  bool fwd_targets = false;
  // the last vision-only training forward (frl_model_vision_forward), for frl_model_vision_backward;
  // any other forward clears it (it shares the vision activations of the arena)
  bool vision_trained = false;
  int64_t vision_fwd_Bi = 0;
  // Set only while frl_model_prefill runs frl_model_forward (generate_api.cpp): the hook copies each
  // layer's K / V into the KV cache, and the logits are computed even though no output asks for them.
  const frl::model::KvHook* gen_kv_hook = nullptr;
  bool gen_force_logits = false;
};

// Forward of the LLaMA decoder with the image splice (factrl/model.h):
//
//   x0 = embed(ids), with the image-token rows replaced by the projected patch features (img_pos)
//   m_l     = x_l + o(attn_causal(rope(q(RMS1 x_l)), rope(k(RMS1 x_l)), v(RMS1 x_l)))
//   x_{l+1} = m_l + down(silu(gate(RMS2 m_l)) · up(RMS2 m_l))
//   hidden  = RMS_f(x_L),  logits = hidden lm_headᵀ
//
// The layer is split into its halves around the attention (decoder_layer_qkv / decoder_layer_out)
// and the head (decoder_head), so the KV-cache decode step (decode.cpp) runs the same code on its
// one new token per row, with the attention over the cache in between.
//
// every q/k/v/o/gate/up/down with the active adapter's LoRA pair where it has one.
#include <cmath>

#include "model/model_internal.h"
#include "model/model_ops.h"

namespace frl {
namespace model {
namespace {

Lora lora_at(const AdapterView& ad, int64_t l, int t) { return ad.layer ? ad.lora((*ad.layer)[l][t]) : Lora{}; }

}  // namespace

// x.rms1 = RMS1(in); x.v = v(x.rms1); x.qr, x.kr = rope(q(x.rms1)), rope(k(x.rms1)) at `positions`
// (q_tmp, k_tmp: the pre-RoPE scratch). N rows.
void decoder_layer_qkv(const Dims& D, const BaseLayout& L, const Ptrs& w, const frl_model_config& c,
                       const AdapterView& ad, int64_t l, const float* in, const int32_t* positions, float* q_tmp,
                       float* k_tmp, DecoderLayerActs& x, int64_t N) {
  const DecoderLayerParams& p = L.decoder[l];
  const int64_t d = D.d;
  ops::rmsnorm_forward(in, w[p.in_norm], c.rms_norm_eps, x.rms1, x.rstd1, N, d);
  project_forward(x.rms1, w[p.q], nullptr, lora_at(ad, l, kQ), q_tmp, N, d, d);
  project_forward(x.rms1, w[p.k], nullptr, lora_at(ad, l, kK), k_tmp, N, d, d);
  project_forward(x.rms1, w[p.v], nullptr, lora_at(ad, l, kV), x.v, N, d, d);
  ops::rope(q_tmp, positions, c.rope_theta, false, x.qr, N, D.H_heads, D.Dh);
  ops::rope(k_tmp, positions, c.rope_theta, false, x.kr, N, D.H_heads, D.Dh);
}

// x.mid = in + o(x.att); out = x.mid + down(silu(gate(RMS2 x.mid)) · up(RMS2 x.mid)). N rows.
void decoder_layer_out(const Dims& D, const BaseLayout& L, const Ptrs& w, const frl_model_config& c,
                       const AdapterView& ad, int64_t l, const float* in, DecoderLayerActs& x, float* out, int64_t N) {
  const DecoderLayerParams& p = L.decoder[l];
  const int64_t d = D.d, F = D.F;
  project_forward(x.att, w[p.o], nullptr, lora_at(ad, l, kO), x.mid, N, d, d);
  ops::add(in, x.mid, x.mid, N * d);
  ops::rmsnorm_forward(x.mid, w[p.post_norm], c.rms_norm_eps, x.rms2, x.rstd2, N, d);
  project_forward(x.rms2, w[p.gate], nullptr, lora_at(ad, l, kGate), x.gate, N, d, F);
  project_forward(x.rms2, w[p.up], nullptr, lora_at(ad, l, kUp), x.up, N, d, F);
  ops::swiglu_forward(x.gate, x.up, x.act, N * F);
  project_forward(x.act, w[p.down], nullptr, lora_at(ad, l, kDown), out, N, F, d);
  ops::add(x.mid, out, out, N * d);
}

// hidden = RMS_f(x_L) (rstd saved), logits = hidden lm_headᵀ when logits is non-null. N rows.
void decoder_head(const Dims& D, const BaseLayout& L, const Ptrs& w, const frl_model_config& c, const float* x_last,
                  float* hidden, float* rstd, float* logits, int64_t N) {
  ops::rmsnorm_forward(x_last, w[L.norm], c.rms_norm_eps, hidden, rstd, N, D.d);
  if (logits) ops::linear_forward(hidden, w[L.lm_head], nullptr, logits, N, D.d, D.V);
}

void decoder_forward(const Dims& D, const BaseLayout& L, const Ptrs& w, const frl_model_config& c,
                     const AdapterView& ad, int64_t B, int64_t S, int64_t n_img, bool want_logits, Acts& a,
                     bool train, const KvHook* kv_hook) {
  const int64_t N = B * S, d = D.d;
  ops::embedding_forward(a.ids, w[L.embed], a.res[0], N, D.V, d);
  if (n_img > 0) ops::scatter_rows(a.proj_out, a.img_pos, a.res[0], n_img, N, d);
  const float scale = 1.0f / std::sqrt(static_cast<float>(D.Dh));
  for (int64_t l = 0; l < D.L; l++) {
    DecoderLayerActs& x = a.dl[train ? l : 0];
    decoder_layer_qkv(D, L, w, c, ad, l, a.res[l], a.positions, a.q_tmp, a.k_tmp, x, N);
    if (kv_hook) (*kv_hook)(l, x.kr, x.v);
    ops::attention_forward(x.qr, x.kr, x.v, x.att, x.lse, B, S, D.H_heads, D.Dh, true, scale);
    decoder_layer_out(D, L, w, c, ad, l, a.res[l], x, a.res[l + 1], N);
  }
  decoder_head(D, L, w, c, a.res[D.L], a.hidden, a.rstd_f, want_logits ? a.logits : nullptr, N);
}

}  // namespace model
}  // namespace frl

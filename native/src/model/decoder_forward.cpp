// Forward of the LLaMA decoder with the image splice (factrl/model.h):
//
//   x0 = embed(ids), with the image-token rows replaced by the projected patch features (img_pos)
//   m_l     = x_l + o(attn_causal(rope(q(RMS1 x_l)), rope(k(RMS1 x_l)), v(RMS1 x_l)))
//   x_{l+1} = m_l + down(silu(gate(RMS2 m_l)) · up(RMS2 m_l))
//   hidden  = RMS_f(x_L),  logits = hidden lm_headᵀ
//
// every q/k/v/o/gate/up/down with the active adapter's LoRA pair where it has one.
#include <cmath>

#include "cpu/attention_cpu.h"
#include "cpu/embedding_cpu.h"
#include "cpu/glue_cpu.h"
#include "cpu/linear_cpu.h"
#include "cpu/rmsnorm_cpu.h"
#include "cpu/rope_cpu.h"
#include "cpu/swiglu_cpu.h"
#include "model/model_internal.h"

namespace frl {
namespace model {
namespace {

Lora lora_at(const AdapterView& ad, int64_t l, int t) { return ad.layer ? ad.lora((*ad.layer)[l][t]) : Lora{}; }

}  // namespace

void decoder_forward(const Dims& D, const BaseLayout& L, const Ptrs& w, const frl_model_config& c,
                     const AdapterView& ad, int64_t B, int64_t S, int64_t n_img, bool want_logits, Acts& a,
                     bool train) {
  const int64_t N = B * S, d = D.d, F = D.F;
  cpu::embedding_forward(a.ids, w[L.embed], a.res[0], N, d);
  if (n_img > 0) cpu::scatter_rows(a.proj_out, a.img_pos, a.res[0], n_img, sizeof(float) * static_cast<size_t>(d));
  const float scale = 1.0f / std::sqrt(static_cast<float>(D.Dh));
  for (int64_t l = 0; l < D.L; l++) {
    const DecoderLayerParams& p = L.decoder[l];
    DecoderLayerActs& x = a.dl[train ? l : 0];
    const float* in = a.res[l];
    float* out = a.res[l + 1];
    cpu::rmsnorm_forward(in, w[p.in_norm], c.rms_norm_eps, x.rms1, x.rstd1, N, d);
    project_forward(x.rms1, w[p.q], nullptr, lora_at(ad, l, kQ), a.q_tmp, N, d, d);
    project_forward(x.rms1, w[p.k], nullptr, lora_at(ad, l, kK), a.k_tmp, N, d, d);
    project_forward(x.rms1, w[p.v], nullptr, lora_at(ad, l, kV), x.v, N, d, d);
    cpu::rope(a.q_tmp, a.positions, c.rope_theta, false, x.qr, N, D.H_heads, D.Dh, false);
    cpu::rope(a.k_tmp, a.positions, c.rope_theta, false, x.kr, N, D.H_heads, D.Dh, false);
    cpu::attention_forward(x.qr, x.kr, x.v, x.att, x.lse, B, S, D.H_heads, D.Dh, true, scale);
    project_forward(x.att, w[p.o], nullptr, lora_at(ad, l, kO), x.mid, N, d, d);
    cpu::add(in, x.mid, x.mid, N * d);
    cpu::rmsnorm_forward(x.mid, w[p.post_norm], c.rms_norm_eps, x.rms2, x.rstd2, N, d);
    project_forward(x.rms2, w[p.gate], nullptr, lora_at(ad, l, kGate), x.gate, N, d, F);
    project_forward(x.rms2, w[p.up], nullptr, lora_at(ad, l, kUp), x.up, N, d, F);
    cpu::swiglu_forward(x.gate, x.up, x.act, N * F);
    project_forward(x.act, w[p.down], nullptr, lora_at(ad, l, kDown), out, N, F, d);
    cpu::add(x.mid, out, out, N * d);
  }
  cpu::rmsnorm_forward(a.res[D.L], w[L.norm], c.rms_norm_eps, a.hidden, a.rstd_f, N, d);
  if (want_logits) cpu::linear_forward(a.hidden, w[L.lm_head], nullptr, a.logits, N, d, D.V);
}

}  // namespace model
}  // namespace frl

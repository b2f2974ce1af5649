// Backward of the decoder (the forward in decoder_forward.cpp), from d logp and / or d hidden:
//
//   d logits = d logp_t (onehot(target_t) − softmax(logits_t))         (token_logprobs_backward)
//   d hidden = d logits lm_head + d_hidden                             (the heads' input)
//   d x_L    = RMS_fᵀ(d hidden)
//   per block, in reverse (m = x + o(att), y = m + down(act), act = silu(gate) · up):
//     d act = dy Wdown;  (d gate, d up) = swigluᵀ(d act);  d m = dy + RMS2ᵀ(d gate Wgate + d up Wup)
//     d att = d m Wo;  (d qr, d kr, d v) = attnᵀ(d att);  d q = rope⁻¹(d qr), d k = rope⁻¹(d kr)
//     d x = d m + RMS1ᵀ(d q Wq + d k Wk + d v Wv)
//   d x_0 at image-token rows → d proj_out; the other rows → the embedding table.
//
// Parameter gradients (gw: decoder weights, or null when the decoder group is not trained; the
// adapter's dA / dB through ad.g) are added into: the caller zeroes them for FRL_GRAD_OVERWRITE.
#include <cmath>
#include <cstring>
#include <vector>

#include "model/model_internal.h"
#include "model/model_ops.h"

namespace frl {
namespace model {
namespace {

Lora lora_at(const AdapterView& ad, int64_t l, int t) { return ad.layer ? ad.lora((*ad.layer)[l][t]) : Lora{}; }
LoraGrad grad_at(const AdapterView& ad, int64_t l, int t) {
  return ad.layer ? ad.grad((*ad.layer)[l][t]) : LoraGrad{};
}

}  // namespace

void decoder_backward(const Dims& D, const BaseLayout& L, const Ptrs& w, const Ptrs* gw, const frl_model_config& c,
                      const AdapterView& ad, int64_t B, int64_t S, int64_t n_img, const float* d_logp,
                      const float* d_hidden, bool want_dproj, Acts& a) {
  const int64_t N = B * S, d = D.d, F = D.F;
  auto grad = [&](int e) { return gw != nullptr ? (*gw)[e] : nullptr; };
  // d hidden into dtmp
  if (d_logp != nullptr) {
    ops::token_logprobs_backward(a.logits, a.targets, d_logp, a.lse_logits, a.dlogits, N, D.V);
    ops::linear_backward(a.hidden, w[L.lm_head], a.dlogits, a.dtmp, grad(L.lm_head), nullptr, N, d, D.V, false, true);
    if (d_hidden != nullptr) ops::add(a.dtmp, d_hidden, a.dtmp, N * d);
  } else {
    ops::copy(a.dtmp, d_hidden, sizeof(float) * static_cast<size_t>(N * d));
  }
  ops::rmsnorm_backward(a.res[D.L], w[L.norm], a.rstd_f, a.dtmp, a.dres, grad(L.norm), N, d, false, true);
  const float scale = 1.0f / std::sqrt(static_cast<float>(D.Dh));
  for (int64_t l = D.L - 1; l >= 0; l--) {
    const DecoderLayerParams& p = L.decoder[l];
    const DecoderLayerActs& x = a.dl[l];
    project_backward(x.act, w[p.down], lora_at(ad, l, kDown), a.dres, a.dact, false, grad(p.down), nullptr,
                     grad_at(ad, l, kDown), N, F, d);
    ops::swiglu_backward(x.gate, x.up, a.dact, a.dgate, a.dup, N * F);
    project_backward(x.rms2, w[p.gate], lora_at(ad, l, kGate), a.dgate, a.dtmp, false, grad(p.gate), nullptr,
                     grad_at(ad, l, kGate), N, d, F);
    project_backward(x.rms2, w[p.up], lora_at(ad, l, kUp), a.dup, a.dtmp, true, grad(p.up), nullptr,
                     grad_at(ad, l, kUp), N, d, F);
    ops::rmsnorm_backward(x.mid, w[p.post_norm], x.rstd2, a.dtmp, a.dres, grad(p.post_norm), N, d, true, true);
    project_backward(x.att, w[p.o], lora_at(ad, l, kO), a.dres, a.datt, false, grad(p.o), nullptr,
                     grad_at(ad, l, kO), N, d, d);
    ops::attention_backward(x.qr, x.kr, x.v, x.att, x.lse, a.datt, a.dqr, a.dkr, a.dv, B, S, D.H_heads, D.Dh, true,
                            scale);
    ops::rope(a.dqr, a.positions, c.rope_theta, true, a.dq, N, D.H_heads, D.Dh);
    ops::rope(a.dkr, a.positions, c.rope_theta, true, a.dk, N, D.H_heads, D.Dh);
    // Below the first block only the embedding table and the projector take gradients: LoRA-only
    // training of a text batch stops at the first block's q / k / v.
    const bool below = l > 0 || gw != nullptr || (want_dproj && n_img > 0);
    float* dx = below ? a.dtmp : nullptr;
    project_backward(x.rms1, w[p.q], lora_at(ad, l, kQ), a.dq, dx, false, grad(p.q), nullptr, grad_at(ad, l, kQ), N,
                     d, d);
    project_backward(x.rms1, w[p.k], lora_at(ad, l, kK), a.dk, dx, true, grad(p.k), nullptr, grad_at(ad, l, kK), N,
                     d, d);
    project_backward(x.rms1, w[p.v], lora_at(ad, l, kV), a.dv, dx, true, grad(p.v), nullptr, grad_at(ad, l, kV), N,
                     d, d);
    if (below)
      ops::rmsnorm_backward(a.res[l], w[p.in_norm], x.rstd1, a.dtmp, a.dres, grad(p.in_norm), N, d, true, true);
    else
      return;  // nothing below needs d x_0
  }
  // The image-token rows' gradient goes to the projector, never to the image token's embedding row.
  if (n_img > 0) {
    if (want_dproj)
      ops::gather_rows(a.dres, a.img_pos, a.dproj_out, n_img, N, d);
    // a.img_pos is arena (device) memory: the rows are zeroed from the host copy the forward kept,
    // one call per run of consecutive rows (a row's image tokens are contiguous: one call per image).
    const std::vector<int32_t>& rows = a.img_pos_host;
    for (int64_t i = 0; i < n_img;) {
      int64_t j = i + 1;
      while (j < n_img && rows[j] == rows[j - 1] + 1) j++;
      ops::zero(a.dres + static_cast<int64_t>(rows[i]) * d, sizeof(float) * static_cast<size_t>((j - i) * d));
      i = j;
    }
  }
  if (gw != nullptr) ops::embedding_backward(a.ids, a.dres, (*gw)[L.embed], N, D.V, d, true);
}

}  // namespace model
}  // namespace frl

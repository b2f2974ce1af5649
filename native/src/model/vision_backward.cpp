// Backward of the vision tower (the forward in vision_forward.cpp), from d feat down to the patch
// embedding, writing every vision-group gradient (added into g: the caller zeroes them first for
// FRL_GRAD_OVERWRITE). Blocks after the feature layer never ran and get no gradient.
//
// Per block, in reverse (m = x + out(att), y = m + fc2(gelu(fc1(LN2 m)))):
//   d act = dy W2, d fc1 = gelu'(fc1) d act, d m = dy + LN2ᵀ(d fc1 W1)
//   d att = d m Wo, (dq, dk, dv) = attnᵀ(d att), d x = d m + LN1ᵀ(dq Wq + dk Wk + dv Wv)
#include <cmath>
#include <cstring>

#include "model/model_internal.h"
#include "model/model_ops.h"

namespace frl {
namespace model {

void vision_backward(const Dims& D, const BaseLayout& L, const Ptrs& w, const Ptrs& g, float eps, int64_t Bi,
                     Acts& a) {
  if (Bi == 0) return;
  const int64_t Np = Bi * D.P, Nv = Bi * D.Tv, Dv = D.Dv, Fv = D.Fv;
  // d x_fb: the patch rows from d feat, the class token rows 0.
  ops::zero(a.dres_v, sizeof(float) * static_cast<size_t>(Nv * Dv));
  for (int64_t b = 0; b < Bi; b++)
    ops::copy(a.dres_v + (b * D.Tv + 1) * Dv, a.dfeat + b * D.P * Dv, sizeof(float) * static_cast<size_t>(D.P * Dv));
  const float scale = 1.0f / std::sqrt(static_cast<float>(D.Dhv));
  for (int64_t l = D.feature_blocks - 1; l >= 0; l--) {
    const VisionLayerParams& p = L.vision[l];
    const VisionLayerActs& x = a.vl[l];
    const float* in = a.res_v[l];
    ops::linear_backward(x.act, w[p.fc2_w], a.dres_v, a.dact_v, g[p.fc2_w], g[p.fc2_b], Nv, Fv, Dv, false, true);
    ops::gelu_backward(x.fc1, a.dact_v, a.dfc1_v, Nv * Fv);
    ops::linear_backward(x.ln2, w[p.fc1_w], a.dfc1_v, a.dtmp_v, g[p.fc1_w], g[p.fc1_b], Nv, Dv, Fv, false, true);
    ops::layernorm_backward(x.mid, w[p.ln2_w], x.ln2_mean, x.ln2_rstd, a.dtmp_v, a.dres_v, g[p.ln2_w], g[p.ln2_b],
                            Nv, Dv, true, true);
    ops::linear_backward(x.att, w[p.o_w], a.dres_v, a.datt_v, g[p.o_w], g[p.o_b], Nv, Dv, Dv, false, true);
    ops::attention_backward(x.q, x.k, x.v, x.att, x.lse, a.datt_v, a.dq_v, a.dk_v, a.dv_v, Bi, D.Tv, D.Hv, D.Dhv,
                            false, scale);
    ops::linear_backward(x.ln1, w[p.q_w], a.dq_v, a.dtmp_v, g[p.q_w], g[p.q_b], Nv, Dv, Dv, false, true);
    ops::linear_backward(x.ln1, w[p.k_w], a.dk_v, a.dtmp_v, g[p.k_w], g[p.k_b], Nv, Dv, Dv, true, true);
    ops::linear_backward(x.ln1, w[p.v_w], a.dv_v, a.dtmp_v, g[p.v_w], g[p.v_b], Nv, Dv, Dv, true, true);
    ops::layernorm_backward(in, w[p.ln1_w], x.ln1_mean, x.ln1_rstd, a.dtmp_v, a.dres_v, g[p.ln1_w], g[p.ln1_b], Nv,
                            Dv, true, true);
  }
  ops::layernorm_backward(a.emb_v, w[L.pre_ln_w], a.pre_mean, a.pre_rstd, a.dres_v, a.demb_v, g[L.pre_ln_w],
                          g[L.pre_ln_b], Nv, Dv, false, true);
  ops::vit_embed_assemble_backward(a.demb_v, a.dpatch_proj, g[L.class_emb], g[L.pos_emb], Bi, D.P, Dv);
  ops::linear_backward(a.patches, w[L.patch_w], a.dpatch_proj, nullptr, g[L.patch_w], nullptr, Np, D.Pf, Dv, false,
                       true);
}

}  // namespace model
}  // namespace frl

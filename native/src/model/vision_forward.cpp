// Forward of the CLIP vision tower (pre-LN ViT) up to the feature layer (factrl/model.h):
//
//   patches = patchify(images)                       [Bi·P, C·p·p]
//   e       = assemble(patches Wpatchᵀ, cls, pos)    [Bi·Tv, Dv]  (class token first, + positions)
//   x0      = LN_pre(e)
//   x_{l+1} = m_l + fc2(gelu(fc1(LN2(m_l)))),  m_l = x_l + out(attn(q(LN1 x_l), k(..), v(..)))
//   feat    = x_fb without the class token           [Bi·P, Dv]
//
// fb = the feature layer as a hidden_states index: blocks at and after it never run.
#include <cmath>
#include <cstring>

#include "cpu/vit_embed_cpu.h"
#include "model/model_internal.h"
#include "model/model_ops.h"

namespace frl {
namespace model {

void vision_forward(const Dims& D, const BaseLayout& L, const Ptrs& w, float eps, const float* images, int64_t Bi,
                    Acts& a, bool train) {
  if (Bi == 0) return;
  const int64_t Np = Bi * D.P, Nv = Bi * D.Tv, Dv = D.Dv;
  cpu::PatchGeometry geo{Bi, D.C, D.H, D.H, D.p, {D.C * D.H * D.H, D.H * D.H, D.H, 1}};
  ops::patchify(images, geo, a.patches);
  ops::linear_forward(a.patches, w[L.patch_w], nullptr, a.patch_proj, Np, D.Pf, Dv);
  ops::vit_embed_assemble_forward(a.patch_proj, w[L.class_emb], w[L.pos_emb], a.emb_v, Bi, D.P, Dv);
  ops::layernorm_forward(a.emb_v, w[L.pre_ln_w], w[L.pre_ln_b], eps, a.res_v[0], a.pre_mean, a.pre_rstd, Nv, Dv);
  const float scale = 1.0f / std::sqrt(static_cast<float>(D.Dhv));
  for (int64_t l = 0; l < D.feature_blocks; l++) {
    const VisionLayerParams& p = L.vision[l];
    VisionLayerActs& x = a.vl[train ? l : 0];
    const float* in = a.res_v[l];
    float* out = a.res_v[l + 1];
    ops::layernorm_forward(in, w[p.ln1_w], w[p.ln1_b], eps, x.ln1, x.ln1_mean, x.ln1_rstd, Nv, Dv);
    ops::linear_forward(x.ln1, w[p.q_w], w[p.q_b], x.q, Nv, Dv, Dv);
    ops::linear_forward(x.ln1, w[p.k_w], w[p.k_b], x.k, Nv, Dv, Dv);
    ops::linear_forward(x.ln1, w[p.v_w], w[p.v_b], x.v, Nv, Dv, Dv);
    ops::attention_forward(x.q, x.k, x.v, x.att, x.lse, Bi, D.Tv, D.Hv, D.Dhv, false, scale);
    ops::linear_forward(x.att, w[p.o_w], w[p.o_b], x.mid, Nv, Dv, Dv);
    ops::add(in, x.mid, x.mid, Nv * Dv);
    ops::layernorm_forward(x.mid, w[p.ln2_w], w[p.ln2_b], eps, x.ln2, x.ln2_mean, x.ln2_rstd, Nv, Dv);
    ops::linear_forward(x.ln2, w[p.fc1_w], w[p.fc1_b], x.fc1, Nv, Dv, D.Fv);
    ops::gelu_forward(x.fc1, x.act, Nv * D.Fv);
    ops::linear_forward(x.act, w[p.fc2_w], w[p.fc2_b], out, Nv, D.Fv, Dv);
    ops::add(x.mid, out, out, Nv * Dv);
  }
  const float* feature = a.res_v[D.feature_blocks];
  for (int64_t b = 0; b < Bi; b++)
    ops::copy(a.feat + b * D.P * Dv, feature + (b * D.Tv + 1) * Dv, sizeof(float) * static_cast<size_t>(D.P * Dv));
}

}  // namespace model
}  // namespace frl

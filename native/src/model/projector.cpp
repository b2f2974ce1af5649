// The multi-modal projector, forward and backward (factrl/model.h):
//   LINEAR:      out = linear_1(feat)
//   MLP2X_GELU:  out = linear_2(gelu(h)),  h = linear_1(feat)
// each linear with its optional LoRA pair (FRL_LORA_PROJECTOR).
#include "model/model_internal.h"
#include "model/model_ops.h"

namespace frl {
namespace model {

void projector_forward(const Dims& D, const BaseLayout& L, const Ptrs& w, int projector, const AdapterView& ad,
                       int64_t Bi, Acts& a) {
  const int64_t Np = Bi * D.P;
  if (Np == 0) return;
  if (projector == FRL_PROJECTOR_LINEAR) {
    project_forward(a.feat, w[L.proj1_w], w[L.proj1_b], ad.lora(ad.proj1), a.proj_out, Np, D.Dv, D.d);
    return;
  }
  project_forward(a.feat, w[L.proj1_w], w[L.proj1_b], ad.lora(ad.proj1), a.proj_h, Np, D.Dv, D.d);
  ops::gelu_forward(a.proj_h, a.proj_g, Np * D.d);
  project_forward(a.proj_g, w[L.proj2_w], w[L.proj2_b], ad.lora(ad.proj2), a.proj_out, Np, D.d, D.d);
}

void projector_backward(const Dims& D, const BaseLayout& L, const Ptrs& w, const Ptrs* gw, int projector,
                        const AdapterView& ad, int64_t Bi, bool want_dfeat, Acts& a) {
  const int64_t Np = Bi * D.P;
  if (Np == 0) return;
  auto grad = [&](int e) { return gw != nullptr && e >= 0 ? (*gw)[e] : nullptr; };
  const float* dy1 = a.dproj_out;
  if (projector == FRL_PROJECTOR_MLP2X_GELU) {
    project_backward(a.proj_g, w[L.proj2_w], ad.lora(ad.proj2), a.dproj_out, a.dproj_g, false, grad(L.proj2_w),
                     grad(L.proj2_b), ad.grad(ad.proj2), Np, D.d, D.d);
    ops::gelu_backward(a.proj_h, a.dproj_g, a.dproj_h, Np * D.d);
    dy1 = a.dproj_h;
  }
  project_backward(a.feat, w[L.proj1_w], ad.lora(ad.proj1), dy1, want_dfeat ? a.dfeat : nullptr, false,
                   grad(L.proj1_w), grad(L.proj1_b), ad.grad(ad.proj1), Np, D.Dv, D.d);
}

}  // namespace model
}  // namespace frl

// The activation arena's layout (llm.c's ActivationTensors): every buffer a forward writes, and for a
// training plan every activation the backward reads plus the backward's own gradient buffers, sized
// from (max_batch, max_seq, max_images). One function both counts (base null) and hands out
// pointers, so the plan and the allocation can never disagree. Each buffer starts on a 64-byte line.
//
// Training keeps one activation set per block (the backward reads them in reverse); inference
// reuses one set for all blocks. The residual streams are kept per block in both (small next to
// the MLP buffers, and a forward then never copies the residual in place).
#include "model/model_internal.h"
#include "storage.h"

namespace frl {
namespace model {
namespace {

struct Bump {
  char* base;
  int64_t used = 0;
  template <typename T>
  T* take(int64_t count) {
    T* p = base ? reinterpret_cast<T*>(base + used) : nullptr;
    used += align_up(count * static_cast<int64_t>(sizeof(T)));
    return p;
  }
  float* f(int64_t count) { return take<float>(count); }
};

}  // namespace

int64_t carve_acts(const frl_model_config& c, int64_t Bmax, int64_t Smax, int64_t Imax, bool train, char* base,
                   Acts* acts) {
  const Dims D = dims_of(c);
  Acts a{};
  Bump m{base};
  const int64_t N = Bmax * Smax, Nv = Imax * D.Tv, Np = Imax * D.P;
  // vision tower
  a.patches = m.f(Np * D.Pf);
  a.patch_proj = m.f(Np * D.Dv);
  a.emb_v = m.f(Nv * D.Dv);
  a.pre_mean = m.f(Nv);
  a.pre_rstd = m.f(Nv);
  for (int64_t l = 0; l <= D.feature_blocks; l++) a.res_v.push_back(m.f(Nv * D.Dv));
  const int64_t vsets = train ? D.feature_blocks : (D.feature_blocks > 0 ? 1 : 0);
  for (int64_t l = 0; l < vsets; l++) {
    VisionLayerActs v;
    v.ln1 = m.f(Nv * D.Dv);
    v.ln1_mean = m.f(Nv);
    v.ln1_rstd = m.f(Nv);
    v.q = m.f(Nv * D.Dv);
    v.k = m.f(Nv * D.Dv);
    v.v = m.f(Nv * D.Dv);
    v.att = m.f(Nv * D.Dv);
    v.lse = m.f(Nv * D.Hv);
    v.mid = m.f(Nv * D.Dv);
    v.ln2 = m.f(Nv * D.Dv);
    v.ln2_mean = m.f(Nv);
    v.ln2_rstd = m.f(Nv);
    v.fc1 = m.f(Nv * D.Fv);
    v.act = m.f(Nv * D.Fv);
    a.vl.push_back(v);
  }
  // projector
  a.feat = m.f(Np * D.Dv);
  a.proj_h = m.f(Np * D.d);
  a.proj_g = m.f(c.projector == FRL_PROJECTOR_MLP2X_GELU ? Np * D.d : 0);
  a.proj_out = m.f(Np * D.d);
  // decoder
  a.ids = m.take<int32_t>(N);
  a.positions = m.take<int32_t>(N);
  a.img_pos = m.take<int32_t>(Np);
  a.targets = m.take<int32_t>(N);
  for (int64_t l = 0; l <= D.L; l++) a.res.push_back(m.f(N * D.d));
  const int64_t dsets = train ? D.L : (D.L > 0 ? 1 : 0);
  for (int64_t l = 0; l < dsets; l++) {
    DecoderLayerActs x;
    x.rms1 = m.f(N * D.d);
    x.rstd1 = m.f(N);
    x.qr = m.f(N * D.d);
    x.kr = m.f(N * D.d);
    x.v = m.f(N * D.d);
    x.att = m.f(N * D.d);
    x.lse = m.f(N * D.H_heads);
    x.mid = m.f(N * D.d);
    x.rms2 = m.f(N * D.d);
    x.rstd2 = m.f(N);
    x.gate = m.f(N * D.F);
    x.up = m.f(N * D.F);
    x.act = m.f(N * D.F);
    a.dl.push_back(x);
  }
  a.q_tmp = m.f(N * D.d);
  a.k_tmp = m.f(N * D.d);
  a.tmp = m.f(N * D.d);
  a.hidden = m.f(N * D.d);
  a.rstd_f = m.f(N);
  a.logits = m.f(N * D.V);
  a.lse_logits = m.f(N);
  a.logp = m.f(N);
  if (train) {
    a.dlogits = m.f(N * D.V);
    a.dres = m.f(N * D.d);
    a.dtmp = m.f(N * D.d);
    a.dq = m.f(N * D.d);
    a.dk = m.f(N * D.d);
    a.dv = m.f(N * D.d);
    a.dqr = m.f(N * D.d);
    a.dkr = m.f(N * D.d);
    a.datt = m.f(N * D.d);
    a.dgate = m.f(N * D.F);
    a.dup = m.f(N * D.F);
    a.dact = m.f(N * D.F);
    a.dproj_out = m.f(Np * D.d);
    a.dproj_g = m.f(Np * D.d);
    a.dproj_h = m.f(Np * D.d);
    a.dfeat = m.f(Np * D.Dv);
    a.dres_v = m.f(Nv * D.Dv);
    a.dtmp_v = m.f(Nv * D.Dv);
    a.dq_v = m.f(Nv * D.Dv);
    a.dk_v = m.f(Nv * D.Dv);
    a.dv_v = m.f(Nv * D.Dv);
    a.datt_v = m.f(Nv * D.Dv);
    a.dfc1_v = m.f(Nv * D.Fv);
    a.dact_v = m.f(Nv * D.Fv);
    a.demb_v = m.f(Nv * D.Dv);
    a.dpatch_proj = m.f(Np * D.Dv);
  }
  if (acts) *acts = a;
  return m.used;
}

}  // namespace model
}  // namespace frl

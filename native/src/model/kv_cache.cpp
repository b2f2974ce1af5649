// KV cache layout and lifetime (factrl/generate.h): one zero-filled storage holding, per decoder
// layer, K and V [max_batch, max_len, H, Dh], then the decode step's scratch for max_batch rows and
// generate's last-logits buffer [max_batch, V]. Bytes: 4 · (2 L · Bm · max_len · d
//   + Bm · (14 d + 3 F + 2 V + 3) + 5 Bm), each buffer aligned to 64.
#include <cstring>
#include <memory>

#include "model/kv_cache.h"
#include "storage.h"

namespace frl {
namespace model {
namespace {

// Bump allocator over base (null: only counts).
struct Carver {
  char* base;
  int64_t used = 0;
  template <typename T>
  T* take(int64_t count) {
    T* p = base ? reinterpret_cast<T*>(base + used) : nullptr;
    used += align_up(static_cast<int64_t>(sizeof(T)) * count);
    return p;
  }
};

}  // namespace

int64_t carve_kv_cache(const Dims& D, int64_t Bm, int64_t max_len, char* base, frl_kv_cache* cache) {
  Carver c{base};
  frl_kv_cache tmp;
  frl_kv_cache& kc = cache ? *cache : tmp;
  kc.k.assign(static_cast<size_t>(D.L), nullptr);
  kc.v.assign(static_cast<size_t>(D.L), nullptr);
  for (int64_t l = 0; l < D.L; l++) {
    kc.k[l] = c.take<float>(Bm * max_len * D.d);
    kc.v[l] = c.take<float>(Bm * max_len * D.d);
  }
  frl_kv_decode_scratch& s = kc.s;
  const int64_t nd = Bm * D.d, nF = Bm * D.F;
  s.x0 = c.take<float>(nd);
  s.x1 = c.take<float>(nd);
  s.q_tmp = c.take<float>(nd);
  s.k_tmp = c.take<float>(nd);
  DecoderLayerActs& x = s.acts;
  x = DecoderLayerActs{};
  x.rms1 = c.take<float>(nd);
  x.rstd1 = c.take<float>(Bm);
  x.qr = c.take<float>(nd);
  x.kr = c.take<float>(nd);
  x.v = c.take<float>(nd);
  x.att = c.take<float>(nd);
  x.mid = c.take<float>(nd);
  x.rms2 = c.take<float>(nd);
  x.rstd2 = c.take<float>(Bm);
  x.gate = c.take<float>(nF);
  x.up = c.take<float>(nF);
  x.act = c.take<float>(nF);
  s.q_full = c.take<float>(nd);
  s.att_full = c.take<float>(nd);
  s.hidden = c.take<float>(nd);
  s.rstd_f = c.take<float>(Bm);
  s.logits = c.take<float>(Bm * D.V);
  s.ids = c.take<int32_t>(Bm);
  s.positions = c.take<int32_t>(Bm);
  s.rows = c.take<int32_t>(Bm);
  s.key_len = c.take<int32_t>(Bm);
  s.q_off = c.take<int32_t>(Bm);
  kc.last_logits = c.take<float>(Bm * D.V);
  return c.used;
}

}  // namespace model
}  // namespace frl

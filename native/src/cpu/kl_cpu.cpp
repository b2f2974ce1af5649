// CPU reference of the per-token log-prob / KL kernel: fp32, OpenMP over rows.
//
// Each row is read once, in chunks of CHUNK logits that stay in L1: the chunk's max first, then
// (after rescaling the running sums if the max grew) one vectorised pass of exp and sums over the
// same chunk — the online log-sum-exp, blocked so that the inner loops have no branches and
// vectorise (`omp simd` reductions; an inline polynomial exp, since libm's expf does not vectorise
// without -ffast-math). The row functions are compiled for AVX-512, AVX2+FMA and baseline x86-64
// (target_clones: the loader picks one for the machine).
#include "cpu/kl_cpu.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace frl {
namespace cpu {
namespace {

constexpr int64_t CHUNK = 512;
constexpr float NEG_INF = -std::numeric_limits<float>::infinity();

// exp(x) for x <= 0 (a slightly positive x from rounding is fine), Cephes expf: x = n ln2 + r with
// |r| <= ln2/2, a degree-6 polynomial for e^r, 2^n built in the exponent bits. Relative error
// ~2 ulp; exactly 0 for x < -87 (also -inf); NaN stays NaN. Branch-free, so loops vectorise.
inline float exp_nonpos(float x) {
  const bool under = x < -87.0f;
  x = under ? -87.0f : x;
  float n = x * 1.44269504088896341f;
  n = (n + 12582912.0f) - 12582912.0f;  // round to nearest integer (1.5 * 2^23 trick)
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return under ? 0.0f : y * scale;
}

// Running state of one row's online log-sum-exp, policy (p) and reference (r):
//   mp = max seen so far, sp = Σ exp(zp - mp), mr, sr likewise for the reference,
//   q = Σ exp(zp - mp)·(zp - mp)                          (entropy:  H = log sp - q/sp)
//   c = Σ exp(zp - mp)·((zp - mp) - (zr - mr))            (full KL:  KL = c/sp - log sp + log sr)
// Every term is relative to the running maxima, so nothing grows with the logits' magnitude
// (logits near ±3e38 stay finite). When mp grows by δ every policy term is multiplied by
// a = exp(-δ) and each (zp - mp) shifts by -δ:  sp' = a·sp, q' = a·(q - δ·sp), c' = a·(c - δ·sp).
// When mr grows by δr each (zr - mr) shifts by -δr:  sr' = exp(-δr)·sr, c' = c + δr·sp.
struct RowState {
  float mp = NEG_INF, sp = 0.0f, q = 0.0f, c = 0.0f;
  float mr = NEG_INF, sr = 0.0f;
  void raise_policy_max(float nm) {
    if (!(nm > mp)) return;
    if (sp > 0.0f) {
      const float a = std::exp(mp - nm), d = nm - mp;
      q = a * (q - d * sp);
      c = c == INFINITY ? c : a * (c - d * sp);  // +inf stays +inf, not 0·inf = NaN when a underflows
      sp *= a;
    }
    mp = nm;
  }
  void raise_ref_max(float nm) {
    if (!(nm > mr)) return;
    if (sr > 0.0f) sr *= std::exp(mr - nm);
    if (sp > 0.0f) c += (nm - mr) * sp;
    mr = nm;
  }
  float log_sp() const { return std::log(sp); }
  float lse_policy() const { return mp + std::log(sp); }
};

inline float chunk_max(const float* z, int64_t n) {
  float mx = NEG_INF;
#pragma omp simd reduction(max : mx)
  for (int64_t i = 0; i < n; i++) mx = std::max(mx, z[i]);
  return mx;
}

// One row's statistics (policy: mp, sp and, when EXTRA, q and c; reference: mr, sr).
template <bool HAS_REF, bool EXTRA>
__attribute__((always_inline)) inline void row_stats(const float* zp, const float* zr, int64_t V, RowState& S) {
  for (int64_t c0 = 0; c0 < V; c0 += CHUNK) {
    const int64_t n = std::min(CHUNK, V - c0);
    const float* p = zp + c0;
    const float* r = HAS_REF ? zr + c0 : nullptr;
    S.raise_policy_max(chunk_max(p, n));
    if (HAS_REF) S.raise_ref_max(chunk_max(r, n));
    if (S.mp > NEG_INF) {
      const float mp = S.mp, mr = S.mr;
      float s = 0.0f, q = 0.0f, c = 0.0f;
      if (EXTRA && HAS_REF) {
#pragma omp simd reduction(+ : s, q, c)
        for (int64_t i = 0; i < n; i++) {
          const float t = p[i] - mp;
          const float e = exp_nonpos(t);
          s += e;
          q += e > 0.0f ? e * t : 0.0f;  // a -inf logit contributes 0, not 0·(-inf)
          c += e > 0.0f ? e * (t - (r[i] - mr)) : 0.0f;
        }
      } else if (EXTRA) {
#pragma omp simd reduction(+ : s, q)
        for (int64_t i = 0; i < n; i++) {
          const float t = p[i] - mp;
          const float e = exp_nonpos(t);
          s += e;
          q += e > 0.0f ? e * t : 0.0f;
        }
      } else {
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < n; i++) s += exp_nonpos(p[i] - mp);
      }
      S.sp += s;
      S.q += q;
      // a reference that is -inf over the whole chunk so far while the policy has mass: KL = +inf
      S.c += (HAS_REF && EXTRA && mr == NEG_INF) ? std::numeric_limits<float>::infinity() : c;
    }
    if (HAS_REF && S.mr > NEG_INF) {
      const float mr = S.mr;
      float s = 0.0f;
#pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < n; i++) s += exp_nonpos(r[i] - mr);
      S.sr += s;
    }
  }
}

// Forward of one valid row t (outputs written at index t); differences are taken before adding
// the log-sums, so that logits near ±1e30 keep their O(1) results:
//   logp_p = (zp[a] - mp) - log sp,  logp_r = (zr[a] - mr) - log sr,  k1 = logp_p - logp_r,
//   k3 = expm1(-k1) + k1,  H = log sp - q/sp,  KL = c/sp - log sp + log sr,  lse_p = mp + log sp.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void forward_row(const float* zp, const float* zr, int32_t a, int64_t V, int64_t t, const KlOutputs* out) {
  const bool extra = out->entropy != nullptr || out->kl_full != nullptr;
  RowState S;
  if (zr != nullptr) {
    if (extra) row_stats<true, true>(zp, zr, V, S);
    else row_stats<true, false>(zp, zr, V, S);
  } else {
    if (extra) row_stats<false, true>(zp, zr, V, S);
    else row_stats<false, false>(zp, zr, V, S);
  }
  const float log_sp = std::log(S.sp);
  const float logp_p = (zp[a] - S.mp) - log_sp;
  if (out->logp_policy) out->logp_policy[t] = logp_p;
  if (out->lse_policy) out->lse_policy[t] = S.mp + log_sp;
  if (out->entropy) out->entropy[t] = log_sp - S.q / S.sp;
  if (zr != nullptr) {
    const float log_sr = std::log(S.sr);
    const float logp_r = (zr[a] - S.mr) - log_sr;
    const float k1 = logp_p - logp_r;
    if (out->logp_ref) out->logp_ref[t] = logp_r;
    if (out->kl_k1) out->kl_k1[t] = k1;
    if (out->kl_k3) out->kl_k3[t] = std::expm1(-k1) + k1;
    if (out->kl_full) out->kl_full[t] = S.c / S.sp - log_sp + log_sr;
  }
}

// Backward of one valid row: dz_v (=|+=) g·(onehot(a)_v - exp((z_v - m) - log s)), with
// (m, log s) = (lse, 0) when the forward's lse is given, else recomputed (exact for huge logits).
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void backward_row(const float* z, int32_t a, float g, float lse, bool have_lse, float* dz, int64_t V,
                  bool accumulate) {
  float m = lse, log_s = 0.0f;
  if (!have_lse) {
    RowState S;
    row_stats<false, false>(z, nullptr, V, S);
    m = S.mp;
    log_s = S.log_sp();
  }
  if (accumulate) {
#pragma omp simd
    for (int64_t v = 0; v < V; v++) dz[v] -= g * exp_nonpos((z[v] - m) - log_s);
  } else {
#pragma omp simd
    for (int64_t v = 0; v < V; v++) dz[v] = -g * exp_nonpos((z[v] - m) - log_s);
  }
  dz[a] += g;
}

inline bool valid(const int32_t* mask, int64_t t) { return mask == nullptr || mask[t] != 0; }

}  // namespace

int64_t kl_first_bad_action(const int32_t* actions, const int32_t* mask, int64_t T, int64_t V) {
  for (int64_t t = 0; t < T; t++)
    if (valid(mask, t) && (actions[t] < 0 || actions[t] >= V)) return t;
  return -1;
}

void token_logprobs_forward(const float* policy, const float* ref, const int32_t* actions,
                            const int32_t* mask, int64_t T, int64_t V, const KlOutputs& out) {
  float* all[] = {out.logp_policy, out.logp_ref, out.kl_k1, out.kl_k3, out.kl_full, out.entropy, out.lse_policy};
#pragma omp parallel for schedule(dynamic, 4) if (T * V > 32768)
  for (int64_t t = 0; t < T; t++) {
    if (!valid(mask, t)) {
      for (float* o : all)
        if (o) o[t] = 0.0f;
      continue;
    }
    forward_row(policy + t * V, ref ? ref + t * V : nullptr, actions[t], V, t, &out);
  }
}

void token_logprobs_backward(const float* policy, const int32_t* actions, const int32_t* mask,
                             const float* grad_logp, const float* lse, float* dlogits, int64_t T,
                             int64_t V, bool accumulate) {
#pragma omp parallel for schedule(dynamic, 4) if (T * V > 32768)
  for (int64_t t = 0; t < T; t++) {
    float* dz = dlogits + t * V;
    if (!valid(mask, t)) {
      if (!accumulate) std::memset(dz, 0, sizeof(float) * V);
      continue;
    }
    backward_row(policy + t * V, actions[t], grad_logp[t], lse ? lse[t] : 0.0f, lse != nullptr, dz, V,
                 accumulate);
  }
}

}  // namespace cpu
}  // namespace frl

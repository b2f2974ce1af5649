// CPU reference of multi-head scaled dot-product attention: fp32, llm.c-style loops. The forward
// runs OpenMP across query rows (b, h, i); the backward across (b, h) pairs, each of which owns its
// slices of dk and dv, so there are no atomics. Every sum runs in a fixed order that does not
// depend on the thread count or schedule: the outputs are bitwise reproducible.
//
// Indexing: element [b, t, h, d] of a [B, S, H, D] tensor sits at ((b·S + t)·H + h)·D + d, so
// consecutive positions t of one head are H·D floats apart; lse[b, h, i] sits at (b·H + h)·S + i.
#include "cpu/attention_cpu.h"

#include <cmath>
#include <cstring>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace frl {
namespace cpu {
namespace {

constexpr int64_t kRowChunk = 16;        // query rows per dynamically scheduled task (forward)
constexpr int64_t kParallelWork = 65536;  // run serially below this many multiply-adds

// a · b over n elements (vectorised; the lane order is fixed at compile time).
inline float dot(const float* a, const float* b, int64_t n) {
  float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
  for (int64_t d = 0; d < n; d++) acc += a[d] * b[d];
  return acc;
}

// dst += g · x over n elements.
inline void axpy(float* dst, float g, const float* x, int64_t n) {
#pragma omp simd
  for (int64_t d = 0; d < n; d++) dst[d] += g * x[d];
}

// Zeroes the S rows of D floats, stride apart, of one head.
inline void zero_head(float* t, int64_t S, int64_t stride, int64_t D) {
  for (int64_t j = 0; j < S; j++) std::memset(t + j * stride, 0, static_cast<size_t>(D) * sizeof(float));
}

// The number of keys query i sees: i + 1 when causal, all S otherwise.
inline int64_t visible_keys(int64_t i, int64_t S, bool causal) { return causal ? i + 1 : S; }

int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

int thread_index() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// Multiply-adds of one pass over all (query, visible key) pairs, for the serial cut-off.
int64_t pair_work(int64_t B, int64_t S, int64_t H, int64_t D, bool causal) {
  const int64_t pairs = causal ? S * (S + 1) / 2 : S * S;
  return B * H * pairs * (D + 1);
}

}  // namespace

// ---- forward -------------------------------------------------------------------------------------
// For each (b, h) and query i, over the visible keys j in J(i) (j <= i when causal, all j else):
//   s_ij  = scale · Σ_d q[b,i,h,d] · k[b,j,h,d]
//   m_i   = max_j s_ij                        (subtracted before exp: no overflow for large scores)
//   l_i   = Σ_j exp(s_ij − m_i)               (>= 1: the maximum contributes exp(0))
//   out[b,i,h,d] = Σ_j exp(s_ij − m_i) / l_i · v[b,j,h,d]
//   lse[b,h,i]   = m_i + log(l_i)
void attention_forward(const float* q, const float* k, const float* v, float* out, float* lse,
                       int64_t B, int64_t S, int64_t H, int64_t D, bool causal, float scale) {
  const int64_t stride = H * D;  // floats between positions t and t + 1 of one head
  // One row of probabilities per thread, allocated here: nothing may throw inside the region.
  std::vector<float> scratch(static_cast<size_t>(max_threads()) * static_cast<size_t>(S));
#pragma omp parallel if (pair_work(B, S, H, D, causal) > kParallelWork)
  {
    float* att = scratch.data() + static_cast<size_t>(thread_index()) * static_cast<size_t>(S);
#pragma omp for collapse(3) schedule(dynamic, kRowChunk)
    for (int64_t b = 0; b < B; b++) {
      for (int64_t h = 0; h < H; h++) {
        for (int64_t i = 0; i < S; i++) {
          const float* qi = q + ((b * S + i) * H + h) * D;
          const float* kb = k + (b * S * H + h) * D;  // k[b, 0, h, :]
          const float* vb = v + (b * S * H + h) * D;  // v[b, 0, h, :]
          float* oi = out + ((b * S + i) * H + h) * D;
          const int64_t T = visible_keys(i, S, causal);

          float m = -INFINITY;
          for (int64_t j = 0; j < T; j++) {
            att[j] = scale * dot(qi, kb + j * stride, D);
            m = std::fmax(m, att[j]);
          }
          float l = 0.0f;
          for (int64_t j = 0; j < T; j++) {
            att[j] = std::exp(att[j] - m);
            l += att[j];
          }
          const float inv_l = 1.0f / l;
          std::memset(oi, 0, static_cast<size_t>(D) * sizeof(float));
          for (int64_t j = 0; j < T; j++) axpy(oi, att[j] * inv_l, vb + j * stride, D);
          if (lse != nullptr) lse[(b * H + h) * S + i] = m + std::log(l);
        }
      }
    }
  }
}

// ---- backward ------------------------------------------------------------------------------------
// For each (b, h), with P_ij = exp(s_ij − lse_i) recomputed (0 for keys i does not see) and
// dO = dout, O = out:
//   dv_j  = Σ_i P_ij · dO_i
//   D_i   = Σ_d dO_i[d] · O_i[d]
//   dS_ij = P_ij · (dO_i · v_j − D_i)
//   dq_i  = scale · Σ_j dS_ij · k_j
//   dk_j  = scale · Σ_i dS_ij · q_i
// Queries i run in ascending order and, per i, keys j in ascending order: dk_j and dv_j are summed
// over i in that fixed order.
void attention_backward(const float* q, const float* k, const float* v, const float* out,
                        const float* lse, const float* dout, float* dq, float* dk, float* dv,
                        int64_t B, int64_t S, int64_t H, int64_t D, bool causal, float scale,
                        bool accumulate) {
  if (dq == nullptr && dk == nullptr && dv == nullptr) return;
  const bool need_ds = dq != nullptr || dk != nullptr;
  const int64_t stride = H * D;
  // Two rows per thread: P_i· and dS_i·, allocated here: nothing may throw inside the region.
  std::vector<float> scratch(static_cast<size_t>(max_threads()) * 2 * static_cast<size_t>(S));
#pragma omp parallel if (3 * pair_work(B, S, H, D, causal) > kParallelWork)
  {
    float* p = scratch.data() + static_cast<size_t>(thread_index()) * 2 * static_cast<size_t>(S);
    float* ds = p + S;
#pragma omp for collapse(2) schedule(dynamic, 1)
    for (int64_t b = 0; b < B; b++) {
      for (int64_t h = 0; h < H; h++) {
        const int64_t head = (b * S * H + h) * D;  // offset of [b, 0, h, :]
        const float* kb = k + head;
        const float* vb = v + head;
        const float* lse_bh = lse + (b * H + h) * S;
        // This (b, h) alone writes dk[b, :, h, :] and dv[b, :, h, :]: zero them (unless adding into
        // the caller's contents), then accumulate.
        if (dk != nullptr && !accumulate) zero_head(dk + head, S, stride, D);
        if (dv != nullptr && !accumulate) zero_head(dv + head, S, stride, D);
        for (int64_t i = 0; i < S; i++) {
          const int64_t row = head + i * stride;  // offset of [b, i, h, :]
          const float* qi = q + row;
          const float* doi = dout + row;
          const int64_t T = visible_keys(i, S, causal);

          for (int64_t j = 0; j < T; j++) {  // the same scores, bit for bit, as the forward
            p[j] = std::exp(scale * dot(qi, kb + j * stride, D) - lse_bh[i]);
          }
          if (dv != nullptr) {
            for (int64_t j = 0; j < T; j++) axpy(dv + head + j * stride, p[j], doi, D);
          }
          if (!need_ds) continue;

          const float d_i = dot(doi, out + row, D);
          for (int64_t j = 0; j < T; j++) ds[j] = p[j] * (dot(doi, vb + j * stride, D) - d_i);
          if (dq != nullptr) {
            float* dqi = dq + row;
            if (!accumulate) std::memset(dqi, 0, static_cast<size_t>(D) * sizeof(float));
            for (int64_t j = 0; j < T; j++) axpy(dqi, scale * ds[j], kb + j * stride, D);
          }
          if (dk != nullptr) {
            for (int64_t j = 0; j < T; j++) axpy(dk + head + j * stride, scale * ds[j], qi, D);
          }
        }
      }
    }
  }
}

}  // namespace cpu
}  // namespace frl

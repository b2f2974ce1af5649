// CPU reference of the reward-head pooling and the per-token value head: fp32, llm.c-style loops,
// OpenMP across rows (forward, dh) or across column slabs (dw). Every reduction has a fixed order
// that does not depend on the thread count, so gradients are bitwise reproducible.
#include "cpu/pooling_cpu.h"

#include <algorithm>
#include <cstring>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace frl {
namespace cpu {
namespace {

// a · b over d elements (vectorised; the lane order is fixed at compile time).
inline float dot(const float* a, const float* b, int64_t d) {
  float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
  for (int64_t j = 0; j < d; j++) acc += a[j] * b[j];
  return acc;
}

// dst (+)= g · w over d elements.
inline void axpy_row(float* dst, float g, const float* w, int64_t d, bool accumulate) {
  if (accumulate) {
#pragma omp simd
    for (int64_t j = 0; j < d; j++) dst[j] += g * w[j];
  } else {
#pragma omp simd
    for (int64_t j = 0; j < d; j++) dst[j] = g * w[j];
  }
}

// dw[j] (+)= Σ_{i=0..n-1, row(i) != null} coef(i) · row(i)[j]
// Columns are cut into blocks of kColumnBlock, handed out dynamically (robust when a core is
// busy); each column is summed over i in ascending order in fp32, then added to dw (or stored) —
// the same bits for any thread count or schedule.
constexpr int64_t kColumnBlock = 256;
constexpr int64_t kRowChunk = 64;  // rows per dynamically scheduled task in the row loops

template <typename RowFn, typename CoefFn>
void weighted_row_sum(int64_t n, int64_t d, RowFn row, CoefFn coef, float* dw, bool accumulate) {
  const int64_t blocks = (d + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for schedule(dynamic, 1) if (n * d > 65536)
  for (int64_t blk = 0; blk < blocks; blk++) {
    const int64_t j0 = blk * kColumnBlock, width = std::min(kColumnBlock, d - j0);
    float acc[kColumnBlock] = {0.0f};
    for (int64_t i = 0; i < n; i++) {
      const float* r = row(i);
      if (r == nullptr) continue;
      const float g = coef(i);
      const float* rj = r + j0;
#pragma omp simd
      for (int64_t j = 0; j < width; j++) acc[j] += g * rj[j];
    }
    for (int64_t j = 0; j < width; j++) dw[j0 + j] = (accumulate ? dw[j0 + j] : 0.0f) + acc[j];
  }
}

}  // namespace

// ---- reward head ---------------------------------------------------------------------------------
// score_b = Σ_j w_j · h[b, e_b, j] + c            for e_b >= 0
// score_b = 0                                      for e_b == -1 (empty row)
void reward_head_forward(const float* h, const int32_t* end_index, const float* w, float bias,
                         float* scores, int64_t B, int64_t S, int64_t d) {
#pragma omp parallel for schedule(static) if (B * d > 65536)
  for (int64_t b = 0; b < B; b++) {
    const int64_t e = end_index[b];
    scores[b] = e < 0 ? 0.0f : dot(w, h + (b * S + e) * d, d) + bias;
  }
}

// With g_b = dscores[b], over rows with e_b >= 0:
//   dh[b, e_b, j] = g_b · w_j   (all other dh[b, t, :] = 0; with dh_accumulate, += and others untouched)
//   dw_j  (+)= Σ_b g_b · h[b, e_b, j]           (+= with param_accumulate, as dbias)
//   dbias (+)= Σ_b g_b
void reward_head_backward(const float* h, const int32_t* end_index, const float* w,
                          const float* dscores, float* dh, float* dw, float* dbias, int64_t B,
                          int64_t S, int64_t d, bool dh_accumulate, bool param_accumulate) {
  if (dh != nullptr) {
#pragma omp parallel for schedule(dynamic, 1) if (B * S * d > 65536)
    for (int64_t b = 0; b < B; b++) {
      float* slab = dh + b * S * d;
      if (!dh_accumulate) std::memset(slab, 0, static_cast<size_t>(S * d) * sizeof(float));
      const int64_t e = end_index[b];
      if (e >= 0) axpy_row(slab + e * d, dscores[b], w, d, /*accumulate=*/true);
    }
  }
  if (dw != nullptr) {
    weighted_row_sum(
        B, d, [&](int64_t b) { return end_index[b] < 0 ? nullptr : h + (b * S + end_index[b]) * d; },
        [&](int64_t b) { return dscores[b]; }, dw, param_accumulate);
  }
  if (dbias != nullptr) {
    double sum = 0.0;
    for (int64_t b = 0; b < B; b++)
      if (end_index[b] >= 0) sum += dscores[b];
    dbias[0] = (param_accumulate ? dbias[0] : 0.0f) + static_cast<float>(sum);
  }
}

// ---- value head ----------------------------------------------------------------------------------
// v_n = Σ_j w_j · h[n, j] + c   where mask_n != 0 (or no mask);   v_n = 0 where mask_n == 0
void value_head_forward(const float* h, const int32_t* mask, const float* w, float bias,
                        float* values, int64_t N, int64_t d) {
#pragma omp parallel for schedule(dynamic, kRowChunk) if (N * d > 65536)
  for (int64_t n = 0; n < N; n++) {
    values[n] = (mask != nullptr && mask[n] == 0) ? 0.0f : dot(w, h + n * d, d) + bias;
  }
}

// With g_n = dvalues[n], over valid n:
//   dh[n, j] = g_n · w_j        (masked rows 0; with dh_accumulate, += and masked rows untouched)
//   dw_j  (+)= Σ_n g_n · h[n, j]                (+= with param_accumulate, as dbias)
//   dbias (+)= Σ_n g_n
void value_head_backward(const float* h, const int32_t* mask, const float* w, const float* dvalues,
                         float* dh, float* dw, float* dbias, int64_t N, int64_t d, bool dh_accumulate,
                         bool param_accumulate) {
  auto valid = [&](int64_t n) { return mask == nullptr || mask[n] != 0; };
  if (dh != nullptr) {
#pragma omp parallel for schedule(dynamic, kRowChunk) if (N * d > 65536)
    for (int64_t n = 0; n < N; n++) {
      float* row = dh + n * d;
      if (valid(n)) {
        axpy_row(row, dvalues[n], w, d, dh_accumulate);
      } else if (!dh_accumulate) {
        std::memset(row, 0, static_cast<size_t>(d) * sizeof(float));
      }
    }
  }
  if (dw != nullptr) {
    weighted_row_sum(
        N, d, [&](int64_t n) { return valid(n) ? h + n * d : nullptr; },
        [&](int64_t n) { return dvalues[n]; }, dw, param_accumulate);
  }
  if (dbias != nullptr) {
    double sum = 0.0;
    for (int64_t n = 0; n < N; n++)
      if (valid(n)) sum += dvalues[n];
    dbias[0] = (param_accumulate ? dbias[0] : 0.0f) + static_cast<float>(sum);
  }
}

}  // namespace cpu
}  // namespace frl

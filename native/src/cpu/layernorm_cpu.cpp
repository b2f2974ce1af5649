// CPU reference of LayerNorm: llm.c-style loops, OpenMP across rows, and across column blocks for
// dw and db so that their sums over rows keep one fixed order (bitwise reproducible for any thread
// count).
#include "cpu/layernorm_cpu.h"

#include <cmath>

#include "cpu/column_sum.h"

namespace frl {
namespace cpu {

// mean_n = Σ_j x/d;  rstd_n = 1/sqrt(Σ_j (x − mean_n)²/d + eps);  y = (x − mean_n)·rstd_n·w + b.
// Two passes over the row (the variance about the mean): no cancellation when |mean| ≫ std.
void layernorm_forward(const float* x, const float* w, const float* b, float eps, float* y, float* mean,
                       float* rstd, int64_t N, int64_t d) {
#pragma omp parallel for schedule(static) if (N * d > 32768)
  for (int64_t n = 0; n < N; n++) {
    const float* xn = x + n * d;
    float* yn = y + n * d;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < d; j++) s += xn[j];
    // d == 0: an empty row; mean 0 and variance 0, so rstd = 1/sqrt(eps), nothing to write.
    const float m = d > 0 ? s / static_cast<float>(d) : 0.0f;
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (int64_t j = 0; j < d; j++) ss += (xn[j] - m) * (xn[j] - m);
    const float r = 1.0f / std::sqrt((d > 0 ? ss / static_cast<float>(d) : 0.0f) + eps);
#pragma omp simd
    for (int64_t j = 0; j < d; j++) yn[j] = (xn[j] - m) * r * w[j] + b[j];
    if (mean) mean[n] = m;
    if (rstd) rstd[n] = r;
  }
}

// gw = dy∘w, xhat = (x − mean)·rstd:
//   dx = rstd·(gw − mean_j gw − xhat·mean_j(gw∘xhat)),  dw = Σ_n dy∘xhat,  db = Σ_n dy.
void layernorm_backward(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                        float* dx, float* dw, float* db, int64_t N, int64_t d, bool dx_accumulate,
                        bool dparam_accumulate) {
  if (dx) {
#pragma omp parallel for schedule(static) if (N * d > 32768)
    for (int64_t n = 0; n < N; n++) {
      const float* xn = x + n * d;
      const float* gn = dy + n * d;
      float* dxn = dx + n * d;
      const float m = mean[n], r = rstd[n];
      float sum_gw = 0.0f, sum_gwx = 0.0f;
#pragma omp simd reduction(+ : sum_gw, sum_gwx)
      for (int64_t j = 0; j < d; j++) {
        const float gw = gn[j] * w[j];
        sum_gw += gw;
        sum_gwx += gw * (xn[j] - m) * r;
      }
      const float mean_gw = d > 0 ? sum_gw / static_cast<float>(d) : 0.0f;
      const float mean_gwx = d > 0 ? sum_gwx / static_cast<float>(d) : 0.0f;
#pragma omp simd
      for (int64_t j = 0; j < d; j++) {
        const float xhat = (xn[j] - m) * r;
        const float v = r * (gn[j] * w[j] - mean_gw - xhat * mean_gwx);
        dxn[j] = dx_accumulate ? dxn[j] + v : v;
      }
    }
  }
  if (dw) {
    column_sum(N, d, dw, dparam_accumulate, [&](int64_t n, int64_t j0, int64_t width, float* acc) {
      const float* xn = x + n * d + j0;
      const float* gn = dy + n * d + j0;
      const float m = mean[n], r = rstd[n];
#pragma omp simd
      for (int64_t j = 0; j < width; j++) acc[j] += gn[j] * ((xn[j] - m) * r);
    });
  }
  if (db) {
    column_sum(N, d, db, dparam_accumulate, [&](int64_t n, int64_t j0, int64_t width, float* acc) {
      const float* gn = dy + n * d + j0;
#pragma omp simd
      for (int64_t j = 0; j < width; j++) acc[j] += gn[j];
    });
  }
}

}  // namespace cpu
}  // namespace frl

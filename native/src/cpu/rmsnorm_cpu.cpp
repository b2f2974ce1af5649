// CPU reference of RMSNorm: llm.c-style loops, OpenMP across rows, and across column blocks for
// dw so that its sum over rows keeps one fixed order (bitwise reproducible for any thread count).
#include "cpu/rmsnorm_cpu.h"

#include <cmath>

#include "cpu/column_sum.h"

namespace frl {
namespace cpu {
void rmsnorm_forward(const float* x, const float* w, float eps, float* y, float* rstd, int64_t N,
                     int64_t d) {
#pragma omp parallel for schedule(static) if (N * d > 32768)
  for (int64_t n = 0; n < N; n++) {
    const float* xn = x + n * d;
    float* yn = y + n * d;
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (int64_t j = 0; j < d; j++) ss += xn[j] * xn[j];
    // d == 0: an empty row; mean taken as 0 so rstd = 1/sqrt(eps), and there is nothing to write.
    const float r = 1.0f / std::sqrt((d > 0 ? ss / static_cast<float>(d) : 0.0f) + eps);
#pragma omp simd
    for (int64_t j = 0; j < d; j++) yn[j] = xn[j] * r * w[j];
    if (rstd) rstd[n] = r;
  }
}

void rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* dy, float* dx,
                      float* dw, int64_t N, int64_t d, bool dx_accumulate, bool dw_accumulate) {
  if (dx) {
#pragma omp parallel for schedule(static) if (N * d > 32768)
    for (int64_t n = 0; n < N; n++) {
      const float* xn = x + n * d;
      const float* gn = dy + n * d;
      float* dxn = dx + n * d;
      const float r = rstd[n];
      // mean_j (g∘w)[j] · xhat[j]
      float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
      for (int64_t j = 0; j < d; j++) dot += gn[j] * w[j] * xn[j] * r;
      const float mean = d > 0 ? dot / static_cast<float>(d) : 0.0f;
#pragma omp simd
      for (int64_t j = 0; j < d; j++) {
        const float v = r * (gn[j] * w[j] - xn[j] * r * mean);
        dxn[j] = dx_accumulate ? dxn[j] + v : v;
      }
    }
  }
  if (dw) {
    column_sum(N, d, dw, dw_accumulate, [&](int64_t n, int64_t j0, int64_t width, float* acc) {
      const float* xn = x + n * d + j0;
      const float* gn = dy + n * d + j0;
      const float r = rstd[n];
#pragma omp simd
      for (int64_t j = 0; j < width; j++) acc[j] += gn[j] * xn[j] * r;
    });
  }
}

}  // namespace cpu
}  // namespace frl

// CPU reference of the dense linear layer: three GEMMs over strided views (no transposed copies)
// and a column-blocked bias reduction with a fixed row order.
#include "cpu/linear_cpu.h"

#include "cpu/column_sum.h"
#include "cpu/gemm.h"

namespace frl {
namespace cpu {
void linear_forward(const float* x, const float* W, const float* b, float* y, int64_t N, int64_t K, int64_t M,
                    const LinearLd& ld) {
  GemmSegment xw{{x, ld.x, 1}, {W, 1, ld.W}, K, 1.0f};  // x [N,K] . Wᵀ, Wᵀ(k,m) = W[m*ldW+k]
  gemm(N, M, &xw, 1, y, ld.y, false);
  if (b == nullptr) return;
#pragma omp parallel for schedule(static) if (N * M > 65536)
  for (int64_t n = 0; n < N; n++) {
    float* yn = y + n * ld.y;
#pragma omp simd
    for (int64_t m = 0; m < M; m++) yn[m] += b[m];
  }
}

void linear_backward(const float* x, const float* W, const float* g, float* dx, float* dW, float* db, int64_t N,
                     int64_t K, int64_t M, bool dx_accumulate, bool dparam_accumulate, const LinearLd& ld) {
  if (dx) {
    GemmSegment gw{{g, ld.y, 1}, {W, ld.W, 1}, M, 1.0f};  // g [N,M] . W [M,K]
    gemm(N, K, &gw, 1, dx, ld.dx, dx_accumulate);
  }
  if (dW) {
    GemmSegment gx{{g, 1, ld.y}, {x, ld.x, 1}, N, 1.0f};  // gᵀ(m,n) = g[n*ldy+m], times x [N,K]
    gemm(M, K, &gx, 1, dW, ld.dW, dparam_accumulate);
  }
  if (db) {
    column_sum(N, M, db, dparam_accumulate, [&](int64_t n, int64_t m0, int64_t width, float* acc) {
      const float* gn = g + n * ld.y + m0;
#pragma omp simd
      for (int64_t m = 0; m < width; m++) acc[m] += gn[m];
    });
  }
}

}  // namespace cpu
}  // namespace frl

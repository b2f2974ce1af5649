// CPU reference of the dense linear layer: three GEMMs over strided views (no transposed copies)
// and a column-blocked bias reduction with a fixed row order.
#include "cpu/linear_cpu.h"

#include "cpu/column_sum.h"
#include "cpu/lora_cpu.h"

namespace frl {
namespace cpu {
void linear_forward(const float* x, const float* W, const float* b, float* y, int64_t N, int64_t K, int64_t M) {
  GemmSegment xw{{x, K, 1}, {W, 1, K}, K, 1.0f};  // x [N,K] . Wᵀ, Wᵀ(k,m) = W[m*K+k]
  gemm(N, M, &xw, 1, y, M, false);
  if (b == nullptr) return;
#pragma omp parallel for schedule(static) if (N * M > 65536)
  for (int64_t n = 0; n < N; n++) {
    float* yn = y + n * M;
#pragma omp simd
    for (int64_t m = 0; m < M; m++) yn[m] += b[m];
  }
}

void linear_backward(const float* x, const float* W, const float* g, float* dx, float* dW, float* db, int64_t N,
                     int64_t K, int64_t M, bool dx_accumulate, bool dparam_accumulate) {
  if (dx) {
    GemmSegment gw{{g, M, 1}, {W, K, 1}, M, 1.0f};  // g [N,M] . W [M,K]
    gemm(N, K, &gw, 1, dx, K, dx_accumulate);
  }
  if (dW) {
    GemmSegment gx{{g, 1, M}, {x, K, 1}, N, 1.0f};  // gᵀ(m,n) = g[n*M+m], times x [N,K]
    gemm(M, K, &gx, 1, dW, K, dparam_accumulate);
  }
  if (db) {
    column_sum(N, M, db, dparam_accumulate, [&](int64_t n, int64_t m0, int64_t width, float* acc) {
      const float* gn = g + n * M + m0;
#pragma omp simd
      for (int64_t m = 0; m < width; m++) acc[m] += gn[m];
    });
  }
}

}  // namespace cpu
}  // namespace frl

// CPU reference of the dense linear layer (fp32), on the blocked GEMM of gemm.h. Math: factrl/linear.h.
// Every matrix is row-major with a leading dimension (row stride in elements, >= its width), so a
// row-contiguous view (a column slice of a wider buffer) needs no copy.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// Leading dimensions of the linear layer's matrices: x/dx [N, K], W/dW [M, K], y/dy [N, M].
struct LinearLd {
  int64_t x, W, y, dx, dW;
  static LinearLd dense(int64_t K, int64_t M) { return {K, K, M, K, K}; }
};

// y[N, M] = x[N, K] Wᵀ (+ b); b may be null. (ld.y is y's row stride.)
void linear_forward(const float* x, const float* W, const float* b, float* y, int64_t N, int64_t K, int64_t M,
                    const LinearLd& ld);

// dx (+)= g W (added when dx_accumulate), dW (+)= gᵀ x, db (+)= Σ_n g[n] (added when
// dparam_accumulate); each output may be null. (ld.y is dy's row stride.)
void linear_backward(const float* x, const float* W, const float* dy, float* dx, float* dW, float* db, int64_t N,
                     int64_t K, int64_t M, bool dx_accumulate, bool dparam_accumulate, const LinearLd& ld);

inline void linear_forward(const float* x, const float* W, const float* b, float* y, int64_t N, int64_t K,
                           int64_t M) {
  linear_forward(x, W, b, y, N, K, M, LinearLd::dense(K, M));
}
inline void linear_backward(const float* x, const float* W, const float* dy, float* dx, float* dW, float* db,
                            int64_t N, int64_t K, int64_t M, bool dx_accumulate, bool dparam_accumulate) {
  linear_backward(x, W, dy, dx, dW, db, N, K, M, dx_accumulate, dparam_accumulate, LinearLd::dense(K, M));
}

}  // namespace cpu
}  // namespace frl

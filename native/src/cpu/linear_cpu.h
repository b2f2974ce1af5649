// CPU reference of the dense linear layer (fp32), on the blocked GEMM of lora_cpu. Math: factrl/linear.h.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// y[N, M] = x[N, K] Wᵀ (+ b); b may be null.
void linear_forward(const float* x, const float* W, const float* b, float* y, int64_t N, int64_t K, int64_t M);

// dx (+)= g W (added when dx_accumulate), dW (+)= gᵀ x, db (+)= Σ_n g[n] (added when
// dparam_accumulate); each output may be null.
void linear_backward(const float* x, const float* W, const float* dy, float* dx, float* dW, float* db, int64_t N,
                     int64_t K, int64_t M, bool dx_accumulate, bool dparam_accumulate);

}  // namespace cpu
}  // namespace frl

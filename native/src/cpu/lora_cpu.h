// CPU reference of the fused LoRA matmul (fp32). See native/include/factrl/lora.h for the math.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// u = x A^T (when use_adapter); y = x W^T + s u B^T. u_out may be null (a workspace is used).
// ldx / ldy: row strides of x and y (row-contiguous views); -1 means dense (K, M).
void lora_forward(const float* x, const float* W, const float* A, const float* B, float scale,
                  bool use_adapter, int64_t N, int64_t K, int64_t M, int64_t r, float* y, float* u_out,
                  int64_t ldx = -1, int64_t ldy = -1);

// v = g B; dx (+)= g W + s v A; dA (+)= s v^T x; dB (+)= s g^T u (added into when accumulate).
// Null outputs are skipped. ldx / ldg / lddx: row strides of x, dy and dx; -1 means dense (K, M, K).
void lora_backward(const float* x, const float* W, const float* A, const float* B, float scale,
                   bool use_adapter, const float* dy, const float* u, int64_t N, int64_t K, int64_t M,
                   int64_t r, float* dx, float* dA, float* dB, bool accumulate, int64_t ldx = -1,
                   int64_t ldg = -1, int64_t lddx = -1);

}  // namespace cpu
}  // namespace frl

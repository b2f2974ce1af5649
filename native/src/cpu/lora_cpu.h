// CPU reference of the fused LoRA matmul (fp32). See native/include/factrl/lora.h for the math.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// u = x A^T (when use_adapter); y = x W^T + s u B^T. u_out may be null (a workspace is used).
void lora_forward(const float* x, const float* W, const float* A, const float* B, float scale,
                  bool use_adapter, int64_t N, int64_t K, int64_t M, int64_t r, float* y, float* u_out);

// v = g B; dx (+)= g W + s v A; dA (+)= s v^T x; dB (+)= s g^T u (added into when accumulate).
// Null outputs are skipped.
void lora_backward(const float* x, const float* W, const float* A, const float* B, float scale,
                   bool use_adapter, const float* dy, const float* u, int64_t N, int64_t K, int64_t M,
                   int64_t r, float* dx, float* dA, float* dB, bool accumulate);

}  // namespace cpu
}  // namespace frl

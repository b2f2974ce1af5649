// CPU reference of the fused LoRA matmul (fp32). See native/include/factrl/lora.h for the math.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// A strided fp32 matrix view: element (i, j) is p[i * rs + j * cs].
struct MatView {
  const float* p;
  int64_t rs, cs;
};

// One term of a K-augmented product: alpha * op(A)[M x k] * op(B)[k x N].
struct GemmSegment {
  MatView a, b;
  int64_t k;
  float alpha;
};

// C[M x N] (row-major, leading dimension ldc) = (accumulate ? C : 0) + sum over segments of
// alpha_s * A_s B_s. One blocked, packed pass over C (Goto-style: B panel kc x nc, A block mc x kc,
// 6 x 16 register micro-kernel), OpenMP over micro-tiles; the segments are consecutive k ranges of
// the same accumulation, so a rank-r term rides along in the same pass.
void gemm(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc, bool accumulate);

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

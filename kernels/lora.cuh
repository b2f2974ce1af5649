// Host launchers of the fused LoRA matmul on CUDA (kernels/lora.cu). Plain C++ header: included by
// native/src/lora_api.cpp, which has validated every argument (shapes, dtypes, context) already.
#pragma once

#include <cstdint>

#include "engine.h"

namespace frl {
namespace cuda {

// u = x A^T (into a stream-ordered workspace when u is null); y = [x | s u] . [W | B]^T.
// x, W, y, u: one dtype, F32 (SIMT kernels) or BF16 (cuBLASLt or tensor cores, fp32 accumulation);
// A, B: that dtype or F32 (f32 master weights over a bf16 base: cast to bf16 per call).
void lora_forward(const frl_ctx* ctx, const frl_tensor* x, const frl_tensor* W, const frl_tensor* A,
                  const frl_tensor* B, float scale, bool use_adapter, int64_t N, int64_t K, int64_t M,
                  int64_t r, frl_tensor* y, frl_tensor* u);

// v = g B (workspace); dx (+)= [g | s v] . [W ; A]; dA (+)= s v^T x; dB (+)= s g^T u (split-K
// reductions over N); "+=" when accumulate. Null outputs are skipped; A, B, dA, dB may be F32 while
// the activations are BF16.
void lora_backward(const frl_ctx* ctx, const frl_tensor* x, const frl_tensor* W, const frl_tensor* A,
                   const frl_tensor* B, float scale, bool use_adapter, const frl_tensor* dy,
                   const frl_tensor* u, int64_t N, int64_t K, int64_t M, int64_t r, frl_tensor* dx,
                   frl_tensor* dA, frl_tensor* dB, bool accumulate);

}  // namespace cuda
}  // namespace frl

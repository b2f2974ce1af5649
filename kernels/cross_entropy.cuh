// Host launchers of the masked cross-entropy on CUDA (kernels/cross_entropy.cu): the log-prob
// kernel (kl.cuh) plus one small reduction kernel. Plain C++ for native/src/cross_entropy_api.cpp.
// Device pointers of the context; queued on its stream; no host synchronisation.
#pragma once

#include <cstdint>

#include "engine.h"

namespace frl {
namespace cuda {

// loss[0] = −mean of logp over valid rows (0 when none); logp and lse may be null (scratch is used).
void cross_entropy_forward(const frl_ctx* ctx, frl_dtype dtype, const void* logits, const int32_t* targets,
                           const int32_t* mask, int64_t T, int64_t V, float* loss, float* logp, float* lse);

// dlogits (=|+=) grad_loss · (−m_t/n) · (onehot − softmax); lse may be null (recomputed).
void cross_entropy_backward(const frl_ctx* ctx, frl_dtype dtype, const void* logits, const int32_t* targets,
                            const int32_t* mask, const float* lse, float grad_loss, frl_dtype grad_dtype,
                            void* dlogits, int64_t T, int64_t V, bool accumulate);

}  // namespace cuda
}  // namespace frl

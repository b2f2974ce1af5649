// Host launchers of attention's CUDA kernels (kernels/attention.cu). Plain C++ so that
// native/src/attention_api.cpp (compiled by the host compiler) can include it. The C API has checked
// shapes and dtypes; work is queued on the context's stream, nothing synchronises the host.
#pragma once

#include <cstdint>

#include "engine.h"

namespace frl {
namespace cuda {

// q, k, v, out [B, S, H, D] of dtype (FRL_F32 or FRL_BF16); lse F32 [B, H, S] or null.
void attention_forward(const frl_ctx* ctx, frl_dtype dtype, const void* q, const void* k, const void* v, void* out,
                       float* lse, int64_t B, int64_t S, int64_t H, int64_t D, bool causal, float scale);

// dq, dk, dv (each may be null) of the forward, recomputing P from q, k and lse; "+=" when accumulate.
void attention_backward(const frl_ctx* ctx, frl_dtype dtype, const void* q, const void* k, const void* v,
                        const void* out, const float* lse, const void* dout, void* dq, void* dk, void* dv, int64_t B,
                        int64_t S, int64_t H, int64_t D, bool causal, float scale, bool accumulate);

}  // namespace cuda
}  // namespace frl

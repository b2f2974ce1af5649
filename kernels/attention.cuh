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

// The masked forms (factrl/attention.h): q, out, dout, dq [B, Sq, H, D]; k, v, dk, dv [B, Sk, H, D];
// lse [B, H, Sq]; key_len, q_off I32 [B] in device memory or null (Sk / 0), values checked by the
// caller. A query with no visible key gets out = 0, lse = −inf, dq = 0.
void attention_forward_masked(const frl_ctx* ctx, frl_dtype dtype, const void* q, const void* k, const void* v,
                              void* out, float* lse, const int32_t* key_len, const int32_t* q_off, int64_t B,
                              int64_t Sq, int64_t Sk, int64_t H, int64_t D, bool causal, float scale);
void attention_backward_masked(const frl_ctx* ctx, frl_dtype dtype, const void* q, const void* k, const void* v,
                               const void* out, const float* lse, const void* dout, void* dq, void* dk, void* dv,
                               const int32_t* key_len, const int32_t* q_off, int64_t B, int64_t Sq, int64_t Sk,
                               int64_t H, int64_t D, bool causal, float scale, bool accumulate);

}  // namespace cuda
}  // namespace frl

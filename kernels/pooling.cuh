// Host launchers of the reward-head pooling / value-head CUDA kernels (kernels/pooling.cu).
// Plain C++ so that native/src/pooling_api.cpp (compiled by the host compiler) can include it.
// Arguments are validated by the C API before these run (shapes, dtypes); end_index values are
// checked on the device (a bad one is flagged in the context's error record, read at the next sync).
// All pointers are device pointers of the context's device; work is queued on its stream.
#pragma once

#include <cstdint>

#include "engine.h"

namespace frl {
namespace cuda {

// h: FRL_F32 or FRL_BF16 [B,S,d]; end_index i32 [B]; w f32 [d]; bias f32 [1]; scores f32 [B].
void reward_head_forward(const frl_ctx* ctx, frl_dtype h_dtype, const void* h, const int32_t* end_index,
                         const float* w, const float* bias, float* scores, int64_t B, int64_t S, int64_t d);

// dh (dtype dh_dtype, F32 or BF16), dw, dbias may be null. dh is added into when dh_accumulate, dw and
// dbias when param_accumulate. See factrl/pooling.h for the semantics.
void reward_head_backward(const frl_ctx* ctx, frl_dtype h_dtype, const void* h, const int32_t* end_index,
                          const float* w, const float* dscores, frl_dtype dh_dtype, void* dh, float* dw,
                          float* dbias, int64_t B, int64_t S, int64_t d, bool dh_accumulate,
                          bool param_accumulate);

// h seen as [N, d] (N = B·S); mask i32 [N] or null; values f32 [N].
void value_head_forward(const frl_ctx* ctx, frl_dtype h_dtype, const void* h, const int32_t* mask,
                        const float* w, const float* bias, float* values, int64_t N, int64_t d);

void value_head_backward(const frl_ctx* ctx, frl_dtype h_dtype, const void* h, const int32_t* mask,
                         const float* w, const float* dvalues, frl_dtype dh_dtype, void* dh, float* dw,
                         float* dbias, int64_t N, int64_t d, bool dh_accumulate, bool param_accumulate);

}  // namespace cuda
}  // namespace frl

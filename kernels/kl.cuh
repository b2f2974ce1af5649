// Host launchers of the per-token log-prob / KL CUDA kernels (kernels/kl.cu). Plain C++ so that
// native/src/kl_api.cpp (compiled by the host compiler) can include it.
#pragma once

#include <cstdint>

#include "cpu/kl_cpu.h"
#include "engine.h"

namespace frl {
namespace cuda {

// Forward on the context's stream. dtype: FRL_F32 or FRL_BF16 (policy and ref alike); outputs f32
// device pointers (null: not computed). A valid row whose action is outside [0, V) is flagged in
// the context's device error record (reported at the next sync point); no host synchronisation.
void token_logprobs_forward(const frl_ctx* ctx, frl_dtype dtype, const void* policy, const void* ref,
                            const int32_t* actions, const int32_t* mask, int64_t T, int64_t V,
                            const cpu::KlOutputs& out);

// Backward of logp_policy; logits dtype and dlogits dtype each FRL_F32 or FRL_BF16. lse may be null.
void token_logprobs_backward(const frl_ctx* ctx, frl_dtype dtype, const void* policy, const int32_t* actions,
                             const int32_t* mask, const float* grad_logp, const float* lse,
                             frl_dtype grad_dtype, void* dlogits, int64_t T, int64_t V, bool accumulate);

}  // namespace cuda
}  // namespace frl

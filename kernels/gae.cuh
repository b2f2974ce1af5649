// Host launchers of the GAE scan and masked-whitening CUDA kernels (kernels/gae.cu). Plain C++ so
// that native/src/gae_api.cpp (compiled by the host compiler) can include it.
#pragma once

#include <cstdint>

#include "engine.h"

namespace frl {
namespace cuda {

// GAE on the context's stream over B rows of length T (device pointers; dtype FRL_F32 or FRL_BF16
// for rewards, values, advantages, returns alike; mask I32). A row whose mask is not a 0/1 prefix
// mask is flagged in the context's device error record (op kOpGae, the smallest such row), reported
// as an error on 'mask' at the next sync point; that row's outputs are unspecified. No host sync.
void gae(const frl_ctx* ctx, frl_dtype dtype, const void* rewards, const void* values, const int32_t* mask,
         int64_t B, int64_t T, float gamma, float lambda, void* advantages, void* returns);

// Masked whitening of n values (mask nonzero = valid), out may alias x; dtype FRL_F32 or FRL_BF16 for
// x and out. Deterministic: fixed-order block partials (count, sum, sum of squares in double), a
// one-block finalize, then an elementwise pass. out_mean / out_std may be null; when either is
// given the launcher synchronises the stream to read them.
void masked_whiten(const frl_ctx* ctx, frl_dtype dtype, const void* x, const int32_t* mask, int64_t n,
                   bool shift_mean, float eps, void* out, float* out_mean, float* out_std);

}  // namespace cuda
}  // namespace frl

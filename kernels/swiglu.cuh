// Host launchers of the SwiGLU gate's CUDA kernels (kernels/swiglu.cu). Plain C++ so that
// native/src/swiglu_api.cpp (compiled by the host compiler) can include it. The C API has checked
// shapes and dtypes; work is queued on the context's stream, nothing synchronises the host.
#pragma once

#include <cstdint>

#include "engine.h"

namespace frl {
namespace cuda {

// out = silu(a)∘b; dtype (FRL_F32 or FRL_BF16) of every tensor; out may alias a or b.
void swiglu_forward(const frl_ctx* ctx, frl_dtype dtype, const void* a, const void* b, void* out, int64_t n);

// da (+)= g∘b∘σ(a)(1 + a(1 − σ(a))), db (+)= g∘silu(a); da, db may be null.
void swiglu_backward(const frl_ctx* ctx, frl_dtype dtype, const void* a, const void* b, const void* dout, void* da,
                     void* db, int64_t n, bool accumulate);

}  // namespace cuda
}  // namespace frl

// Host launchers of GELU's CUDA kernels (kernels/gelu.cu). Plain C++ so that native/src/gelu_api.cpp
// (compiled by the host compiler) can include it. The C API has checked shapes and dtypes; pointers
// are device pointers of the context; work is queued on its stream, nothing synchronises the host.
#pragma once

#include <cstdint>

#include "engine.h"

namespace frl {
namespace cuda {

// dtype (FRL_F32 or FRL_BF16) of every tensor; y may alias x.
void gelu_forward(const frl_ctx* ctx, frl_dtype dtype, const void* x, void* y, int64_t n, bool tanh_approx);
// dx (+)= dy · gelu'(x).
void gelu_backward(const frl_ctx* ctx, frl_dtype dtype, const void* x, const void* dy, void* dx, int64_t n,
                   bool tanh_approx, bool accumulate);

}  // namespace cuda
}  // namespace frl

// Host launchers of RMSNorm's CUDA kernels (kernels/rmsnorm.cu). Plain C++ so that
// native/src/rmsnorm_api.cpp (compiled by the host compiler) can include it. The C API has checked
// shapes and dtypes; pointers are device pointers of the context; work is queued on its stream and
// nothing here synchronises the host.
#pragma once

#include <cstdint>

#include "engine.h"

namespace frl {
namespace cuda {

// dtype (FRL_F32 or FRL_BF16) of x, w, y; rstd F32 [N] or null. y may alias x.
void rmsnorm_forward(const frl_ctx* ctx, frl_dtype dtype, const void* x, const void* w, float eps, void* y,
                     float* rstd, int64_t N, int64_t d);

// dtype of x, w, dy, dx, dw; dx, dw may be null. Flags: add into dx / into dw.
void rmsnorm_backward(const frl_ctx* ctx, frl_dtype dtype, const void* x, const void* w, const float* rstd,
                      const void* dy, void* dx, void* dw, int64_t N, int64_t d, bool dx_accumulate,
                      bool dw_accumulate);

}  // namespace cuda
}  // namespace frl

// Host launchers of LayerNorm's CUDA kernels (kernels/layernorm.cu). Plain C++ so that
// native/src/layernorm_api.cpp (compiled by the host compiler) can include it. The C API has
// checked shapes and dtypes; pointers are device pointers of the context; work is queued on its
// stream and nothing here synchronises the host.
#pragma once

#include <cstdint>

#include "engine.h"

namespace frl {
namespace cuda {

// dtype (FRL_F32 or FRL_BF16) of x, w, b, y; mean, rstd F32 [N] or null. y may alias x.
void layernorm_forward(const frl_ctx* ctx, frl_dtype dtype, const void* x, const void* w, const void* b, float eps,
                       void* y, float* mean, float* rstd, int64_t N, int64_t d);

// dtype of x, w, dy, dx, dw, db; dx, dw, db may be null. Flags: add into dx / into dw and db.
void layernorm_backward(const frl_ctx* ctx, frl_dtype dtype, const void* x, const void* w, const float* mean,
                        const float* rstd, const void* dy, void* dx, void* dw, void* db, int64_t N, int64_t d,
                        bool dx_accumulate, bool dparam_accumulate);

}  // namespace cuda
}  // namespace frl

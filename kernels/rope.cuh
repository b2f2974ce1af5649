// Host launcher of RoPE's CUDA kernel (kernels/rope.cu). Plain C++ so that native/src/rope_api.cpp
// (compiled by the host compiler) can include it. The C API has checked shapes and dtypes;
// positions live on the device, so their sign is checked by the kernel (the device error flag, read
// at the next sync). Work is queued on the context's stream; nothing here synchronises the host.
#pragma once

#include <cstdint>

#include "engine.h"

namespace frl {
namespace cuda {

// x, y [T = B·S, H, D] of dtype (FRL_F32 or FRL_BF16), positions [T] I32; y may alias x. Rotates by
// +φ (−φ when inverse); overwrites y or adds into it. A negative position is flagged (kOpRope,
// bound S) and its token skipped.
void rope(const frl_ctx* ctx, frl_dtype dtype, const void* x, const int32_t* positions, float base, bool inverse,
          void* y, int64_t B, int64_t S, int64_t H, int64_t D, bool accumulate);

}  // namespace cuda
}  // namespace frl

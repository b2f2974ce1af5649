// Host launcher of the AdamW CUDA kernel (kernels/adamw.cu). Plain C++ so that
// native/src/optim_api.cpp (compiled by the host compiler) can include it. The C API has checked
// every argument; pointers are device pointers of the context; work is queued on its stream.
#pragma once

#include <cstdint>

#include "cpu/adamw_cpu.h"
#include "engine.h"

namespace frl {
namespace cuda {

// One AdamW step over n F32 elements, in place on p, m, v (factrl/optim.h).
void adamw_step(const frl_ctx* ctx, float* p, const float* g, float* m, float* v, int64_t n, const AdamWScalars& s);

}  // namespace cuda
}  // namespace frl

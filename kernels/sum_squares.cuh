// Host launcher of the fixed-order sum of squares (kernels/sum_squares.cu); see factrl/optim.h.
#pragma once

#include <cstdint>

#include "engine.h"

namespace frl {
namespace cuda {

// Σ x_i² over n F32 elements (device memory), in the fixed order of factrl/optim.h; waits for the
// result (a sync point) and returns it.
double sum_squares(const frl_ctx* ctx, const float* x, int64_t n);

}  // namespace cuda
}  // namespace frl

// CPU reference of the fixed-order sum of squares (factrl/optim.h): the global gradient norm.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// Σ x_i² in double in the order factrl/optim.h defines (chunks of FRL_SUMSQ_CHUNK, lanes, tree),
// which kernels/sum_squares.cu follows too: bitwise the same for any thread count and backend.
double sum_squares(const float* x, int64_t n);

}  // namespace cpu
}  // namespace frl

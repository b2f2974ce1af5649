// CPU reference of the SwiGLU gate (fp32, OpenMP). Math: factrl/swiglu.h.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// out[i] = silu(a[i]) · b[i] over n elements; out may alias a or b.
void swiglu_forward(const float* a, const float* b, float* out, int64_t n);

// da (+)= g·b·silu'(a), db (+)= g·silu(a) (added when accumulate); either may be null.
void swiglu_backward(const float* a, const float* b, const float* dout, float* da, float* db, int64_t n,
                     bool accumulate);

}  // namespace cpu
}  // namespace frl

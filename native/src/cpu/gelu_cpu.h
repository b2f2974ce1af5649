// CPU reference of GELU (fp32, OpenMP). Raw-pointer kernels: native/src/gelu_api.cpp checks every
// argument first. Math and conventions: factrl/gelu.h.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// y = gelu(x) over n elements, erf form (tanh_approx false) or tanh approximation. y may alias x.
void gelu_forward(const float* x, float* y, int64_t n, bool tanh_approx);

// dx (+)= dy · gelu'(x) (added when accumulate is set).
void gelu_backward(const float* x, const float* dy, float* dx, int64_t n, bool tanh_approx, bool accumulate);

}  // namespace cpu
}  // namespace frl

// CPU reference of GELU: one pass over the elements, OpenMP across chunks of them. std::erf,
// std::tanh and std::exp in fp32 (libm: within a few ulp, what the libtorch oracle also calls).
#include "cpu/gelu_cpu.h"

#include <cmath>

namespace frl {
namespace cpu {
namespace {

constexpr float kInvSqrt2 = 0.70710678118654752f;     // 1/√2
constexpr float kInvSqrt2Pi = 0.39894228040143268f;   // 1/√(2π)
constexpr float kSqrt2OverPi = 0.79788456080286536f;  // √(2/π)
constexpr float kCubic = 0.044715f;

// erf form: y = ½ x (1 + erf(x/√2))
inline float gelu_erf(float x) { return 0.5f * x * (1.0f + std::erf(x * kInvSqrt2)); }

// y' = Φ(x) + x φ(x)
inline float gelu_erf_grad(float x) {
  return 0.5f * (1.0f + std::erf(x * kInvSqrt2)) + x * kInvSqrt2Pi * std::exp(-0.5f * x * x);
}

// tanh form: u = √(2/π)(x + 0.044715 x³), y = ½ x (1 + tanh u)
inline float gelu_tanh(float x) {
  const float u = kSqrt2OverPi * (x + kCubic * x * x * x);
  return 0.5f * x * (1.0f + std::tanh(u));
}

// y' = ½(1 + t) + ½ x (1 − t²) √(2/π)(1 + 3·0.044715 x²), t = tanh u
inline float gelu_tanh_grad(float x) {
  const float t = std::tanh(kSqrt2OverPi * (x + kCubic * x * x * x));
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kCubic * x * x);
}

}  // namespace

void gelu_forward(const float* x, float* y, int64_t n, bool tanh_approx) {
  if (tanh_approx) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) y[i] = gelu_tanh(x[i]);
  } else {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) y[i] = gelu_erf(x[i]);
  }
}

void gelu_backward(const float* x, const float* dy, float* dx, int64_t n, bool tanh_approx, bool accumulate) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; i++) {
    const float v = dy[i] * (tanh_approx ? gelu_tanh_grad(x[i]) : gelu_erf_grad(x[i]));
    dx[i] = accumulate ? dx[i] + v : v;
  }
}

}  // namespace cpu
}  // namespace frl

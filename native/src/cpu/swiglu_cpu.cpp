// CPU reference of the SwiGLU gate: one elementwise pass, OpenMP + SIMD.
#include "cpu/swiglu_cpu.h"

#include <cmath>

namespace frl {
namespace cpu {
namespace {

// σ(a) = 1 / (1 + e^{−a}): e^{−a} overflows to +inf for a < −88, giving exactly 0, never NaN.
inline float sigmoid(float a) { return 1.0f / (1.0f + std::exp(-a)); }

}  // namespace

void swiglu_forward(const float* a, const float* b, float* out, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; i++) out[i] = a[i] * sigmoid(a[i]) * b[i];
}

void swiglu_backward(const float* a, const float* b, const float* dout, float* da, float* db, int64_t n,
                     bool accumulate) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; i++) {
    const float s = sigmoid(a[i]);
    const float g = dout[i];
    const float ga = g * b[i] * s * (1.0f + a[i] * (1.0f - s));
    const float gb = g * a[i] * s;
    if (da) da[i] = accumulate ? da[i] + ga : ga;
    if (db) db[i] = accumulate ? db[i] + gb : gb;
  }
}

}  // namespace cpu
}  // namespace frl

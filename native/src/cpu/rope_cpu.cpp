// CPU reference of rotary position embedding: per token, the D/2 angles are computed once and
// applied to every head.
#include "cpu/rope_cpu.h"

#include <cmath>
#include <vector>

namespace frl {
namespace cpu {

void rope(const float* x, const int32_t* positions, float base, bool inverse, float* y, int64_t T, int64_t H,
          int64_t D, bool accumulate) {
  const int64_t half = D / 2;
  // θ_i = 1 / base^(2i/D) in fp32, the way HF's LlamaRotaryEmbedding builds inv_freq.
  std::vector<float> theta(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; i++)
    theta[i] = 1.0f / std::pow(base, static_cast<float>(2 * i) / static_cast<float>(D));
#pragma omp parallel if (T * H * D > 32768)
  {
    std::vector<float> c(static_cast<size_t>(half)), s(static_cast<size_t>(half));
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; t++) {
      const float p = static_cast<float>(positions[t]);
      for (int64_t i = 0; i < half; i++) {
        const float phi = p * theta[i];
        c[i] = std::cos(phi);
        s[i] = inverse ? -std::sin(phi) : std::sin(phi);
      }
      for (int64_t h = 0; h < H; h++) {
        const float* xr = x + (t * H + h) * D;
        float* yr = y + (t * H + h) * D;
#pragma omp simd
        for (int64_t i = 0; i < half; i++) {
          const float x1 = xr[i], x2 = xr[i + half];
          const float y1 = x1 * c[i] - x2 * s[i], y2 = x2 * c[i] + x1 * s[i];
          yr[i] = accumulate ? yr[i] + y1 : y1;  // y may be x: both x values are read first
          yr[i + half] = accumulate ? yr[i + half] + y2 : y2;
        }
      }
    }
  }
}

}  // namespace cpu
}  // namespace frl

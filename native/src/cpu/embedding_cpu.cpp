// CPU reference of the token embedding. The backward's scatter-add is parallel over column blocks
// of d (no two threads touch one element, and each element sums its rows in ascending n).
#include "cpu/embedding_cpu.h"

#include <algorithm>
#include <cstring>

namespace frl {
namespace cpu {
namespace {
constexpr int64_t kColumnBlock = 256;
}

void embedding_forward(const int32_t* ids, const float* table, float* out, int64_t N, int64_t d) {
#pragma omp parallel for schedule(static) if (N * d > 65536)
  for (int64_t n = 0; n < N; n++)
    std::memcpy(out + n * d, table + static_cast<int64_t>(ids[n]) * d, static_cast<size_t>(d) * sizeof(float));
}

void embedding_backward(const int32_t* ids, const float* dout, float* dtable, int64_t N, int64_t V, int64_t d,
                        bool accumulate) {
  if (!accumulate) std::fill(dtable, dtable + V * d, 0.0f);
  const int64_t blocks = (d + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for schedule(dynamic, 1) if (N * d > 65536)
  for (int64_t blk = 0; blk < blocks; blk++) {
    const int64_t j0 = blk * kColumnBlock, width = std::min(kColumnBlock, d - j0);
    for (int64_t n = 0; n < N; n++) {
      float* dst = dtable + static_cast<int64_t>(ids[n]) * d + j0;
      const float* src = dout + n * d + j0;
#pragma omp simd
      for (int64_t j = 0; j < width; j++) dst[j] += src[j];
    }
  }
}

}  // namespace cpu
}  // namespace frl

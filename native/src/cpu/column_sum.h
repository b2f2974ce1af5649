// A reduction over rows with a fixed order: out[j] (+)= Σ_n term(n, j) for j in [0, d). Columns are
// cut into blocks handed out dynamically; each block sums its rows in ascending n in fp32, so the
// result has the same bits for any thread count (bias, gain and embedding-style gradients).
#pragma once

#include <algorithm>
#include <cstdint>

namespace frl {
namespace cpu {

constexpr int64_t kColumnSumBlock = 256;

// add_row(n, j0, width, acc) adds row n's terms for columns [j0, j0 + width) into acc[0, width).
template <typename AddRow>
void column_sum(int64_t N, int64_t d, float* out, bool accumulate, AddRow add_row) {
  const int64_t blocks = (d + kColumnSumBlock - 1) / kColumnSumBlock;
#pragma omp parallel for schedule(dynamic, 1) if (N * d > 65536)
  for (int64_t blk = 0; blk < blocks; blk++) {
    const int64_t j0 = blk * kColumnSumBlock, width = std::min(kColumnSumBlock, d - j0);
    float acc[kColumnSumBlock] = {0.0f};
    for (int64_t n = 0; n < N; n++) add_row(n, j0, width, acc);
    for (int64_t j = 0; j < width; j++) out[j0 + j] = (accumulate ? out[j0 + j] : 0.0f) + acc[j];
  }
}

}  // namespace cpu
}  // namespace frl

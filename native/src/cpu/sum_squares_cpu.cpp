// CPU reference of the fixed-order sum of squares: chunks in parallel (OpenMP), each summed in the
// fixed lanes-then-tree order into its own slot, then the partials in the same order on one thread.
// Nothing depends on which thread ran which chunk, so every thread count gives the same bits.
#include "cpu/sum_squares_cpu.h"

#include <algorithm>
#include <vector>

#include "factrl/optim.h"

namespace frl {
namespace cpu {
namespace {

constexpr int64_t kChunk = FRL_SUMSQ_CHUNK;
constexpr int kLanes = FRL_SUMSQ_LANES;

// Lane l sums term(i) for i = l, l + LANES, … < n in order; then the tree
// lane[l] += lane[l + s] for s = LANES/2, …, 1. Returns lane[0].
template <typename Term>
double lanes_tree_sum(int64_t n, Term term) {
  double lane[kLanes] = {};
  for (int64_t base = 0; base < n; base += kLanes) {
    const int64_t width = std::min<int64_t>(kLanes, n - base);
    for (int64_t l = 0; l < width; l++) lane[l] += term(base + l);
  }
  for (int s = kLanes / 2; s >= 1; s /= 2)
    for (int l = 0; l < s; l++) lane[l] += lane[l + s];
  return lane[0];
}

}  // namespace

double sum_squares(const float* x, int64_t n) {
  if (n <= 0) return 0.0;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(chunks));
#pragma omp parallel for schedule(static) if (chunks > 4)
  for (int64_t c = 0; c < chunks; c++) {
    const float* xc = x + c * kChunk;
    // x² of a float is exact in double (24-bit mantissa squared fits in 53 bits).
    partial[c] = lanes_tree_sum(std::min(kChunk, n - c * kChunk), [xc](int64_t i) {
      const double xi = xc[i];
      return xi * xi;
    });
  }
  return lanes_tree_sum(chunks, [&partial](int64_t i) { return partial[i]; });
}

}  // namespace cpu
}  // namespace frl

// A reduction over rows with a fixed order, on CUDA: out[j] (+)= Σ_n term(n, j) for j in [0, d) —
// the gain / bias gradients of RMSNorm and the linear layer (the CUDA twin of cpu/column_sum.h).
// Included by .cu files only (device code).
//
// A block owns kColumnSumCols columns and kColumnSumRowGroups groups of rows: thread (c, r) sums
// rows r, r + kColumnSumRowGroups, ... of column c in ascending n (reads coalesced along c), then
// row group 0 adds the kColumnSumRowGroups partials in ascending r. The split depends only on these
// constants, so every run gives the same bits (not the CPU's bits: the CPU sums all n in one chain;
// the GPU checks allow for the reordering). d/32 blocks: plenty for d in the thousands.
#pragma once

#include <cstdint>

#include "cuda_common.cuh"

namespace frl {

constexpr int kColumnSumCols = 32;
constexpr int kColumnSumRowGroups = 32;

// Term: a device functor, float operator()(int64_t n, int64_t j) const.
template <typename T, typename Term>
__global__ void __launch_bounds__(kColumnSumCols* kColumnSumRowGroups)
    column_sum_kernel(Term term, T* out, int64_t N, int64_t d, bool accumulate) {
  __shared__ float part[kColumnSumRowGroups][kColumnSumCols + 1];  // +1: no bank conflicts on the column read
  const int c = threadIdx.x, r = threadIdx.y;
  const int64_t j = blockIdx.x * static_cast<int64_t>(kColumnSumCols) + c;
  float s = 0.0f;
  if (j < d)
    for (int64_t n = r; n < N; n += kColumnSumRowGroups) s += term(n, j);
  part[r][c] = s;
  __syncthreads();
  if (r != 0 || j >= d) return;
  float t = 0.0f;
  for (int k = 0; k < kColumnSumRowGroups; k++) t += part[k][c];
  out[j] = from_f32<T>(accumulate ? to_f32(out[j]) + t : t);
}

// Queues the reduction on st (N == 0 writes zeros, or leaves out unchanged when accumulating).
template <typename T, typename Term>
void column_sum(cudaStream_t st, Term term, T* out, int64_t N, int64_t d, bool accumulate) {
  if (d == 0) return;
  const dim3 block(kColumnSumCols, kColumnSumRowGroups);
  column_sum_kernel<T, Term><<<ceil_div(d, kColumnSumCols), block, 0, st>>>(term, out, N, d, accumulate);
  FRL_CUDA_CHECK_LAUNCH();
}

}  // namespace frl

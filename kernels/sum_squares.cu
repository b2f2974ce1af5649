// CUDA kernels of the fixed-order sum of squares (factrl/optim.h), bitwise the CPU reference
// (native/src/cpu/sum_squares_cpu.cpp): one block of FRL_SUMSQ_LANES threads per chunk, thread l
// being lane l (its elements in order, then the shared-memory tree), partials to pool scratch; then
// one block folds the partials the same way. Double adds use __dadd_rn (never contracted); x² of a
// float is exact in double, so the product needs no care.
#include <cstdint>

#include "cuda_common.cuh"
#include "factrl/optim.h"
#include "sum_squares.cuh"

namespace frl {
namespace {

constexpr int kLanes = FRL_SUMSQ_LANES;
constexpr int64_t kChunk = FRL_SUMSQ_CHUNK;

// lane[l] += lane[l + s] for s = LANES/2, …, 1; returns lane[0] (valid in every thread).
__device__ double tree_fold(double* lane) {
  for (int s = kLanes / 2; s >= 1; s /= 2) {
    __syncthreads();
    if (static_cast<int>(threadIdx.x) < s) lane[threadIdx.x] = __dadd_rn(lane[threadIdx.x], lane[threadIdx.x + s]);
  }
  __syncthreads();
  return lane[0];
}

// partial[c] = Σ_{i in chunk c} x_i², lane l summing i = c·CHUNK + l + k·LANES in order, then the tree.
__global__ void chunk_sum_squares_kernel(const float* x, int64_t n, double* partial) {
  __shared__ double lane[kLanes];
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * kChunk;
  const int64_t end = begin + kChunk < n ? begin + kChunk : n;
  double acc = 0.0;
  for (int64_t i = begin + threadIdx.x; i < end; i += kLanes) {
    const double xi = x[i];
    acc = __dadd_rn(acc, xi * xi);
  }
  lane[threadIdx.x] = acc;
  const double total = tree_fold(lane);
  if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

// *out = the lanes-then-tree sum of partial[0 .. count).
__global__ void fold_partials_kernel(const double* partial, int64_t count, double* out) {
  __shared__ double lane[kLanes];
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += kLanes) acc = __dadd_rn(acc, partial[i]);
  lane[threadIdx.x] = acc;
  const double total = tree_fold(lane);
  if (threadIdx.x == 0) *out = total;
}

}  // namespace

namespace cuda {

double sum_squares(const frl_ctx* ctx, const float* x, int64_t n) {
  if (n <= 0) return 0.0;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  cudaStream_t st = cuda_stream(ctx);
  Scratch scratch(ctx, static_cast<size_t>(chunks + 1) * sizeof(double));
  double* partial = scratch.as<double>();
  chunk_sum_squares_kernel<<<static_cast<unsigned>(chunks), kLanes, 0, st>>>(x, n, partial);
  FRL_CUDA_CHECK_LAUNCH();
  fold_partials_kernel<<<1, kLanes, 0, st>>>(partial, chunks, partial + chunks);
  FRL_CUDA_CHECK_LAUNCH();
  double result = 0.0;
  ctx->backend->copy_to_host(&result, partial + chunks, sizeof result);  // the caller's host read: a sync point
  return result;
}

}  // namespace cuda
}  // namespace frl

// CUDA kernels of the token embedding (factrl/embedding.h). Storage float or bf16 (template
// parameter T), sums in fp32, one rounding per stored element.
//
// Forward: a copy, grid-stride over the N·d outputs.
//
// Backward, deterministic without atomics: a stable radix sort of (id, n) pairs (CUB) groups the
// rows of each id in ascending n; then one block per (run of equal ids, 256 columns) owns those
// dtable elements and adds the run's dout rows in ascending n onto the row's start value (0 for
// FRL_GRAD_OVERWRITE, after one memset of the whole table: unused ids become 0; the old value when
// accumulating). That is the CPU's order exactly (fp32 storage: the same bits). Blocks at a
// position that does not start a run exit at once. A very frequent id (padding) makes one long
// serial run per column: fine at training sizes; a split of long runs is the next step if a
// profile ever shows it.
#include <cub/device/device_radix_sort.cuh>

#include <cstdint>

#include "cuda_common.cuh"
#include "embedding.cuh"

namespace frl {
namespace {

constexpr int kColumnsPerBlock = 256;

// out[n, j] = table[ids[n], j]
template <typename T>
__global__ void embedding_forward_kernel(const int32_t* ids, const T* table, T* out, int64_t N, int64_t V, int64_t d,
                                         DeviceErrorRecord* errors) {
  const int64_t total = N * d;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += gridDim.x * static_cast<int64_t>(blockDim.x)) {
    const int64_t n = i / d, j = i % d;
    const int32_t v = ids[n];
    if (v < 0 || v >= V) {
      if (j == 0) report_device_error(errors, kOpEmbeddingForward, n, v, V);
      continue;
    }
    out[i] = table[static_cast<int64_t>(v) * d + j];
  }
}

// order[n] = n: the values sorted along with the ids.
__global__ void iota_kernel(int32_t* order, int64_t N) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < N;
       i += gridDim.x * static_cast<int64_t>(blockDim.x))
    order[i] = static_cast<int32_t>(i);
}

// Block (i, c): if sorted position i starts a run of id v (keys[i - 1] != v), then for the columns
// j of chunk c: dtable[v, j] = dtable[v, j] + Σ_{k in the run, ascending} dout[order[k], j].
// order within a run is ascending n (the sort is stable over an ascending order).
template <typename T>
__global__ void embedding_backward_runs_kernel(const int32_t* keys, const int32_t* order, const T* dout, T* dtable,
                                               int64_t N, int64_t V, int64_t d, DeviceErrorRecord* errors) {
  const int64_t i = blockIdx.x;
  const int32_t v = keys[i];
  if (i > 0 && keys[i - 1] == v) return;
  if (v < 0 || v >= V) {  // the run's first n is its smallest: the report is the first bad entry
    if (blockIdx.y == 0 && threadIdx.x == 0) report_device_error(errors, kOpEmbeddingBackward, order[i], v, V);
    return;
  }
  const int64_t j = blockIdx.y * static_cast<int64_t>(kColumnsPerBlock) + threadIdx.x;
  if (j >= d) return;
  T* dst = dtable + static_cast<int64_t>(v) * d + j;
  float acc = to_f32(*dst);
  for (int64_t k = i; k < N && keys[k] == v; k++) acc += to_f32(dout[static_cast<int64_t>(order[k]) * d + j]);
  *dst = from_f32<T>(acc);
}

template <typename T>
void backward_as(const frl_ctx* ctx, const int32_t* ids, const T* dout, T* dtable, int64_t N, int64_t V, int64_t d,
                 bool accumulate) {
  cudaStream_t st = cuda_stream(ctx);
  if (!accumulate) FRL_CUDA_CHECK(cudaMemsetAsync(dtable, 0, static_cast<size_t>(V * d) * sizeof(T), st));
  if (N == 0 || d == 0) return;
  const int n = static_cast<int>(N);
  size_t sort_bytes = 0;
  FRL_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, ids, static_cast<int32_t*>(nullptr),
                                                 static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr),
                                                 n, 0, 32, st));
  // keys_out, order_in, order_out (N int32 each), then CUB's temporary storage (256-byte aligned).
  const size_t arrays = (3 * static_cast<size_t>(N) * sizeof(int32_t) + 255) / 256 * 256;
  Scratch scratch(ctx, arrays + sort_bytes);
  int32_t* keys = scratch.as<int32_t>();
  int32_t* order_in = keys + N;
  int32_t* order = order_in + N;
  void* sort_tmp = scratch.as<char>() + arrays;
  iota_kernel<<<grid_stride_blocks(N), kGridStrideThreads, 0, st>>>(order_in, N);
  FRL_CUDA_CHECK_LAUNCH();
  FRL_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(sort_tmp, sort_bytes, ids, keys, order_in, order, n, 0, 32, st));
  const dim3 grid(static_cast<unsigned>(N), static_cast<unsigned>(ceil_div(d, kColumnsPerBlock)));
  embedding_backward_runs_kernel<T><<<grid, kColumnsPerBlock, 0, st>>>(keys, order, dout, dtable, N, V, d,
                                                                        cuda_error_record(ctx));
  FRL_CUDA_CHECK_LAUNCH();
}

}  // namespace

namespace cuda {

void embedding_forward(const frl_ctx* ctx, frl_dtype dtype, const int32_t* ids, const void* table, void* out,
                       int64_t N, int64_t V, int64_t d) {
  if (N == 0 || d == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  dispatch_float_storage(dtype, [&](auto zero) {
    using T = decltype(zero);
    embedding_forward_kernel<T><<<grid_stride_blocks(N * d), kGridStrideThreads, 0, st>>>(
        ids, static_cast<const T*>(table), static_cast<T*>(out), N, V, d, cuda_error_record(ctx));
    FRL_CUDA_CHECK_LAUNCH();
  });
}

void embedding_backward(const frl_ctx* ctx, frl_dtype dtype, const int32_t* ids, const void* dout, void* dtable,
                        int64_t N, int64_t V, int64_t d, bool accumulate) {
  FRL_REQUIRE(N < (int64_t{1} << 31), FRL_ERR_SHAPE,
              "frl_embedding_backward: %lld ids exceed the CUDA kernel's limit of 2^31 - 1 per call",
              static_cast<long long>(N));
  dispatch_float_storage(dtype, [&](auto zero) {
    using T = decltype(zero);
    backward_as<T>(ctx, ids, static_cast<const T*>(dout), static_cast<T*>(dtable), N, V, d, accumulate);
  });
}

}  // namespace cuda
}  // namespace frl

// The dense linear layer on CUDA (factrl/linear.h), the CPU reference's steps (cpu/linear_cpu.cpp)
// on the GEMM of kernels/gemm.cuh (cuBLASLt or our WMMA kernel for bf16, the fp32 SIMT kernel for
// f32; every matrix read in place through its row stride, no transposed copies):
//   y  = x Wᵀ           A = x (row, ld x),  B(k, m) = W[m·ldW + k] (col)
//   y += b              an elementwise pass over the rows (as the CPU: after the GEMM)
//   dx (+)= g W         A = g (row, ld y),  B = W (row, ld W)
//   dW (+)= gᵀ x        A(m, n) = g[n·ldy + m] (col), B = x (row, ld x); split-K over N with a
//                       fixed-order reduction where the output is small (deterministic)
//   db (+)= Σ_n g[n]    the fixed-order column reduction of column_sum.cuh
#include <cstdint>

#include "column_sum.cuh"
#include "cuda_common.cuh"
#include "gemm.cuh"
#include "linear.cuh"

namespace frl {
namespace {

// y[n, m] += b[m] over the N x M rows of y (row stride ldy).
template <typename T>
__global__ void add_bias_kernel(T* y, const T* b, int64_t N, int64_t M, int64_t ldy) {
  const int64_t total = N * M;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += gridDim.x * static_cast<int64_t>(blockDim.x)) {
    const int64_t n = i / M, m = i % M;
    T* p = y + n * ldy + m;
    *p = from_f32<T>(to_f32(*p) + to_f32(b[m]));
  }
}

// db[m]'s term for row n: g[n, m].
template <typename T>
struct RowTerm {
  const T* g;
  int64_t ld;
  __device__ float operator()(int64_t n, int64_t m) const { return to_f32(g[n * ld + m]); }
};

}  // namespace

namespace cuda {

void linear_forward(const frl_ctx* ctx, frl_dtype dtype, const void* x, const void* W, const void* b, void* y,
                    int64_t N, int64_t K, int64_t M, const LinearStrides& ld) {
  gemm(ctx, dtype, N, M, K, GemmOperand{x, ld.x, false}, GemmOperand{W, ld.W, true}, y, ld.y, false);
  if (b == nullptr || N == 0 || M == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  dispatch_float_storage(dtype, [&](auto zero) {
    using T = decltype(zero);
    add_bias_kernel<T><<<grid_stride_blocks(N * M), kGridStrideThreads, 0, st>>>(static_cast<T*>(y),
                                                                                static_cast<const T*>(b), N, M, ld.y);
    FRL_CUDA_CHECK_LAUNCH();
  });
}

void linear_backward(const frl_ctx* ctx, frl_dtype dtype, const void* x, const void* W, const void* dy, void* dx,
                     void* dW, void* db, int64_t N, int64_t K, int64_t M, bool dx_accumulate, bool dparam_accumulate,
                     const LinearStrides& ld) {
  if (dx) gemm(ctx, dtype, N, K, M, GemmOperand{dy, ld.y, false}, GemmOperand{W, ld.W, false}, dx, ld.dx, dx_accumulate);
  if (dW)
    gemm(ctx, dtype, M, K, N, GemmOperand{dy, ld.y, true}, GemmOperand{x, ld.x, false}, dW, ld.dW, dparam_accumulate);
  if (db) {
    cudaStream_t st = cuda_stream(ctx);
    dispatch_float_storage(dtype, [&](auto zero) {
      using T = decltype(zero);
      column_sum(st, RowTerm<T>{static_cast<const T*>(dy), ld.y}, static_cast<T*>(db), N, M, dparam_accumulate);
    });
  }
}

}  // namespace cuda
}  // namespace frl

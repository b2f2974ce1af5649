// CUDA kernels of RMSNorm (factrl/rmsnorm.h), the CPU reference's formulas (cpu/rmsnorm_cpu.cpp)
// with storage float or bf16 (template parameter T), math and rstd in fp32, one rounding per
// stored element.
//  - forward and dx: one warp per row, lanes striding over the row, warp-shuffle sums (a fixed
//    order: the same bits every run); the row is re-read from L1/L2 per pass.
//  - dw: the fixed-order column reduction of column_sum.cuh.
#include <cstdint>

#include "column_sum.cuh"
#include "cuda_common.cuh"
#include "rmsnorm.cuh"

namespace frl {
namespace {

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / 32;  // one warp per row

// rstd_n = 1/sqrt(Σ_j x²/d + eps); y = x·rstd_n·w. The warp reads its whole row before writing
// it: y may alias x.
template <typename T>
__global__ void rmsnorm_forward_kernel(const T* x, const T* w, float eps, T* y, float* rstd, int64_t N, int64_t d) {
  const int64_t n = blockIdx.x * static_cast<int64_t>(kRowsPerBlock) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (n >= N) return;
  const T* xn = x + n * d;
  T* yn = y + n * d;
  float ss = 0.0f;
  for (int64_t j = lane; j < d; j += 32) {
    const float v = to_f32(xn[j]);
    ss += v * v;
  }
  // d == 0: an empty row, mean taken as 0 (as the CPU).
  const float r = rsqrtf((d > 0 ? warp_sum(ss) / static_cast<float>(d) : 0.0f) + eps);
  for (int64_t j = lane; j < d; j += 32) yn[j] = from_f32<T>(to_f32(xn[j]) * r * to_f32(w[j]));
  if (lane == 0 && rstd) rstd[n] = r;
}

// mean = Σ_j (g∘w)[j]·x[j]·r / d; dx (+)= r·(g∘w − x·r·mean).
template <typename T>
__global__ void rmsnorm_dx_kernel(const T* x, const T* w, const float* rstd, const T* dy, T* dx, int64_t N, int64_t d,
                                  bool accumulate) {
  const int64_t n = blockIdx.x * static_cast<int64_t>(kRowsPerBlock) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (n >= N) return;
  const T* xn = x + n * d;
  const T* gn = dy + n * d;
  T* dxn = dx + n * d;
  const float r = rstd[n];
  float dot = 0.0f;
  for (int64_t j = lane; j < d; j += 32) dot += to_f32(gn[j]) * to_f32(w[j]) * to_f32(xn[j]) * r;
  const float mean = d > 0 ? warp_sum(dot) / static_cast<float>(d) : 0.0f;
  for (int64_t j = lane; j < d; j += 32) {
    const float v = r * (to_f32(gn[j]) * to_f32(w[j]) - to_f32(xn[j]) * r * mean);
    dxn[j] = from_f32<T>(accumulate ? to_f32(dxn[j]) + v : v);
  }
}

// dw[j]'s term for row n: g[n,j]·x[n,j]·rstd_n.
template <typename T>
struct DwTerm {
  const T* x;
  const T* dy;
  const float* rstd;
  int64_t d;
  __device__ float operator()(int64_t n, int64_t j) const { return to_f32(dy[n * d + j]) * to_f32(x[n * d + j]) * rstd[n]; }
};

int row_blocks(int64_t N) { return ceil_div(N, kRowsPerBlock); }

}  // namespace

namespace cuda {

void rmsnorm_forward(const frl_ctx* ctx, frl_dtype dtype, const void* x, const void* w, float eps, void* y,
                     float* rstd, int64_t N, int64_t d) {
  if (N == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  dispatch_float_storage(dtype, [&](auto zero) {
    using T = decltype(zero);
    rmsnorm_forward_kernel<T><<<row_blocks(N), kThreads, 0, st>>>(static_cast<const T*>(x), static_cast<const T*>(w),
                                                                  eps, static_cast<T*>(y), rstd, N, d);
    FRL_CUDA_CHECK_LAUNCH();
  });
}

void rmsnorm_backward(const frl_ctx* ctx, frl_dtype dtype, const void* x, const void* w, const float* rstd,
                      const void* dy, void* dx, void* dw, int64_t N, int64_t d, bool dx_accumulate,
                      bool dw_accumulate) {
  if (d == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  dispatch_float_storage(dtype, [&](auto zero) {
    using T = decltype(zero);
    if (dx && N > 0) {
      rmsnorm_dx_kernel<T><<<row_blocks(N), kThreads, 0, st>>>(static_cast<const T*>(x), static_cast<const T*>(w),
                                                               rstd, static_cast<const T*>(dy), static_cast<T*>(dx),
                                                               N, d, dx_accumulate);
      FRL_CUDA_CHECK_LAUNCH();
    }
    // N == 0 still writes dw (zeros, or unchanged when accumulating), as the CPU does.
    if (dw)
      column_sum(st, DwTerm<T>{static_cast<const T*>(x), static_cast<const T*>(dy), rstd, d}, static_cast<T*>(dw), N,
                 d, dw_accumulate);
  });
}

}  // namespace cuda
}  // namespace frl

// CUDA kernels of LayerNorm (factrl/layernorm.h). Storage float or bf16 (template parameter T),
// math and statistics in fp32, one rounding per stored element.
//  - forward and dx: one warp per row (rows of a ViT are a few hundred to a few thousand wide),
//    lanes striding over the row, warp-shuffle sums; the row is re-read from L1/L2 per pass.
//  - dw, db: a block per 32 columns, 32 row groups per block combined in a fixed order: deterministic
//    and coalesced. It uses d/32 blocks (24 for d = 768): fine for a ViT, a split over rows across
//    blocks (a scratch buffer and a second pass) is the known next step for larger N.
#include <cstdint>

#include "cuda_common.cuh"
#include "layernorm.cuh"

namespace frl {
namespace {

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / 32;  // one warp per row

// mean_n = Σ_j x/d; rstd_n = 1/sqrt(Σ_j (x − mean_n)²/d + eps); y = (x − mean_n)·rstd_n·w + b.
// The warp reads its whole row twice before writing it: y may alias x.
template <typename T>
__global__ void layernorm_forward_kernel(const T* x, const T* w, const T* b, float eps, T* y, float* mean,
                                         float* rstd, int64_t N, int64_t d) {
  const int64_t n = blockIdx.x * static_cast<int64_t>(kRowsPerBlock) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (n >= N) return;
  const T* xn = x + n * d;
  T* yn = y + n * d;
  float s = 0.0f;
  for (int64_t j = lane; j < d; j += 32) s += to_f32(xn[j]);
  const float m = d > 0 ? warp_sum(s) / static_cast<float>(d) : 0.0f;
  float ss = 0.0f;
  for (int64_t j = lane; j < d; j += 32) {
    const float c = to_f32(xn[j]) - m;
    ss += c * c;
  }
  const float r = rsqrtf((d > 0 ? warp_sum(ss) / static_cast<float>(d) : 0.0f) + eps);
  for (int64_t j = lane; j < d; j += 32) yn[j] = from_f32<T>((to_f32(xn[j]) - m) * r * to_f32(w[j]) + to_f32(b[j]));
  if (lane == 0) {
    if (mean) mean[n] = m;
    if (rstd) rstd[n] = r;
  }
}

// gw = dy∘w, xhat = (x − mean)·rstd: dx (+)= rstd·(gw − mean_j gw − xhat·mean_j(gw∘xhat)).
template <typename T>
__global__ void layernorm_dx_kernel(const T* x, const T* w, const float* mean, const float* rstd, const T* dy, T* dx,
                                    int64_t N, int64_t d, bool accumulate) {
  const int64_t n = blockIdx.x * static_cast<int64_t>(kRowsPerBlock) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (n >= N) return;
  const T* xn = x + n * d;
  const T* gn = dy + n * d;
  T* dxn = dx + n * d;
  const float m = mean[n], r = rstd[n];
  float sum_gw = 0.0f, sum_gwx = 0.0f;
  for (int64_t j = lane; j < d; j += 32) {
    const float gw = to_f32(gn[j]) * to_f32(w[j]);
    sum_gw += gw;
    sum_gwx += gw * (to_f32(xn[j]) - m) * r;
  }
  const float mean_gw = d > 0 ? warp_sum(sum_gw) / static_cast<float>(d) : 0.0f;
  const float mean_gwx = d > 0 ? warp_sum(sum_gwx) / static_cast<float>(d) : 0.0f;
  for (int64_t j = lane; j < d; j += 32) {
    const float xhat = (to_f32(xn[j]) - m) * r;
    const float v = r * (to_f32(gn[j]) * to_f32(w[j]) - mean_gw - xhat * mean_gwx);
    dxn[j] = from_f32<T>(accumulate ? to_f32(dxn[j]) + v : v);
  }
}

// dw[j] (+)= Σ_n dy[n,j]·xhat[n,j], db[j] (+)= Σ_n dy[n,j]. A block owns kParamCols columns and
// has kParamRowGroups warps-worth of rows: thread (c, r) sums rows r, r + kParamRowGroups, ... of
// column c (reads coalesced along c), then row group 0 adds the kParamRowGroups partials in
// ascending r. The split depends only on these constants: the same bits on every run.
constexpr int kParamCols = 32;
constexpr int kParamRowGroups = 32;

template <typename T>
__global__ void __launch_bounds__(kParamCols* kParamRowGroups) layernorm_dparam_kernel(const T* x, const float* mean, const float* rstd, const T* dy, T* dw, T* db,
                                        int64_t N, int64_t d, bool accumulate) {
  __shared__ float part_w[kParamRowGroups][kParamCols + 1];  // +1: no bank conflicts on the column read
  __shared__ float part_b[kParamRowGroups][kParamCols + 1];
  const int c = threadIdx.x, r = threadIdx.y;
  const int64_t j = blockIdx.x * static_cast<int64_t>(kParamCols) + c;
  float sw = 0.0f, sb = 0.0f;
  if (j < d) {
    for (int64_t n = r; n < N; n += kParamRowGroups) {
      const float g = to_f32(dy[n * d + j]);
      sw += g * ((to_f32(x[n * d + j]) - mean[n]) * rstd[n]);
      sb += g;
    }
  }
  part_w[r][c] = sw;
  part_b[r][c] = sb;
  __syncthreads();
  if (r != 0 || j >= d) return;
  float tw = 0.0f, tb = 0.0f;
  for (int k = 0; k < kParamRowGroups; k++) {
    tw += part_w[k][c];
    tb += part_b[k][c];
  }
  if (dw) dw[j] = from_f32<T>(accumulate ? to_f32(dw[j]) + tw : tw);
  if (db) db[j] = from_f32<T>(accumulate ? to_f32(db[j]) + tb : tb);
}

int row_blocks(int64_t N) { return ceil_div(N, kRowsPerBlock); }

template <typename T>
void forward_as(cudaStream_t st, const void* x, const void* w, const void* b, float eps, void* y, float* mean,
                float* rstd, int64_t N, int64_t d) {
  layernorm_forward_kernel<T><<<row_blocks(N), kThreads, 0, st>>>(static_cast<const T*>(x), static_cast<const T*>(w),
                                                                   static_cast<const T*>(b), eps, static_cast<T*>(y),
                                                                   mean, rstd, N, d);
  FRL_CUDA_CHECK_LAUNCH();
}

template <typename T>
void backward_as(cudaStream_t st, const void* x, const void* w, const float* mean, const float* rstd, const void* dy,
                 void* dx, void* dw, void* db, int64_t N, int64_t d, bool dx_accumulate, bool dparam_accumulate) {
  if (dx) {
    layernorm_dx_kernel<T><<<row_blocks(N), kThreads, 0, st>>>(static_cast<const T*>(x), static_cast<const T*>(w),
                                                               mean, rstd, static_cast<const T*>(dy),
                                                               static_cast<T*>(dx), N, d, dx_accumulate);
    FRL_CUDA_CHECK_LAUNCH();
  }
  if (dw || db) {
    const dim3 block(kParamCols, kParamRowGroups);
    layernorm_dparam_kernel<T><<<ceil_div(d, kParamCols), block, 0, st>>>(
        static_cast<const T*>(x), mean, rstd, static_cast<const T*>(dy), static_cast<T*>(dw), static_cast<T*>(db), N, d,
        dparam_accumulate);
    FRL_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace

namespace cuda {

void layernorm_forward(const frl_ctx* ctx, frl_dtype dtype, const void* x, const void* w, const void* b, float eps,
                       void* y, float* mean, float* rstd, int64_t N, int64_t d) {
  if (N == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  if (dtype == FRL_BF16)
    forward_as<__nv_bfloat16>(st, x, w, b, eps, y, mean, rstd, N, d);
  else
    forward_as<float>(st, x, w, b, eps, y, mean, rstd, N, d);
}

void layernorm_backward(const frl_ctx* ctx, frl_dtype dtype, const void* x, const void* w, const float* mean,
                        const float* rstd, const void* dy, void* dx, void* dw, void* db, int64_t N, int64_t d,
                        bool dx_accumulate, bool dparam_accumulate) {
  // N == 0 still writes dw, db (zeros, or unchanged when accumulating), as the CPU does.
  if (d == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  if (dtype == FRL_BF16)
    backward_as<__nv_bfloat16>(st, x, w, mean, rstd, dy, N == 0 ? nullptr : dx, dw, db, N, d, dx_accumulate,
                               dparam_accumulate);
  else
    backward_as<float>(st, x, w, mean, rstd, dy, N == 0 ? nullptr : dx, dw, db, N, d, dx_accumulate,
                       dparam_accumulate);
}

}  // namespace cuda
}  // namespace frl

// CUDA kernels of the reward-head pooling and the per-token value head (factrl/pooling.h).
// h / dh are stored as float or bf16 (template parameter T / TG); all arithmetic is fp32.
// Every reduction has a fixed order and a shape-only launch configuration, so the gradients are
// bitwise reproducible run to run (no atomics).
//
//   reward head   score_b = w · h[b, e_b, :] + c           (0 for an empty row, e_b == -1)
//                 dh[b, e_b, :] (+)= g_b w,  dw (+)= Σ_b g_b h[b, e_b, :],  dc (+)= Σ_b g_b
//                 (dh adds when dh_accumulate; dw and dc when param_accumulate)
//   value head    v_n = w · h[n, :] + c  (n = b·S + t; 0 where masked)
//                 dh[n, :] (+)= g_n w,  dw (+)= Σ_n g_n h[n, :],  dc (+)= Σ_n g_n   (valid n only)
#include <algorithm>
#include <cstdint>

#include "cuda_common.cuh"
#include "pooling.cuh"

namespace frl {
namespace {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 8;              // row kernels: one warp per row, 8 rows per block
constexpr int kRowThreads = kWarp * kWarpsPerBlock;
constexpr int kSumThreads = 1024;              // single-block deterministic sum (dbias)

// ---- 16-byte vectors of the storage type, widened to fp32 --------------------------------------
template <typename T>
struct Vec16;

template <>
struct Vec16<float> {
  static constexpr int N = 4;
  __device__ __forceinline__ static void load(const float* p, float (&out)[4]) {
    const float4 v = __ldg(reinterpret_cast<const float4*>(p));
    out[0] = v.x; out[1] = v.y; out[2] = v.z; out[3] = v.w;
  }
  __device__ __forceinline__ static void store(float* p, const float (&in)[4]) {
    *reinterpret_cast<float4*>(p) = make_float4(in[0], in[1], in[2], in[3]);
  }
  // Plain (coherent) load, for outputs read-modify-written by the same kernel.
  __device__ __forceinline__ static void load_rw(const float* p, float (&out)[4]) {
    const float4 v = *reinterpret_cast<const float4*>(p);
    out[0] = v.x; out[1] = v.y; out[2] = v.z; out[3] = v.w;
  }
};

template <>
struct Vec16<__nv_bfloat16> {
  static constexpr int N = 8;
  __device__ __forceinline__ static void unpack(const uint4& raw, float (&out)[8]) {
    const __nv_bfloat162* pairs = reinterpret_cast<const __nv_bfloat162*>(&raw);
#pragma unroll
    for (int i = 0; i < 4; i++) {
      const float2 f = __bfloat1622float2(pairs[i]);
      out[2 * i] = f.x;
      out[2 * i + 1] = f.y;
    }
  }
  __device__ __forceinline__ static void load(const __nv_bfloat16* p, float (&out)[8]) {
    unpack(__ldg(reinterpret_cast<const uint4*>(p)), out);
  }
  __device__ __forceinline__ static void load_rw(const __nv_bfloat16* p, float (&out)[8]) {
    unpack(*reinterpret_cast<const uint4*>(p), out);
  }
  __device__ __forceinline__ static void store(__nv_bfloat16* p, const float (&in)[8]) {
    uint4 raw;
    __nv_bfloat162* pairs = reinterpret_cast<__nv_bfloat162*>(&raw);
#pragma unroll
    for (int i = 0; i < 4; i++) pairs[i] = __floats2bfloat162_rn(in[2 * i], in[2 * i + 1]);
    *reinterpret_cast<uint4*>(p) = raw;
  }
};

// N consecutive floats of w (N a multiple of 4; p 16-byte aligned).
template <int N>
__device__ __forceinline__ void load_w(const float* p, float (&out)[N]) {
#pragma unroll
  for (int i = 0; i < N / 4; i++) {
    const float4 v = __ldg(reinterpret_cast<const float4*>(p) + i);
    out[4 * i] = v.x; out[4 * i + 1] = v.y; out[4 * i + 2] = v.z; out[4 * i + 3] = v.w;
  }
}

__device__ __forceinline__ bool aligned16(const void* p) {
  return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

// Sum over the 32 lanes in a fixed butterfly order; every lane gets the total.
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// w · row over d elements, computed by one warp: 16-byte vector loads when the row (and w) are
// aligned — always so when d is a multiple of 16/sizeof(T) — then a scalar tail; scalar loads
// (still coalesced) otherwise. Returns the dot product in every lane.
template <typename T>
__device__ __forceinline__ float warp_dot(const T* row, const float* w, int64_t d, int lane) {
  constexpr int N = Vec16<T>::N;
  float acc = 0.0f;
  int64_t tail = 0;
  if (aligned16(row) && aligned16(w)) {
    const int64_t nvec = d / N;
#pragma unroll 4
    for (int64_t v = lane; v < nvec; v += kWarp) {
      float x[N], wv[N];
      Vec16<T>::load(row + v * N, x);
      load_w<N>(w + v * N, wv);
#pragma unroll
      for (int k = 0; k < N; k++) acc = fmaf(x[k], wv[k], acc);
    }
    tail = nvec * N;
  }
  for (int64_t j = tail + lane; j < d; j += kWarp) acc = fmaf(to_f32(row[j]), __ldg(w + j), acc);
  return warp_sum(acc);
}

// row (+)= g · w over d elements by one warp (vector stores when aligned, scalar tail).
// accumulate: row[j] = row[j] + g w_j (read in fp32, rounded once to TG); else row[j] = g w_j.
template <typename TG>
__device__ __forceinline__ void warp_axpy(TG* row, float g, const float* w, int64_t d, int lane,
                                          bool accumulate) {
  constexpr int N = Vec16<TG>::N;
  int64_t tail = 0;
  if (aligned16(row) && aligned16(w)) {
    const int64_t nvec = d / N;
#pragma unroll 4
    for (int64_t v = lane; v < nvec; v += kWarp) {
      float wv[N], out[N];
      load_w<N>(w + v * N, wv);
      if (accumulate) {
        Vec16<TG>::load_rw(row + v * N, out);
#pragma unroll
        for (int k = 0; k < N; k++) out[k] = fmaf(g, wv[k], out[k]);
      } else {
#pragma unroll
        for (int k = 0; k < N; k++) out[k] = g * wv[k];
      }
      Vec16<TG>::store(row + v * N, out);
    }
    tail = nvec * N;
  }
  for (int64_t j = tail + lane; j < d; j += kWarp) {
    const float gw = g * __ldg(w + j);
    row[j] = from_f32<TG>(accumulate ? to_f32(row[j]) + gw : gw);
  }
}

// ---- reward head -------------------------------------------------------------------------------
// score_b = Σ_j w_j h[b, e_b, j] + c   (e_b >= 0);   score_b = 0   (e_b == -1)
// One warp per row b; e_b outside [0, S) (rejected by the C API) also gives 0, never a wild read.
template <typename T>
__global__ void reward_head_forward_kernel(const T* __restrict__ h, const int32_t* __restrict__ end_index,
                                           const float* __restrict__ w, const float* __restrict__ bias,
                                           float* __restrict__ scores, int64_t B, int64_t S, int64_t d) {
  const int64_t b = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (b >= B) return;  // warp-uniform
  const int64_t e = end_index[b];
  if (e < 0 || e >= S) {
    if (lane == 0) scores[b] = 0.0f;
    return;
  }
  const float s = warp_dot(h + (b * S + e) * d, w, d, lane);
  if (lane == 0) scores[b] = s + bias[0];
}

// dh[b, e_b, j] (+)= g_b w_j  for rows with e_b >= 0. Grid (ceil(d / 256), min(B, 65535)), one
// thread per column; dh was zero-filled beforehand when not accumulating.
template <typename TG>
__global__ void reward_head_scatter_kernel(const int32_t* __restrict__ end_index, const float* __restrict__ w,
                                           const float* __restrict__ dscores, TG* __restrict__ dh, int64_t B,
                                           int64_t S, int64_t d, bool accumulate) {
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= d) return;
  for (int64_t b = blockIdx.y; b < B; b += gridDim.y) {
    const int64_t e = end_index[b];
    if (e < 0 || e >= S) continue;
    const int64_t idx = (b * S + e) * d + j;
    const float gw = dscores[b] * __ldg(w + j);
    dh[idx] = from_f32<TG>(accumulate ? to_f32(dh[idx]) + gw : gw);
  }
}

// dw_j (+)= Σ_{b = 0..B-1, e_b >= 0} g_b h[b, e_b, j]: one thread per column, rows in ascending
// order (deterministic); one block per chunk of 128 columns. Reads are coalesced along j.
template <typename T>
__global__ void reward_head_dw_kernel(const T* __restrict__ h, const int32_t* __restrict__ end_index,
                                      const float* __restrict__ dscores, float* __restrict__ dw, int64_t B,
                                      int64_t S, int64_t d, bool accumulate) {
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= d) return;
  float acc = 0.0f;
#pragma unroll 8
  for (int64_t b = 0; b < B; b++) {
    const int64_t e = end_index[b];
    if (e < 0 || e >= S) continue;
    acc = fmaf(dscores[b], to_f32(h[(b * S + e) * d + j]), acc);
  }
  dw[j] = (accumulate ? dw[j] : 0.0f) + acc;
}

// out[0] (+)= Σ_i g_i over valid i (valid: end_index[i] >= 0 when end_index is given, mask[i] != 0
// when mask is given). One block of kSumThreads: strided per-thread sums, then a fixed tree.
__global__ void grad_sum_kernel(const float* __restrict__ g, const int32_t* __restrict__ end_index,
                                const int32_t* __restrict__ mask, int64_t n, float* __restrict__ out,
                                bool accumulate) {
  __shared__ float partial[kSumThreads / kWarp];
  float acc = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const bool valid = (end_index == nullptr || end_index[i] >= 0) && (mask == nullptr || mask[i] != 0);
    if (valid) acc += g[i];
  }
  acc = warp_sum(acc);
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  if (lane == 0) partial[warp] = acc;
  __syncthreads();
  if (warp == 0) {
    float v = lane < static_cast<int>(blockDim.x / kWarp) ? partial[lane] : 0.0f;
    v = warp_sum(v);
    if (lane == 0) out[0] = (accumulate ? out[0] : 0.0f) + v;
  }
}

// Flags the smallest b with end_index[b] outside [-1, S) in the context's device error record
// (reported at the next sync point); the kernels above treat such a row as empty.
__global__ void check_end_index_kernel(const int32_t* __restrict__ end_index, int64_t B, int64_t S,
                                       DeviceErrorRecord* errors, DeviceOp op) {
  for (int64_t b = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; b < B;
       b += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int32_t e = end_index[b];
    if (e < -1 || e >= S) report_device_error(errors, op, b, e, S);
  }
}

// ---- value head --------------------------------------------------------------------------------
// v_n = Σ_j w_j h[n, j] + c where mask_n != 0 (or no mask), else 0. A GEMV over N = B·S rows:
// one warp per row, 16-byte loads of h; w stays in L1/L2.
template <typename T>
__global__ void value_head_forward_kernel(const T* __restrict__ h, const int32_t* __restrict__ mask,
                                          const float* __restrict__ w, const float* __restrict__ bias,
                                          float* __restrict__ values, int64_t N, int64_t d) {
  const int64_t n = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (n >= N) return;
  if (mask != nullptr && mask[n] == 0) {
    if (lane == 0) values[n] = 0.0f;
    return;
  }
  const float s = warp_dot(h + n * d, w, d, lane);
  if (lane == 0) values[n] = s + bias[0];
}

// dh[n, :] (+)= g_n w for valid n; masked rows are zeroed (overwrite) or left alone (accumulate).
template <typename TG>
__global__ void value_head_dh_kernel(const int32_t* __restrict__ mask, const float* __restrict__ w,
                                     const float* __restrict__ dvalues, TG* __restrict__ dh, int64_t N,
                                     int64_t d, bool accumulate) {
  const int64_t n = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (n >= N) return;
  const bool valid = mask == nullptr || mask[n] != 0;
  TG* row = dh + n * d;
  if (valid) {
    warp_axpy(row, dvalues[n], w, d, lane, accumulate);
  } else if (!accumulate) {
    for (int64_t j = lane; j < d; j += kWarp) row[j] = from_f32<TG>(0.0f);
  }
}

// Stage 1 of dw = Σ_n g_n h[n, :] (a column reduction over N rows, deterministic two-stage).
// Block (tile, chunk): columns [tile·32·V, (tile+1)·32·V) — each lane owns V consecutive columns
// (one 16-byte load per row when V > 1) — and rows [chunk·R, (chunk+1)·R). Warp k of the block
// takes rows r0 + k, r0 + k + 8, ... in ascending order; the 8 warps' sums are then added in warp
// order and written to partial[chunk, column].
template <typename T, int V>
__global__ void value_head_dw_partial_kernel(const T* __restrict__ h, const int32_t* __restrict__ mask,
                                             const float* __restrict__ dvalues, float* __restrict__ partial,
                                             int64_t N, int64_t d, int64_t rows_per_chunk) {
  __shared__ float sums[kWarpsPerBlock][kWarp * V];
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int64_t tile0 = static_cast<int64_t>(blockIdx.x) * kWarp * V;
  const int64_t col = tile0 + static_cast<int64_t>(lane) * V;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * rows_per_chunk;
  const int64_t r1 = r0 + rows_per_chunk < N ? r0 + rows_per_chunk : N;
  float acc[V];
#pragma unroll
  for (int k = 0; k < V; k++) acc[k] = 0.0f;
  if (col < d) {
#pragma unroll 4
    for (int64_t n = r0 + warp; n < r1; n += kWarpsPerBlock) {
      if (mask != nullptr && mask[n] == 0) continue;  // warp-uniform
      const float g = dvalues[n];
      const T* p = h + n * d + col;
      if constexpr (V == 1) {
        acc[0] = fmaf(g, to_f32(*p), acc[0]);
      } else {
        float x[V];
        Vec16<T>::load(p, x);
#pragma unroll
        for (int k = 0; k < V; k++) acc[k] = fmaf(g, x[k], acc[k]);
      }
    }
  }
#pragma unroll
  for (int k = 0; k < V; k++) sums[warp][lane * V + k] = acc[k];
  __syncthreads();
  for (int c = threadIdx.x; c < kWarp * V; c += blockDim.x) {
    const int64_t j = tile0 + c;
    if (j >= d) continue;
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < kWarpsPerBlock; k++) s += sums[k][c];
    partial[static_cast<int64_t>(blockIdx.y) * d + j] = s;
  }
}

// Stage 2: dw_j (+)= Σ_{c = 0..chunks-1} partial[c, j], chunks in ascending order.
__global__ void column_finish_kernel(const float* __restrict__ partial, float* __restrict__ dw, int64_t chunks,
                                     int64_t d, bool accumulate) {
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= d) return;
  float s = 0.0f;
  for (int64_t c = 0; c < chunks; c++) s += partial[c * d + j];
  dw[j] = (accumulate ? dw[j] : 0.0f) + s;
}

// ---- host side -----------------------------------------------------------------------------------
int row_blocks(int64_t rows) { return ceil_div(rows, kWarpsPerBlock); }

template <typename T>
void launch_reward_forward(cudaStream_t st, const void* h, const int32_t* e, const float* w, const float* c,
                           float* scores, int64_t B, int64_t S, int64_t d) {
  reward_head_forward_kernel<T><<<row_blocks(B), kRowThreads, 0, st>>>(static_cast<const T*>(h), e, w, c,
                                                                      scores, B, S, d);
  FRL_CUDA_CHECK_LAUNCH();
}

template <typename TG>
void launch_reward_scatter(cudaStream_t st, const int32_t* e, const float* w, const float* g, void* dh,
                           int64_t B, int64_t S, int64_t d, bool accumulate) {
  if (!accumulate) FRL_CUDA_CHECK(cudaMemsetAsync(dh, 0, static_cast<size_t>(B * S * d) * sizeof(TG), st));
  if (d == 0) return;
  dim3 grid(ceil_div(d, 256), static_cast<unsigned>(std::min<int64_t>(B, 65535)));
  reward_head_scatter_kernel<TG><<<grid, 256, 0, st>>>(e, w, g, static_cast<TG*>(dh), B, S, d, accumulate);
  FRL_CUDA_CHECK_LAUNCH();
}

template <typename T>
void launch_reward_dw(cudaStream_t st, const void* h, const int32_t* e, const float* g, float* dw, int64_t B,
                      int64_t S, int64_t d, bool accumulate) {
  reward_head_dw_kernel<T><<<ceil_div(d, 128), 128, 0, st>>>(static_cast<const T*>(h), e, g, dw, B, S, d,
                                                            accumulate);
  FRL_CUDA_CHECK_LAUNCH();
}

template <typename T>
void launch_value_forward(cudaStream_t st, const void* h, const int32_t* mask, const float* w, const float* c,
                          float* values, int64_t N, int64_t d) {
  value_head_forward_kernel<T><<<row_blocks(N), kRowThreads, 0, st>>>(static_cast<const T*>(h), mask, w, c,
                                                                     values, N, d);
  FRL_CUDA_CHECK_LAUNCH();
}

template <typename TG>
void launch_value_dh(cudaStream_t st, const int32_t* mask, const float* w, const float* g, void* dh, int64_t N,
                     int64_t d, bool accumulate) {
  value_head_dh_kernel<TG><<<row_blocks(N), kRowThreads, 0, st>>>(mask, w, g, static_cast<TG*>(dh), N, d,
                                                                  accumulate);
  FRL_CUDA_CHECK_LAUNCH();
}

// Chooses the chunking from the shape only (never from the device), so results are the same bits
// on every GPU: about 1024 blocks in all, at least 32 rows per chunk.
template <typename T, int V>
void launch_value_dw_v(const frl_ctx* ctx, cudaStream_t st, const void* h, const int32_t* mask, const float* g, float* dw, int64_t N,
                       int64_t d, bool accumulate) {
  const int64_t tiles = (d + kWarp * V - 1) / (kWarp * V);
  int64_t chunks = std::max<int64_t>(1, 1024 / tiles);
  chunks = std::min<int64_t>(chunks, std::max<int64_t>(1, (N + 31) / 32));
  const int64_t rows_per_chunk = (N + chunks - 1) / chunks;
  chunks = (N + rows_per_chunk - 1) / rows_per_chunk;
  Scratch scratch(ctx, static_cast<size_t>(chunks * d) * sizeof(float));
  float* partial = scratch.as<float>();
  dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(chunks));
  value_head_dw_partial_kernel<T, V><<<grid, kRowThreads, 0, st>>>(static_cast<const T*>(h), mask, g, partial,
                                                                    N, d, rows_per_chunk);
  FRL_CUDA_CHECK_LAUNCH();
  column_finish_kernel<<<ceil_div(d, 256), 256, 0, st>>>(partial, dw, chunks, d, accumulate);
  FRL_CUDA_CHECK_LAUNCH();
}

template <typename T>
void launch_value_dw(const frl_ctx* ctx, cudaStream_t st, const void* h, const int32_t* mask, const float* g, float* dw, int64_t N,
                     int64_t d, bool accumulate) {
  constexpr int V = Vec16<T>::N;
  // Vector path when every row starts on a 16-byte boundary (cudaMalloc'd base, d % V == 0).
  if (d % V == 0 && (reinterpret_cast<uintptr_t>(h) & 15u) == 0) {
    launch_value_dw_v<T, V>(ctx, st, h, mask, g, dw, N, d, accumulate);
  } else {
    launch_value_dw_v<T, 1>(ctx, st, h, mask, g, dw, N, d, accumulate);
  }
}

void launch_grad_sum(cudaStream_t st, const float* g, const int32_t* end_index, const int32_t* mask, int64_t n,
                     float* out, bool accumulate) {
  grad_sum_kernel<<<1, kSumThreads, 0, st>>>(g, end_index, mask, n, out, accumulate);
  FRL_CUDA_CHECK_LAUNCH();
}

bool is_bf16(frl_dtype t) { return t == FRL_BF16; }

void launch_check_end_index(const frl_ctx* ctx, const int32_t* end_index, int64_t B, int64_t S, DeviceOp op) {
  if (B == 0) return;
  const int blocks = static_cast<int>(std::min<int64_t>(ceil_div(B, 256), 1024));
  check_end_index_kernel<<<blocks, 256, 0, cuda_stream(ctx)>>>(end_index, B, S, cuda_error_record(ctx), op);
  FRL_CUDA_CHECK_LAUNCH();
}

}  // namespace

namespace cuda {

void reward_head_forward(const frl_ctx* ctx, frl_dtype h_dtype, const void* h, const int32_t* end_index,
                         const float* w, const float* bias, float* scores, int64_t B, int64_t S, int64_t d) {
  if (B == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  launch_check_end_index(ctx, end_index, B, S, kOpRewardHeadForward);
  if (is_bf16(h_dtype)) {
    launch_reward_forward<__nv_bfloat16>(st, h, end_index, w, bias, scores, B, S, d);
  } else {
    launch_reward_forward<float>(st, h, end_index, w, bias, scores, B, S, d);
  }
}

void reward_head_backward(const frl_ctx* ctx, frl_dtype h_dtype, const void* h, const int32_t* end_index,
                          const float* w, const float* dscores, frl_dtype dh_dtype, void* dh, float* dw,
                          float* dbias, int64_t B, int64_t S, int64_t d, bool dh_accumulate,
                          bool param_accumulate) {
  cudaStream_t st = cuda_stream(ctx);
  launch_check_end_index(ctx, end_index, B, S, kOpRewardHeadBackward);
  if (dh != nullptr && B * S * d > 0) {
    if (is_bf16(dh_dtype)) {
      launch_reward_scatter<__nv_bfloat16>(st, end_index, w, dscores, dh, B, S, d, dh_accumulate);
    } else {
      launch_reward_scatter<float>(st, end_index, w, dscores, dh, B, S, d, dh_accumulate);
    }
  }
  if (dw != nullptr && d > 0) {
    if (is_bf16(h_dtype)) {
      launch_reward_dw<__nv_bfloat16>(st, h, end_index, dscores, dw, B, S, d, param_accumulate);
    } else {
      launch_reward_dw<float>(st, h, end_index, dscores, dw, B, S, d, param_accumulate);
    }
  }
  if (dbias != nullptr) launch_grad_sum(st, dscores, end_index, nullptr, B, dbias, param_accumulate);
}

void value_head_forward(const frl_ctx* ctx, frl_dtype h_dtype, const void* h, const int32_t* mask,
                        const float* w, const float* bias, float* values, int64_t N, int64_t d) {
  if (N == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  if (is_bf16(h_dtype)) {
    launch_value_forward<__nv_bfloat16>(st, h, mask, w, bias, values, N, d);
  } else {
    launch_value_forward<float>(st, h, mask, w, bias, values, N, d);
  }
}

void value_head_backward(const frl_ctx* ctx, frl_dtype h_dtype, const void* h, const int32_t* mask,
                         const float* w, const float* dvalues, frl_dtype dh_dtype, void* dh, float* dw,
                         float* dbias, int64_t N, int64_t d, bool dh_accumulate,
                         bool param_accumulate) {
  cudaStream_t st = cuda_stream(ctx);
  if (dh != nullptr && N > 0 && d > 0) {
    if (is_bf16(dh_dtype)) {
      launch_value_dh<__nv_bfloat16>(st, mask, w, dvalues, dh, N, d, dh_accumulate);
    } else {
      launch_value_dh<float>(st, mask, w, dvalues, dh, N, d, dh_accumulate);
    }
  }
  if (dw != nullptr && d > 0) {
    if (N == 0) {
      if (!param_accumulate) FRL_CUDA_CHECK(cudaMemsetAsync(dw, 0, static_cast<size_t>(d) * sizeof(float), st));
    } else if (is_bf16(h_dtype)) {
      launch_value_dw<__nv_bfloat16>(ctx, st, h, mask, dvalues, dw, N, d, param_accumulate);
    } else {
      launch_value_dw<float>(ctx, st, h, mask, dvalues, dw, N, d, param_accumulate);
    }
  }
  if (dbias != nullptr) launch_grad_sum(st, dvalues, nullptr, mask, N, dbias, param_accumulate);
}

}  // namespace cuda
}  // namespace frl

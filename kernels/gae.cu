// CUDA GAE (an associative reverse scan along time, one block per sequence) and deterministic
// masked whitening. Storage float or bf16; all arithmetic in fp32 (scan) and double (statistics).
#include <algorithm>
#include <climits>
#include <cstdint>

#include "cpu/gae_cpu.h"
#include "cuda_common.cuh"
#include "gae.cuh"

namespace frl {
namespace cuda {
namespace {

constexpr int kItems = 4;           // consecutive time steps per thread (the serial part of the scan)
constexpr int kMaxScanThreads = 512;  // one tile = threads * kItems steps; longer rows loop over tiles
constexpr int kStatThreads = 256;
constexpr int kMaxStatBlocks = 512;  // fixed upper bound: the partial-sum order depends only on n

// ---- GAE scan ----------------------------------------------------------------------------------
// The recurrence A_t = c * A_{t+1} + delta_t (c = gamma * lambda) is the affine map
// f_t(x) = c * x + delta_t applied to A_{t+1}, so A_t = (f_t ∘ f_{t+1} ∘ ... ∘ f_{T-1})(0).
// An affine map is a pair (a, b): x -> a * x + b, and composition is associative:
//   (a, b) ∘ (a', b') = (a * a', a * b' + b)        ((a, b) covers the EARLIER time steps)
// so the suffix compositions are a reverse (right-to-left) scan.
struct Affine {
  float a, b;
};

__device__ __forceinline__ Affine compose(Affine f, Affine g) { return {f.a * g.a, fmaf(f.a, g.b, f.b)}; }

__device__ __forceinline__ Affine shfl_down(Affine x, int offset) {
  return {__shfl_down_sync(0xffffffffu, x.a, offset), __shfl_down_sync(0xffffffffu, x.b, offset)};
}

// Inclusive suffix scan across a warp: lane l ends with x_l ∘ x_{l+1} ∘ ... ∘ x_31.
__device__ __forceinline__ Affine warp_suffix_scan(Affine x, int lane) {
#pragma unroll
  for (int offset = 1; offset < 32; offset <<= 1) {
    Affine y = shfl_down(x, offset);
    if (lane + offset < 32) x = compose(x, y);
  }
  return x;
}

// Shared-memory index with one pad word per 32: a thread's kItems = 4 consecutive words and a warp's
// 32 consecutive words both map to 32 distinct banks.
__device__ __forceinline__ int padded(int i) { return i + (i >> 5); }

// One block per sequence (row). The row is processed in tiles of blockDim.x * kItems steps from
// its end backwards; `carry` is A at the first step after the tile (0 after the row's end).
// Per tile:
//   1. coalesced loads: delta_t = m_t ? r_t + gamma * (m_{t+1} ? V_{t+1} : 0) - V_t : 0 into shared
//      memory; a mask value outside {0, 1} or a nonzero after a zero flags the row as bad;
//   2. each thread composes its kItems consecutive maps serially (right to left), a warp-shuffle
//      suffix scan combines the threads of a warp, warp 0 scans the warp totals; thread i then
//      knows E_i = composition of every later step in the tile, so A right after its chunk is
//      E_i(carry), and it walks its chunk backwards: A_t = c * A_{t+1} + delta_t;
//   3. coalesced stores: A_t and R_t = A_t + V_t at valid steps, 0 at padded steps.
// Padded steps have delta = 0, and since the valid steps form a prefix nothing valid follows them, so
// they never feed a valid A.
template <typename S>
__global__ void gae_scan_kernel(const S* __restrict__ rewards, const S* __restrict__ values,
                                const int32_t* __restrict__ mask, int T, float gamma, float c,
                                S* __restrict__ advantages, S* __restrict__ returns, DeviceErrorRecord* errors) {
  extern __shared__ float s_val[];  // [padded(tile)]: delta, then A
  __shared__ Affine s_warp[32];
  __shared__ float s_carry;

  const int nt = blockDim.x, tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, nwarps = nt >> 5;
  const int tile = nt * kItems;
  const int64_t row_offset = static_cast<int64_t>(blockIdx.x) * T;
  const S* r = rewards + row_offset;
  const S* v = values + row_offset;
  const int32_t* m = mask + row_offset;
  S* adv = advantages + row_offset;
  S* ret = returns + row_offset;

  float carry = 0.f;
  int bad_pos = INT_MAX;  // the first position that breaks the prefix mask, as the CPU reports it
  for (int end = T; end > 0; end -= tile) {
    const int start = max(end - tile, 0);
    const int n = end - start;

    // 1. delta into shared memory (coalesced), keep V_t and m_t for the returns.
    float v_keep[kItems];
    bool m_keep[kItems];
#pragma unroll
    for (int j = 0; j < kItems; j++) {
      const int i = j * nt + tid;
      float delta = 0.f;
      v_keep[j] = 0.f;
      m_keep[j] = false;
      if (i < n) {
        const int t = start + i;
        const int m0 = m[t];
        const int m1 = t + 1 < T ? m[t + 1] : 0;
        if (m0 != 0 && m0 != 1) bad_pos = min(bad_pos, t);
        else if (m0 == 0 && m1 != 0) bad_pos = min(bad_pos, t + 1);
        if (m0 != 0) {
          const float vt = to_f32(v[t]);
          const float v_next = m1 != 0 ? to_f32(v[t + 1]) : 0.f;
          delta = to_f32(r[t]) + gamma * v_next - vt;
          v_keep[j] = vt;
          m_keep[j] = true;
        }
      }
      s_val[padded(i)] = delta;
    }
    __syncthreads();

    // 2a. this thread's chunk [i0, i0 + kItems) composed right to left: f_i ∘ agg.
    const int i0 = tid * kItems;
    Affine agg = {1.f, 0.f};
#pragma unroll
    for (int k = kItems - 1; k >= 0; k--) {
      const int i = i0 + k;
      if (i < n) agg = {c * agg.a, fmaf(c, agg.b, s_val[padded(i)])};
    }
    // 2b. suffix scan over the warp, then over the warps (warp 0), exclusive for each thread.
    const Affine inclusive = warp_suffix_scan(agg, lane);
    Affine exclusive = shfl_down(inclusive, 1);
    if (lane == 31) exclusive = {1.f, 0.f};
    if (lane == 0) s_warp[warp] = inclusive;
    __syncthreads();
    if (warp == 0) {
      const Affine w = lane < nwarps ? s_warp[lane] : Affine{1.f, 0.f};
      const Affine w_inclusive = warp_suffix_scan(w, lane);
      Affine w_exclusive = shfl_down(w_inclusive, 1);
      if (lane == 31) w_exclusive = {1.f, 0.f};
      if (lane < nwarps) s_warp[lane] = w_exclusive;  // each lane rewrites only the slot it read
    }
    __syncthreads();
    exclusive = compose(exclusive, s_warp[warp]);
    // 2c. A right after the chunk, then the chunk's own steps, backwards.
    float a_next = fmaf(exclusive.a, carry, exclusive.b);
#pragma unroll
    for (int k = kItems - 1; k >= 0; k--) {
      const int i = i0 + k;
      if (i < n) {
        a_next = fmaf(c, a_next, s_val[padded(i)]);
        s_val[padded(i)] = a_next;
      }
    }
    if (tid == 0) s_carry = a_next;  // A at `start` (thread 0's chunk begins at local step 0 < n)
    __syncthreads();

    // 3. coalesced stores.
#pragma unroll
    for (int j = 0; j < kItems; j++) {
      const int i = j * nt + tid;
      if (i < n) {
        const int t = start + i;
        const float a = m_keep[j] ? s_val[padded(i)] : 0.f;
        adv[t] = from_f32<S>(a);
        ret[t] = from_f32<S>(m_keep[j] ? a + v_keep[j] : 0.f);
      }
    }
    carry = s_carry;
    __syncthreads();  // s_val, s_warp and s_carry are reused by the next tile
  }
  if (bad_pos != INT_MAX) report_device_error(errors, kOpGae, blockIdx.x, bad_pos, T);  // read at the next sync
}

// ---- masked whitening ----------------------------------------------------------------------------
__device__ __forceinline__ double warp_sum(double x) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) x += __shfl_down_sync(0xffffffffu, x, offset);
  return x;
}

// Sums three doubles over the block in a fixed order; the totals are valid in thread 0.
__device__ void block_sum3(double& x, double& y, double& z) {
  __shared__ double sh[3][32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  x = warp_sum(x);
  y = warp_sum(y);
  z = warp_sum(z);
  if (lane == 0) {
    sh[0][warp] = x;
    sh[1][warp] = y;
    sh[2][warp] = z;
  }
  __syncthreads();
  if (warp == 0) {
    x = warp_sum(lane < nwarps ? sh[0][lane] : 0.0);
    y = warp_sum(lane < nwarps ? sh[1][lane] : 0.0);
    z = warp_sum(lane < nwarps ? sh[2][lane] : 0.0);
  }
}

// Per block (grid-stride over the n values): count, sum x, sum x^2 over mask != 0, in double.
template <typename S>
__global__ void whiten_partials_kernel(const S* __restrict__ x, const int32_t* __restrict__ mask, int64_t n,
                                       double* __restrict__ partials) {
  double count = 0.0, sum = 0.0, sumsq = 0.0;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    if (mask[i] != 0) {
      const double xi = to_f32(x[i]);
      count += 1.0;
      sum += xi;
      sumsq += xi * xi;
    }
  }
  block_sum3(count, sum, sumsq);
  if (threadIdx.x == 0) {
    partials[3 * blockIdx.x + 0] = count;
    partials[3 * blockIdx.x + 1] = sum;
    partials[3 * blockIdx.x + 2] = sumsq;
  }
}

// One block: totals of the partials (fixed order), then
//   mean = sum / n,  m2 = sum x^2 - sum * mean  (= sum (x - mean)^2),
//   coefficients as in cpu::whiten_coefficients (unbiased var, 0 for n <= 1, eps inside the sqrt).
// coef = {mean, std, scale, add}.
__global__ void whiten_finalize_kernel(const double* __restrict__ partials, int nblocks, int shift_mean, float eps,
                                       float* __restrict__ coef) {
  double count = 0.0, sum = 0.0, sumsq = 0.0;
  for (int i = threadIdx.x; i < nblocks; i += blockDim.x) {
    count += partials[3 * i + 0];
    sum += partials[3 * i + 1];
    sumsq += partials[3 * i + 2];
  }
  block_sum3(count, sum, sumsq);
  if (threadIdx.x == 0) {
    const double mean = count > 0 ? sum / count : 0.0;
    const cpu::WhitenCoefficients w = cpu::whiten_coefficients(count, mean, sumsq - sum * mean, shift_mean != 0, eps);
    coef[0] = w.mean;
    coef[1] = w.std;
    coef[2] = w.scale;
    coef[3] = w.add;
  }
}

// out_i = m_i ? (x_i - mean) * scale + add : 0   (out may alias x: each thread reads, then writes, i)
template <typename S>
__global__ void whiten_apply_kernel(const S* x, const int32_t* __restrict__ mask, int64_t n,
                                    const float* __restrict__ coef, S* out) {
  const float mean = coef[0], scale = coef[2], add = coef[3];
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float y = mask[i] != 0 ? (to_f32(x[i]) - mean) * scale + add : 0.f;
    out[i] = from_f32<S>(y);
  }
}

template <typename S>
void launch_gae(cudaStream_t stream, const void* rewards, const void* values, const int32_t* mask, int64_t B,
                int64_t T, float gamma, float lambda, void* advantages, void* returns, DeviceErrorRecord* bad_row) {
  const int steps_per_thread = ceil_div(T, kItems);
  const int threads = std::min(kMaxScanThreads, std::max(32, ceil_div(steps_per_thread, 32) * 32));
  const int tile = threads * kItems;
  const size_t shared = static_cast<size_t>(tile + tile / 32) * sizeof(float);
  gae_scan_kernel<S><<<static_cast<unsigned>(B), threads, shared, stream>>>(
      static_cast<const S*>(rewards), static_cast<const S*>(values), mask, static_cast<int>(T), gamma,
      gamma * lambda, static_cast<S*>(advantages), static_cast<S*>(returns), bad_row);
  FRL_CUDA_CHECK_LAUNCH();
}

template <typename S>
void launch_whiten(cudaStream_t stream, const void* x, const int32_t* mask, int64_t n, bool shift_mean, float eps,
                   void* out, double* partials, int stat_blocks, float* coef) {
  whiten_partials_kernel<S><<<stat_blocks, kStatThreads, 0, stream>>>(static_cast<const S*>(x), mask, n, partials);
  FRL_CUDA_CHECK_LAUNCH();
  whiten_finalize_kernel<<<1, kStatThreads, 0, stream>>>(partials, stat_blocks, shift_mean ? 1 : 0, eps, coef);
  FRL_CUDA_CHECK_LAUNCH();
  const int apply_blocks = static_cast<int>(std::min<int64_t>(ceil_div(n, kStatThreads), 8192));
  whiten_apply_kernel<S><<<apply_blocks, kStatThreads, 0, stream>>>(static_cast<const S*>(x), mask, n, coef,
                                                                    static_cast<S*>(out));
  FRL_CUDA_CHECK_LAUNCH();
}

}  // namespace

void gae(const frl_ctx* ctx, frl_dtype dtype, const void* rewards, const void* values, const int32_t* mask,
         int64_t B, int64_t T, float gamma, float lambda, void* advantages, void* returns) {
  if (B == 0 || T == 0) return;
  require(B <= INT_MAX && T <= INT_MAX / 2, FRL_ERR_SHAPE,
          format("[B, T] = [%lld, %lld] is too large for the CUDA GAE kernel", static_cast<long long>(B),
                 static_cast<long long>(T)));
  cudaStream_t stream = cuda_stream(ctx);
  DeviceErrorRecord* errors = cuda_error_record(ctx);
  if (dtype == FRL_BF16)
    launch_gae<__nv_bfloat16>(stream, rewards, values, mask, B, T, gamma, lambda, advantages, returns, errors);
  else
    launch_gae<float>(stream, rewards, values, mask, B, T, gamma, lambda, advantages, returns, errors);
}

void masked_whiten(const frl_ctx* ctx, frl_dtype dtype, const void* x, const int32_t* mask, int64_t n,
                   bool shift_mean, float eps, void* out, float* out_mean, float* out_std) {
  if (n == 0) {
    if (out_mean) *out_mean = 0.f;
    if (out_std) *out_std = 0.f;
    return;
  }
  cudaStream_t stream = cuda_stream(ctx);
  const int stat_blocks = static_cast<int>(std::min<int64_t>(ceil_div(n, kStatThreads * 4), kMaxStatBlocks));
  Scratch scratch(ctx, static_cast<size_t>(3 * stat_blocks) * sizeof(double) + 4 * sizeof(float));
  double* partials = scratch.as<double>();
  float* coef = reinterpret_cast<float*>(partials + 3 * stat_blocks);
  if (dtype == FRL_BF16)
    launch_whiten<__nv_bfloat16>(stream, x, mask, n, shift_mean, eps, out, partials, stat_blocks, coef);
  else
    launch_whiten<float>(stream, x, mask, n, shift_mean, eps, out, partials, stat_blocks, coef);
  if (out_mean || out_std) {
    float host[4];
    ctx->backend->copy_to_host(host, coef, sizeof host);  // a host read the caller asked for: a sync point
    if (out_mean) *out_mean = host[0];
    if (out_std) *out_std = host[1];
  }
}

}  // namespace cuda
}  // namespace frl

// CUDA kernels of multi-head scaled dot-product attention (factrl/attention.h): a straightforward,
// correct first version (no tensor cores, no K/V tiles in shared memory) whose every reduction has
// a fixed order, so results are the same bits from run to run. Storage float or bf16 (template
// parameter T), math in fp32, one rounding per stored element.
//
// Layout: q, out, dout, dq [B, Sq, H, D]; k, v, dk, dv [B, Sk, H, D] (row (b, s, h) at
// ((b·S + s)·H + h)·D with S the tensor's own length); lse [B, H, Sq]. Self-attention is Sq = Sk.
//
// Masks (factrl/attention.h, masked entry points): per batch row b, L_b = key_len[b] (null: Sk) and
// off_b = q_off[b] (null: 0), both I32 in device memory. Query i of row b sees the key prefix
//   J_b(i) = [0, n_b(i)),   n_b(i) = causal ? min(L_b, off_b + i + 1) : L_b
// and key j is seen by the queries i with j < L_b and (!causal or i >= j − off_b). With no masks and
// Sq = Sk this is the unmasked attention, and every loop below runs the same steps in the same order
// as before the masks existed (bitwise the same results). A query with n_b(i) = 0 gets out = 0,
// lse = −inf and dq = 0; a key no query sees gets dk = dv = 0 (overwrite) or keeps its value
// (accumulate); keys at or past L_b are never read. A block is kWarps warps; warp w of block (t, bh) owns row r = t·kWarps + w of the
// (b, h) slice bh = b·H + h: the warps of a block read the same k_j / v_j rows, which stay in L1.
// A dot product over D: lanes stride over D, then warp_sum. Each warp keeps its D-long fp32
// accumulators in shared memory (only the owning lane touches an element: no block syncs).
//
// Forward, per query row i (online softmax over the visible keys j in ascending order):
//   s = scale·q_i·k_j;  m' = max(m, s);  c = e^{m − m'};  p = e^{s − m'}
//   l = l·c + p;  acc = acc·c + p·v_j;  m = m'          out_i = acc / l,  lse_i = m + log l
// Backward (P recomputed from the saved lse, as the CPU):
//   Dl_i = dO_i·out_i                                   (warp per row, kept in scratch)
//   P_ij = e^{scale·q_i·k_j − lse_i},  dS_ij = P_ij (dO_i·v_j − Dl_i)
//   dq_i = scale Σ_j dS_ij k_j                          (warp per query row, j ascending)
//   dv_j = Σ_i P_ij dO_i,  dk_j = scale Σ_i dS_ij q_i    (warp per key row, i ascending)
// so dq and dk/dv each own their rows: no atomics, at the price of computing P twice.
// Math runs with --use_fast_math (__expf, __logf): a few ulp against the CPU's expf.
#include <cstdint>

#include "attention.cuh"
#include "cuda_common.cuh"

namespace frl {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;

// Σ_d a[d]·b[d] over the warp (lanes stride over D, then a fixed-order butterfly).
template <typename T>
__device__ __forceinline__ float warp_dot(const T* a, const T* b, int64_t D, int lane) {
  float s = 0.0f;
  for (int64_t d = lane; d < D; d += 32) s += to_f32(a[d]) * to_f32(b[d]);
  return warp_sum(s);
}

struct Geometry {
  int64_t Sq, Sk, H, D;
  const int32_t* key_len;  // [B] or null (Sk)
  const int32_t* q_off;    // [B] or null (0)
  __device__ int64_t qrow(int64_t b, int64_t s, int64_t h) const { return ((b * Sq + s) * H + h) * D; }
  __device__ int64_t krow(int64_t b, int64_t s, int64_t h) const { return ((b * Sk + s) * H + h) * D; }
  __device__ int64_t keys(int64_t b) const { return key_len ? key_len[b] : Sk; }
  __device__ int64_t offset(int64_t b) const { return q_off ? q_off[b] : 0; }
  // n_b(i): query i of row b sees keys [0, n).
  __device__ int64_t visible(int64_t b, int64_t i, bool causal) const {
    const int64_t L = keys(b);
    if (!causal) return L;
    const int64_t c = offset(b) + i + 1;
    return c < L ? c : L;
  }
  // The first query that sees key j (causal), or 0.
  __device__ int64_t first_query(int64_t b, int64_t j, bool causal) const {
    if (!causal) return 0;
    const int64_t f = j - offset(b);
    return f > 0 ? f : 0;
  }
};

template <typename T>
__global__ void __launch_bounds__(kThreads) attention_forward_kernel(const T* q, const T* k, const T* v, T* out,
                                                                     float* lse, Geometry g, bool causal,
                                                                     float scale) {
  extern __shared__ float smem[];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t i = blockIdx.x * static_cast<int64_t>(kWarps) + warp;
  const int64_t bh = blockIdx.y, b = bh / g.H, h = bh % g.H;
  if (i >= g.Sq) return;
  float* acc = smem + warp * g.D;
  for (int64_t d = lane; d < g.D; d += 32) acc[d] = 0.0f;
  const T* qi = q + g.qrow(b, i, h);
  const int64_t jend = g.visible(b, i, causal);
  float m = -INFINITY, l = 0.0f;
  for (int64_t j = 0; j < jend; j++) {
    const float s = scale * warp_dot(qi, k + g.krow(b, j, h), g.D, lane);
    const float m_new = fmaxf(m, s);
    const float c = expf(m - m_new);  // m = −inf on the first key: c = 0
    const float p = expf(s - m_new);
    l = l * c + p;
    const T* vj = v + g.krow(b, j, h);
    for (int64_t d = lane; d < g.D; d += 32) acc[d] = acc[d] * c + p * to_f32(vj[d]);
    m = m_new;
  }
  T* oi = out + g.qrow(b, i, h);
  // No visible key (L_b = 0): out = 0, lse = −inf (l = 0 would give 0 · inf).
  const float inv_l = jend > 0 ? 1.0f / l : 0.0f;
  for (int64_t d = lane; d < g.D; d += 32) oi[d] = from_f32<T>(acc[d] * inv_l);
  if (lse && lane == 0) lse[bh * g.Sq + i] = jend > 0 ? m + logf(l) : -INFINITY;
}

// delta[bh·S + i] = dO_i · out_i
template <typename T>
__global__ void __launch_bounds__(kThreads) attention_delta_kernel(const T* out, const T* dout, float* delta,
                                                                   Geometry g) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t i = blockIdx.x * static_cast<int64_t>(kWarps) + warp;
  const int64_t bh = blockIdx.y, b = bh / g.H, h = bh % g.H;
  if (i >= g.Sq) return;
  const float dl = warp_dot(dout + g.qrow(b, i, h), out + g.qrow(b, i, h), g.D, lane);
  if (lane == 0) delta[bh * g.Sq + i] = dl;
}

// dq_i (+)= scale Σ_{j in J(i)} P_ij (dO_i·v_j − Dl_i) k_j
template <typename T>
__global__ void __launch_bounds__(kThreads) attention_dq_kernel(const T* q, const T* k, const T* v, const float* lse,
                                                                const T* dout, const float* delta, T* dq, Geometry g,
                                                                bool causal, float scale, bool accumulate) {
  extern __shared__ float smem[];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t i = blockIdx.x * static_cast<int64_t>(kWarps) + warp;
  const int64_t bh = blockIdx.y, b = bh / g.H, h = bh % g.H;
  if (i >= g.Sq) return;
  float* acc = smem + warp * g.D;
  for (int64_t d = lane; d < g.D; d += 32) acc[d] = 0.0f;
  const T* qi = q + g.qrow(b, i, h);
  const T* gi = dout + g.qrow(b, i, h);
  const float lse_i = lse[bh * g.Sq + i], dl = delta[bh * g.Sq + i];
  const int64_t jend = g.visible(b, i, causal);  // 0: dq_i = 0 (lse_i = −inf is never used)
  for (int64_t j = 0; j < jend; j++) {
    const T* kj = k + g.krow(b, j, h);
    const float p = expf(scale * warp_dot(qi, kj, g.D, lane) - lse_i);
    const float ds = p * (warp_dot(gi, v + g.krow(b, j, h), g.D, lane) - dl);
    for (int64_t d = lane; d < g.D; d += 32) acc[d] += ds * to_f32(kj[d]);
  }
  T* dqi = dq + g.qrow(b, i, h);
  for (int64_t d = lane; d < g.D; d += 32) {
    const float val = scale * acc[d];
    dqi[d] = from_f32<T>(accumulate ? to_f32(dqi[d]) + val : val);
  }
}

// dv_j (+)= Σ_{i : j in J(i)} P_ij dO_i,  dk_j (+)= scale Σ_i P_ij (dO_i·v_j − Dl_i) q_i
template <typename T>
__global__ void __launch_bounds__(kThreads) attention_dkdv_kernel(const T* q, const T* k, const T* v, const float* lse,
                                                                  const T* dout, const float* delta, T* dk, T* dv,
                                                                  Geometry g, bool causal, float scale,
                                                                  bool accumulate) {
  extern __shared__ float smem[];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t j = blockIdx.x * static_cast<int64_t>(kWarps) + warp;
  const int64_t bh = blockIdx.y, b = bh / g.H, h = bh % g.H;
  if (j >= g.Sk) return;
  float* acc_k = smem + warp * 2 * g.D;
  float* acc_v = acc_k + g.D;
  for (int64_t d = lane; d < g.D; d += 32) acc_k[d] = acc_v[d] = 0.0f;
  const T* kj = k + g.krow(b, j, h);
  const T* vj = v + g.krow(b, j, h);
  // A key at or past L_b is seen by no query (and never read): the loop is empty.
  const int64_t iend = j < g.keys(b) ? g.Sq : 0;
  for (int64_t i = g.first_query(b, j, causal); i < iend; i++) {
    const T* qi = q + g.qrow(b, i, h);
    const T* gi = dout + g.qrow(b, i, h);
    const float p = expf(scale * warp_dot(qi, kj, g.D, lane) - lse[bh * g.Sq + i]);
    const float ds = p * (warp_dot(gi, vj, g.D, lane) - delta[bh * g.Sq + i]);
    for (int64_t d = lane; d < g.D; d += 32) {
      acc_v[d] += p * to_f32(gi[d]);
      acc_k[d] += ds * to_f32(qi[d]);
    }
  }
  T* dkj = dk ? dk + g.krow(b, j, h) : nullptr;
  T* dvj = dv ? dv + g.krow(b, j, h) : nullptr;
  for (int64_t d = lane; d < g.D; d += 32) {
    if (dkj) {
      const float val = scale * acc_k[d];
      dkj[d] = from_f32<T>(accumulate ? to_f32(dkj[d]) + val : val);
    }
    if (dvj) dvj[d] = from_f32<T>(accumulate ? to_f32(dvj[d]) + acc_v[d] : acc_v[d]);
  }
}

// Grid: x = query (or key) tiles of kWarps rows, y = B·H slices.
dim3 grid_of(int64_t B, int64_t S, int64_t H) {
  FRL_REQUIRE(B * H <= 65535, FRL_ERR_SHAPE,
              "attention on CUDA: B·H = %lld exceeds this kernel's grid limit of 65535 (batch, head) slices",
              static_cast<long long>(B * H));
  return dim3(static_cast<unsigned>(ceil_div(S, kWarps)), static_cast<unsigned>(B * H));
}

// Dynamic shared memory of `per_warp` fp32 vectors of length D per warp; opts in above 48 KiB.
template <typename Kernel>
size_t smem_bytes(Kernel kernel, int64_t D, int per_warp) {
  const size_t bytes = static_cast<size_t>(kWarps) * per_warp * static_cast<size_t>(D) * sizeof(float);
  if (bytes > 48 * 1024) {
    int dev = 0, max_optin = 0;
    FRL_CUDA_CHECK(cudaGetDevice(&dev));
    FRL_CUDA_CHECK(cudaDeviceGetAttribute(&max_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    FRL_REQUIRE(bytes <= static_cast<size_t>(max_optin), FRL_ERR_SHAPE,
                "attention on CUDA: head size D = %lld needs %zu bytes of shared memory per block, the device "
                "has %d",
                static_cast<long long>(D), bytes, max_optin);
    FRL_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
  }
  return bytes;
}

}  // namespace

namespace cuda {

void attention_forward_masked(const frl_ctx* ctx, frl_dtype dtype, const void* q, const void* k, const void* v,
                              void* out, float* lse, const int32_t* key_len, const int32_t* q_off, int64_t B,
                              int64_t Sq, int64_t Sk, int64_t H, int64_t D, bool causal, float scale) {
  if (B * Sq * H == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  const Geometry g{Sq, Sk, H, D, key_len, q_off};
  const dim3 grid = grid_of(B, Sq, H);
  dispatch_float_storage(dtype, [&](auto zero) {
    using T = decltype(zero);
    const size_t bytes = smem_bytes(attention_forward_kernel<T>, D, 1);
    attention_forward_kernel<T><<<grid, kThreads, bytes, st>>>(static_cast<const T*>(q), static_cast<const T*>(k),
                                                               static_cast<const T*>(v), static_cast<T*>(out), lse,
                                                               g, causal, scale);
    FRL_CUDA_CHECK_LAUNCH();
  });
}

void attention_backward_masked(const frl_ctx* ctx, frl_dtype dtype, const void* q, const void* k, const void* v,
                               const void* out, const float* lse, const void* dout, void* dq, void* dk, void* dv,
                               const int32_t* key_len, const int32_t* q_off, int64_t B, int64_t Sq, int64_t Sk,
                               int64_t H, int64_t D, bool causal, float scale, bool accumulate) {
  if (B * H * D == 0 || (dq == nullptr && dk == nullptr && dv == nullptr)) return;
  cudaStream_t st = cuda_stream(ctx);
  const Geometry g{Sq, Sk, H, D, key_len, q_off};
  Scratch delta(ctx, static_cast<size_t>(B * H * Sq) * sizeof(float));
  dispatch_float_storage(dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* qt = static_cast<const T*>(q);
    const T* kt = static_cast<const T*>(k);
    const T* vt = static_cast<const T*>(v);
    const T* gt = static_cast<const T*>(dout);
    if (Sq > 0) {
      attention_delta_kernel<T><<<grid_of(B, Sq, H), kThreads, 0, st>>>(static_cast<const T*>(out), gt,
                                                                         delta.as<float>(), g);
      FRL_CUDA_CHECK_LAUNCH();
    }
    if (dq && Sq > 0) {
      const size_t bytes = smem_bytes(attention_dq_kernel<T>, D, 1);
      attention_dq_kernel<T><<<grid_of(B, Sq, H), kThreads, bytes, st>>>(
          qt, kt, vt, lse, gt, delta.as<float>(), static_cast<T*>(dq), g, causal, scale, accumulate);
      FRL_CUDA_CHECK_LAUNCH();
    }
    // With Sq = 0 every key is seen by no query: the kernel's empty loops write dk = dv = 0.
    if ((dk || dv) && Sk > 0) {
      const size_t bytes = smem_bytes(attention_dkdv_kernel<T>, D, 2);
      attention_dkdv_kernel<T><<<grid_of(B, Sk, H), kThreads, bytes, st>>>(
          qt, kt, vt, lse, gt, delta.as<float>(), static_cast<T*>(dk), static_cast<T*>(dv), g, causal, scale,
          accumulate);
      FRL_CUDA_CHECK_LAUNCH();
    }
  });
}

// The unmasked forms: Sq = Sk = S, no masks (the same kernels, the same steps as the masked ones).
void attention_forward(const frl_ctx* ctx, frl_dtype dtype, const void* q, const void* k, const void* v, void* out,
                       float* lse, int64_t B, int64_t S, int64_t H, int64_t D, bool causal, float scale) {
  attention_forward_masked(ctx, dtype, q, k, v, out, lse, nullptr, nullptr, B, S, S, H, D, causal, scale);
}

void attention_backward(const frl_ctx* ctx, frl_dtype dtype, const void* q, const void* k, const void* v,
                        const void* out, const float* lse, const void* dout, void* dq, void* dk, void* dv, int64_t B,
                        int64_t S, int64_t H, int64_t D, bool causal, float scale, bool accumulate) {
  if (B * S * H * D == 0) return;
  attention_backward_masked(ctx, dtype, q, k, v, out, lse, dout, dq, dk, dv, nullptr, nullptr, B, S, S, H, D, causal,
                            scale, accumulate);
}

}  // namespace cuda
}  // namespace frl

// CUDA kernels of the per-token log-prob / KL kernel (math: native/include/factrl/kl.h).
//
// One block per row (256 threads for V >= 8192, fewer for small vocabularies, down to one warp).
// Each thread walks the row in chunks of 8 logits (one 16-byte load for bf16, two for f32), two
// chunks in flight per thread, policy and reference together: a single pass over both rows with an
// online log-sum-exp per thread, merged across the warp with shuffles and across warps through
// shared memory. Rows whose start is not 16-byte aligned (V odd for bf16, V not a multiple of 4 for
// f32) get a scalar head up to the next 16-byte boundary; the last V mod 8 logits a scalar tail.
// Storage f32 or bf16, accumulation and outputs fp32.
#include <climits>
#include <cstdint>

#include "cuda_common.cuh"
#include "kl.cuh"
#include "kl_merge.cuh"

namespace frl {
namespace cuda {
namespace {

constexpr int CHUNK = 8;

// The row state, its empty value and the merge live in kl_merge.cuh (shared with a CPU test).
// Raising mp by δ: a = exp(-δ), sp' = a sp, q' = a (q - δ sp), c' = a (c - δ sp).
// Raising mr by δr: sr' = exp(-δr) sr, c' = c + δr sp.
using kl::RowState;
using kl::state_empty;
using kl::merge;

__device__ __forceinline__ void raise_policy_max(RowState& st, float nm) {
  if (nm > st.mp) {
    if (st.sp > 0.0f) {
      const float a = __expf(st.mp - nm), d = nm - st.mp;
      st.q = a * (st.q - d * st.sp);
      // c = +inf (policy mass where the reference is -inf) stays +inf, also when a underflows to 0
      st.c = st.c == INFINITY ? INFINITY : a * (st.c - d * st.sp);
      st.sp *= a;
    }
    st.mp = nm;
  }
}

__device__ __forceinline__ void raise_ref_max(RowState& st, float nm) {
  if (nm > st.mr) {
    if (st.sr > 0.0f) st.sr *= __expf(st.mr - nm);
    if (st.sp > 0.0f) st.c += (nm - st.mr) * st.sp;
    st.mr = nm;
  }
}

__device__ __forceinline__ RowState shfl_xor(const RowState& x, int lane_mask) {
  constexpr unsigned FULL = 0xffffffffu;
  return {__shfl_xor_sync(FULL, x.mp, lane_mask), __shfl_xor_sync(FULL, x.sp, lane_mask),
          __shfl_xor_sync(FULL, x.q, lane_mask),  __shfl_xor_sync(FULL, x.c, lane_mask),
          __shfl_xor_sync(FULL, x.mr, lane_mask), __shfl_xor_sync(FULL, x.sr, lane_mask)};
}

// Merge every thread's state; every thread gets the row's state. blockDim.x a multiple of 32, <= 1024.
// `shared` holds 32 states and is used once per block.
template <bool HAS_REF>
__device__ __forceinline__ RowState block_reduce(RowState st, RowState* shared) {
  for (int o = 16; o > 0; o >>= 1) merge<HAS_REF>(st, shfl_xor(st, o));
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, nwarps = blockDim.x / 32;
  if (nwarps == 1) return st;
  if (lane == 0) shared[warp] = st;
  __syncthreads();
  st = lane < nwarps ? shared[lane] : state_empty();
  for (int o = 16; o > 0; o >>= 1) merge<HAS_REF>(st, shfl_xor(st, o));
  return st;
}

// ---- loads and stores of 8 consecutive values (p 16-byte aligned) --------------------------------
// Load flavours: STREAMING (read once: evict-first), CACHED (read-only, kept: the backward reads its
// row twice), PLAIN (memory this kernel also writes, e.g. the gradient when accumulating).
enum LoadMode { STREAMING, CACHED, PLAIN };

template <LoadMode MODE>
__device__ __forceinline__ int4 ld16(const void* p) {
  const int4* q = reinterpret_cast<const int4*>(p);
  if (MODE == STREAMING) return __ldcs(q);
  if (MODE == CACHED) return __ldg(q);
  return *q;
}

__device__ __forceinline__ void unpack_bf16x2(uint32_t w, float& lo, float& hi) {
  lo = __uint_as_float(w << 16);  // little endian: element 2k is the low half
  hi = __uint_as_float(w & 0xffff0000u);
}

template <LoadMode MODE>
__device__ __forceinline__ void load8(const __nv_bfloat16* p, float (&f)[8]) {
  const int4 v = ld16<MODE>(p);
  unpack_bf16x2(static_cast<uint32_t>(v.x), f[0], f[1]);
  unpack_bf16x2(static_cast<uint32_t>(v.y), f[2], f[3]);
  unpack_bf16x2(static_cast<uint32_t>(v.z), f[4], f[5]);
  unpack_bf16x2(static_cast<uint32_t>(v.w), f[6], f[7]);
}

template <LoadMode MODE>
__device__ __forceinline__ void load8(const float* p, float (&f)[8]) {
  const int4 a = ld16<MODE>(p), b = ld16<MODE>(p + 4);
  f[0] = __int_as_float(a.x); f[1] = __int_as_float(a.y); f[2] = __int_as_float(a.z); f[3] = __int_as_float(a.w);
  f[4] = __int_as_float(b.x); f[5] = __int_as_float(b.y); f[6] = __int_as_float(b.z); f[7] = __int_as_float(b.w);
}

__device__ __forceinline__ void store8(float* p, const float (&f)[8]) {
  reinterpret_cast<float4*>(p)[0] = make_float4(f[0], f[1], f[2], f[3]);
  reinterpret_cast<float4*>(p)[1] = make_float4(f[4], f[5], f[6], f[7]);
}
__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
  __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);  // .x = lo (low half)
  return *reinterpret_cast<uint32_t*>(&h);
}
__device__ __forceinline__ void store8(__nv_bfloat16* p, const float (&f)[8]) {
  int4 v;
  v.x = static_cast<int>(pack_bf16x2(f[0], f[1]));
  v.y = static_cast<int>(pack_bf16x2(f[2], f[3]));
  v.z = static_cast<int>(pack_bf16x2(f[4], f[5]));
  v.w = static_cast<int>(pack_bf16x2(f[6], f[7]));
  *reinterpret_cast<int4*>(p) = v;
}

// ---- the per-row pass ----------------------------------------------------------------------------
// Adds N policy values zp (and reference values zr) to the state: raise both maxima once for the N,
// then N exps each (fast-math ex2). A -inf policy logit adds 0 (the e > 0 selects avoid 0·(-inf)).
template <int N, bool HAS_REF, bool EXTRA>
__device__ __forceinline__ void update(RowState& S, const float (&zp)[N], const float (&zr)[N]) {
  float mx = zp[0];
#pragma unroll
  for (int j = 1; j < N; j++) mx = fmaxf(mx, zp[j]);
  raise_policy_max(S, mx);
  if (HAS_REF) {
    float mr = zr[0];
#pragma unroll
    for (int j = 1; j < N; j++) mr = fmaxf(mr, zr[j]);
    raise_ref_max(S, mr);
  }
  if (S.mp != -INFINITY) {
#pragma unroll
    for (int j = 0; j < N; j++) {
      const float t = zp[j] - S.mp;
      const float e = __expf(t);
      S.sp += e;
      if (EXTRA) {
        S.q += e > 0.0f ? e * t : 0.0f;
        if (HAS_REF) S.c += e > 0.0f ? e * (t - (zr[j] - S.mr)) : 0.0f;
      }
    }
    // policy mass where the reference is -inf (all of it so far): the full KL is +inf
    if (HAS_REF && EXTRA && S.mr == -INFINITY) S.c = INFINITY;
  }
  if (HAS_REF && S.mr != -INFINITY) {
#pragma unroll
    for (int j = 0; j < N; j++) S.sr += __expf(zr[j] - S.mr);
  }
}

// This thread's share of one row: scalar head (to the 16-byte boundary), 8-wide body (two chunks
// in flight), scalar tail. If policy and reference rows are aligned differently, all scalar.
template <typename T, bool HAS_REF, bool EXTRA, LoadMode MODE>
__device__ __forceinline__ void row_pass(const T* __restrict__ p, const T* __restrict__ r, int64_t V,
                                         RowState& S) {
  const uintptr_t mis = reinterpret_cast<uintptr_t>(p) & 15;
  int64_t head = mis == 0 ? 0 : static_cast<int64_t>((16 - mis) / sizeof(T));
  if ((HAS_REF && (reinterpret_cast<uintptr_t>(r) & 15) != mis) || (mis % sizeof(T)) != 0) head = V;
  if (head > V) head = V;
  const int64_t nchunks = (V - head) / CHUNK;
  const int64_t tail = head + nchunks * CHUNK;
  for (int64_t i = threadIdx.x; i < head; i += blockDim.x) {
    const float a[1] = {to_f32(p[i])};
    const float b[1] = {HAS_REF ? to_f32(r[i]) : 0.0f};
    update<1, HAS_REF, EXTRA>(S, a, b);
  }
  for (int64_t i = tail + threadIdx.x; i < V; i += blockDim.x) {
    const float a[1] = {to_f32(p[i])};
    const float b[1] = {HAS_REF ? to_f32(r[i]) : 0.0f};
    update<1, HAS_REF, EXTRA>(S, a, b);
  }
  const T* pb = p + head;
  const T* rb = HAS_REF ? r + head : nullptr;
  const int64_t step = blockDim.x;
  for (int64_t c = threadIdx.x; c < nchunks; c += 2 * step) {
    float a0[8], b0[8], a1[8], b1[8];
    const bool two = c + step < nchunks;
    load8<MODE>(pb + c * CHUNK, a0);
    if (HAS_REF) load8<MODE>(rb + c * CHUNK, b0);
    if (two) {
      load8<MODE>(pb + (c + step) * CHUNK, a1);
      if (HAS_REF) load8<MODE>(rb + (c + step) * CHUNK, b1);
    }
    update<8, HAS_REF, EXTRA>(S, a0, b0);  // b0/b1 are unread without a reference
    if (two) update<8, HAS_REF, EXTRA>(S, a1, b1);
  }
}

// Reads a row's action; an out-of-range action on a valid row is flagged in the context's device
// error record (reported at the next sync point) and clamped so that nothing outside the row is read.
__device__ __forceinline__ int64_t checked_action(const int32_t* actions, int64_t row, int64_t V,
                                                  DeviceErrorRecord* errors, DeviceOp op) {
  const int32_t raw = actions[row];
  int64_t a = raw;
  if (a < 0 || a >= V) {
    if (threadIdx.x == 0) report_device_error(errors, op, row, raw, V);
    a = a < 0 ? 0 : V - 1;
  }
  return a;
}

// Forward, one block per row t (mask[t] == 0: every requested output 0). Differences before
// log-sums, so logits near ±1e30 keep their O(1) results:
//   logp_p = (zp[a] - mp) - log sp, logp_r = (zr[a] - mr) - log sr, k1 = logp_p - logp_r,
//   k3 = expm1(-k1) + k1, entropy = log sp - q/sp, kl_full = c/sp - log sp + log sr, lse = mp + log sp.
template <typename T, bool HAS_REF, bool EXTRA>
__global__ void __launch_bounds__(256)
    token_logprobs_fwd_kernel(const T* __restrict__ policy, const T* __restrict__ ref,
                              const int32_t* __restrict__ actions, const int32_t* __restrict__ mask, int64_t V,
                              cpu::KlOutputs out, DeviceErrorRecord* errors) {
  __shared__ RowState shared[32];
  const int64_t row = blockIdx.x;
  if (mask != nullptr && mask[row] == 0) {
    if (threadIdx.x == 0) {
      float* all[] = {out.logp_policy, out.logp_ref, out.kl_k1, out.kl_k3, out.kl_full, out.entropy, out.lse_policy};
      for (float* o : all)
        if (o) o[row] = 0.0f;
    }
    return;
  }
  const T* p = policy + row * V;
  const T* r = HAS_REF ? ref + row * V : nullptr;
  RowState S = state_empty();
  row_pass<T, HAS_REF, EXTRA, STREAMING>(p, r, V, S);
  S = block_reduce<HAS_REF>(S, shared);
  if (threadIdx.x != 0) return;
  const int64_t a = checked_action(actions, row, V, errors, kOpTokenLogprobs);
  const float log_sp = logf(S.sp);
  const float logp_p = (to_f32(p[a]) - S.mp) - log_sp;
  if (out.logp_policy) out.logp_policy[row] = logp_p;
  if (out.lse_policy) out.lse_policy[row] = S.mp + log_sp;
  if (out.entropy) out.entropy[row] = log_sp - S.q / S.sp;
  if (HAS_REF) {
    const float log_sr = logf(S.sr);
    const float logp_r = (to_f32(r[a]) - S.mr) - log_sr;
    const float k1 = logp_p - logp_r;
    if (out.logp_ref) out.logp_ref[row] = logp_r;
    if (out.kl_k1) out.kl_k1[row] = k1;
    if (out.kl_k3) out.kl_k3[row] = expm1f(-k1) + k1;
    if (out.kl_full) out.kl_full[row] = S.c / S.sp - log_sp + log_sr;
  }
}

// Backward of logp_p, one block per row: dz_v (=|+=) g (onehot(a)_v - p_v); masked rows
// 0 (overwrite) or untouched (accumulate). Without a saved lse, one more pass recomputes it.
// VEC: V % 8 == 0 and both rows 16-byte aligned (8-wide loads and stores), else one value per step.
template <typename T, typename G, bool HAVE_LSE, bool VEC>
__global__ void __launch_bounds__(256)
    token_logprobs_bwd_kernel(const T* __restrict__ policy, const int32_t* __restrict__ actions,
                              const int32_t* __restrict__ mask, const float* __restrict__ grad_logp,
                              const float* __restrict__ lse_in, G* __restrict__ dlogits, int64_t V, bool accumulate,
                              DeviceErrorRecord* errors) {
  __shared__ RowState shared[32];
  const int64_t row = blockIdx.x;
  G* dz = dlogits + row * V;
  if (mask != nullptr && mask[row] == 0) {
    if (!accumulate)
      for (int64_t i = threadIdx.x; i < V; i += blockDim.x) dz[i] = from_f32<G>(0.0f);
    return;
  }
  const T* z = policy + row * V;
  // p_v = exp((z_v - m) - log_s): (m, log_s) = (lse, 0) given the forward's lse, else recomputed
  // (then exact also for huge logits).
  float m, log_s;
  if (HAVE_LSE) {
    m = lse_in[row];
    log_s = 0.0f;
  } else {
    RowState S = state_empty();
    row_pass<T, false, false, CACHED>(z, nullptr, V, S);
    S = block_reduce<false>(S, shared);
    m = S.mp;
    log_s = logf(S.sp);
  }
  const float g = grad_logp[row];
  const int64_t a = checked_action(actions, row, V, errors, kOpTokenLogprobsBackward);
  if (VEC) {
    const int64_t nchunks = V / CHUNK;
    for (int64_t c = threadIdx.x; c < nchunks; c += blockDim.x) {
      float f[8], d[8];
      load8<STREAMING>(z + c * CHUNK, f);  // the last read of the row
      if (accumulate) load8<PLAIN>(dz + c * CHUNK, d);
#pragma unroll
      for (int j = 0; j < 8; j++) {
        const float v = (c * CHUNK + j == a ? g : 0.0f) - g * __expf((f[j] - m) - log_s);
        d[j] = accumulate ? d[j] + v : v;
      }
      store8(dz + c * CHUNK, d);
    }
  } else {
    for (int64_t i = threadIdx.x; i < V; i += blockDim.x) {
      float v = (i == a ? g : 0.0f) - g * __expf((to_f32(z[i]) - m) - log_s);
      if (accumulate) v += to_f32(dz[i]);
      dz[i] = from_f32<G>(v);
    }
  }
}

int threads_for(int64_t V) { return V >= 8192 ? 256 : V >= 2048 ? 128 : V >= 512 ? 64 : 32; }

template <typename T>
void launch_forward(cudaStream_t stream, const T* policy, const T* ref, const int32_t* actions,
                    const int32_t* mask, int64_t T_, int64_t V, const cpu::KlOutputs& out,
                    DeviceErrorRecord* bad) {
  const bool extra = out.entropy != nullptr || out.kl_full != nullptr;
  const dim3 grid(static_cast<unsigned>(T_)), block(threads_for(V));
  if (ref != nullptr) {
    if (extra)
      token_logprobs_fwd_kernel<T, true, true><<<grid, block, 0, stream>>>(policy, ref, actions, mask, V, out, bad);
    else
      token_logprobs_fwd_kernel<T, true, false><<<grid, block, 0, stream>>>(policy, ref, actions, mask, V, out, bad);
  } else {
    if (extra)
      token_logprobs_fwd_kernel<T, false, true><<<grid, block, 0, stream>>>(policy, ref, actions, mask, V, out, bad);
    else
      token_logprobs_fwd_kernel<T, false, false><<<grid, block, 0, stream>>>(policy, ref, actions, mask, V, out, bad);
  }
  FRL_CUDA_CHECK_LAUNCH();
}

template <typename T, typename G>
void launch_backward(cudaStream_t stream, const T* policy, const int32_t* actions, const int32_t* mask,
                     const float* grad, const float* lse, G* dlogits, int64_t T_, int64_t V, bool accumulate,
                     DeviceErrorRecord* bad) {
  const bool vec = V % CHUNK == 0 && (reinterpret_cast<uintptr_t>(policy) & 15) == 0 &&
                   (reinterpret_cast<uintptr_t>(dlogits) & 15) == 0;
  const dim3 grid(static_cast<unsigned>(T_)), block(threads_for(V));
#define FRL_KL_BWD(HAVE_LSE, VEC)                                                                        \
  token_logprobs_bwd_kernel<T, G, HAVE_LSE, VEC><<<grid, block, 0, stream>>>(policy, actions, mask, grad, lse, \
                                                                             dlogits, V, accumulate, bad)
  if (lse != nullptr) {
    if (vec) FRL_KL_BWD(true, true); else FRL_KL_BWD(true, false);
  } else {
    if (vec) FRL_KL_BWD(false, true); else FRL_KL_BWD(false, false);
  }
#undef FRL_KL_BWD
  FRL_CUDA_CHECK_LAUNCH();
}

void check_rows(int64_t T) {
  if (T > INT32_MAX)
    throw Error(FRL_ERR_ARGUMENT, format("argument 'policy_logits': %lld rows exceed the CUDA grid limit",
                                         static_cast<long long>(T)));
}

}  // namespace

void token_logprobs_forward(const frl_ctx* ctx, frl_dtype dtype, const void* policy, const void* ref,
                            const int32_t* actions, const int32_t* mask, int64_t T, int64_t V,
                            const cpu::KlOutputs& out) {
  if (T == 0) return;
  check_rows(T);
  cudaStream_t stream = cuda_stream(ctx);
  DeviceErrorRecord* errors = cuda_error_record(ctx);
  if (dtype == FRL_BF16)
    launch_forward(stream, static_cast<const __nv_bfloat16*>(policy), static_cast<const __nv_bfloat16*>(ref),
                   actions, mask, T, V, out, errors);
  else
    launch_forward(stream, static_cast<const float*>(policy), static_cast<const float*>(ref), actions, mask, T, V,
                   out, errors);
}

void token_logprobs_backward(const frl_ctx* ctx, frl_dtype dtype, const void* policy, const int32_t* actions,
                             const int32_t* mask, const float* grad_logp, const float* lse, frl_dtype grad_dtype,
                             void* dlogits, int64_t T, int64_t V, bool accumulate) {
  if (T == 0) return;
  check_rows(T);
  cudaStream_t stream = cuda_stream(ctx);
  DeviceErrorRecord* flag = cuda_error_record(ctx);
  if (dtype == FRL_BF16) {
    const auto* z = static_cast<const __nv_bfloat16*>(policy);
    if (grad_dtype == FRL_BF16)
      launch_backward(stream, z, actions, mask, grad_logp, lse, static_cast<__nv_bfloat16*>(dlogits), T, V,
                      accumulate, flag);
    else
      launch_backward(stream, z, actions, mask, grad_logp, lse, static_cast<float*>(dlogits), T, V, accumulate,
                      flag);
  } else {
    const auto* z = static_cast<const float*>(policy);
    if (grad_dtype == FRL_BF16)
      launch_backward(stream, z, actions, mask, grad_logp, lse, static_cast<__nv_bfloat16*>(dlogits), T, V,
                      accumulate, flag);
    else
      launch_backward(stream, z, actions, mask, grad_logp, lse, static_cast<float*>(dlogits), T, V, accumulate,
                      flag);
  }
}

}  // namespace cuda
}  // namespace frl

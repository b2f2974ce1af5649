// CUDA kernel of AdamW (factrl/optim.h): element-wise, F32, a grid-stride loop of 256-thread
// blocks. Bitwise the CPU reference (native/src/cpu/adamw_cpu.cpp): the library builds with
// --use_fast_math, which would make sqrtf and '/' approximate and let nvcc fuse a·b + c into one
// FMA, so every operation is spelled with its round-to-nearest intrinsic (__fmul_rn, __fadd_rn,
// __fsqrt_rn, __fdiv_rn), which nvcc neither approximates nor contracts.
#include <algorithm>
#include <cstdint>

#include "adamw.cuh"
#include "cuda_common.cuh"

namespace frl {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 4096;

// Per element, scalars from adamw_scalars (double math, rounded to fp32 once):
//   g = grad_scale·grad
//   p = p·(1 − lr·wd)
//   m = β1·m + (1−β1)·g
//   v = β2·v + ((1−β2)·g)·g
//   p = p + (−lr/(1−β1^t) · m) / (√v / √(1−β2^t) + eps)
__global__ void adamw_kernel(float* p, const float* g, float* m, float* v, int64_t n, AdamWScalars s) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += gridDim.x * static_cast<int64_t>(blockDim.x)) {
    const float gi = __fmul_rn(g[i], s.grad_scale);
    const float pi = __fmul_rn(p[i], s.decay);
    const float mi = __fadd_rn(__fmul_rn(m[i], s.beta1), __fmul_rn(s.one_minus_beta1, gi));
    const float vi = __fadd_rn(__fmul_rn(v[i], s.beta2), __fmul_rn(__fmul_rn(s.one_minus_beta2, gi), gi));
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), s.bias2_sqrt), s.eps);
    p[i] = __fadd_rn(pi, __fdiv_rn(__fmul_rn(s.neg_step, mi), denom));
    m[i] = mi;
    v[i] = vi;
  }
}

}  // namespace

namespace cuda {

void adamw_step(const frl_ctx* ctx, float* p, const float* g, float* m, float* v, int64_t n, const AdamWScalars& s) {
  if (n == 0) return;
  const int blocks = static_cast<int>(std::min<int64_t>(kMaxBlocks, (n + kThreads - 1) / kThreads));
  adamw_kernel<<<blocks, kThreads, 0, cuda_stream(ctx)>>>(p, g, m, v, n, s);
  FRL_CUDA_CHECK_LAUNCH();
}

}  // namespace cuda
}  // namespace frl

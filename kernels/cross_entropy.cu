// Masked cross-entropy on CUDA (factrl/cross_entropy.h): the per-row log-probs and their backward
// are the log-prob kernel's (kl.cu); this file adds the two reductions over rows, each one block
// (T is the tokens of one batch, a few thousand: one block reads them in a few microseconds).
//
//   loss       = −(Σ_{valid t} logp_t) / n                 (0 when n = 0)
//   grad_logp_t = −grad_loss · valid_t / n                  (0 when n = 0)
#include <cstdint>

#include "cross_entropy.cuh"
#include "cuda_common.cuh"
#include "kl.cuh"

namespace frl {
namespace {

constexpr int kThreads = 1024;

__device__ __forceinline__ bool valid(const int32_t* mask, int64_t t) { return mask == nullptr || mask[t] != 0; }

// Block-wide sums of (v, c) over kThreads threads; the result is valid in thread 0.
__device__ void block_sum2(float& v, float& c) {
  __shared__ float sv[kThreads], sc[kThreads];
  sv[threadIdx.x] = v;
  sc[threadIdx.x] = c;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      sv[threadIdx.x] += sv[threadIdx.x + s];
      sc[threadIdx.x] += sc[threadIdx.x + s];
    }
    __syncthreads();
  }
  v = sv[0];
  c = sc[0];
}

// One block: loss[0] = −Σ_valid logp / n. The count is summed in float: exact up to 2^24 rows.
__global__ void masked_mean_nll_kernel(const float* logp, const int32_t* mask, int64_t T, float* loss) {
  float sum = 0.0f, n = 0.0f;
  for (int64_t t = threadIdx.x; t < T; t += blockDim.x)
    if (valid(mask, t)) {
      sum += logp[t];
      n += 1.0f;
    }
  block_sum2(sum, n);
  if (threadIdx.x == 0) loss[0] = n == 0.0f ? 0.0f : -sum / n;
}

// One block: count the valid rows, then grad_logp[t] = −grad_loss · valid_t / n.
__global__ void grad_logp_kernel(const int32_t* mask, int64_t T, float grad_loss, float* grad_logp) {
  float unused = 0.0f, n = 0.0f;
  for (int64_t t = threadIdx.x; t < T; t += blockDim.x) n += valid(mask, t) ? 1.0f : 0.0f;
  block_sum2(unused, n);
  const float g = n == 0.0f ? 0.0f : -grad_loss / n;
  for (int64_t t = threadIdx.x; t < T; t += blockDim.x) grad_logp[t] = valid(mask, t) ? g : 0.0f;
}

}  // namespace

namespace cuda {

void cross_entropy_forward(const frl_ctx* ctx, frl_dtype dtype, const void* logits, const int32_t* targets,
                           const int32_t* mask, int64_t T, int64_t V, float* loss, float* logp, float* lse) {
  Scratch scratch(ctx, logp ? 0 : static_cast<size_t>(T) * sizeof(float));
  float* lp = logp ? logp : scratch.as<float>();
  if (T > 0) {
    cpu::KlOutputs out;
    out.logp_policy = lp;
    out.lse_policy = lse;
    token_logprobs_forward(ctx, dtype, logits, nullptr, targets, mask, T, V, out);
  }
  masked_mean_nll_kernel<<<1, kThreads, 0, cuda_stream(ctx)>>>(lp, mask, T, loss);
  FRL_CUDA_CHECK_LAUNCH();
}

void cross_entropy_backward(const frl_ctx* ctx, frl_dtype dtype, const void* logits, const int32_t* targets,
                            const int32_t* mask, const float* lse, float grad_loss, frl_dtype grad_dtype,
                            void* dlogits, int64_t T, int64_t V, bool accumulate) {
  if (T == 0) return;
  Scratch grad_logp(ctx, static_cast<size_t>(T) * sizeof(float));
  grad_logp_kernel<<<1, kThreads, 0, cuda_stream(ctx)>>>(mask, T, grad_loss, grad_logp.as<float>());
  FRL_CUDA_CHECK_LAUNCH();
  token_logprobs_backward(ctx, dtype, logits, targets, mask, grad_logp.as<float>(), lse, grad_dtype, dlogits, T, V,
                          accumulate);
}

}  // namespace cuda
}  // namespace frl

// CUDA kernels of GELU (factrl/gelu.h): elementwise, storage float or bf16 (template parameter T),
// math in fp32 (erff, tanhf, expf; the library builds with --use_fast_math, so expf is __expf: a
// few ulp, inside the GPU check's tolerance), one rounding per stored element. Grid-stride loops of 256-thread blocks, at most kMaxBlocks blocks.
#include <algorithm>
#include <cstdint>

#include "cuda_common.cuh"
#include "gelu.cuh"

namespace frl {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 4096;
constexpr float kInvSqrt2 = 0.70710678118654752f;     // 1/√2
constexpr float kInvSqrt2Pi = 0.39894228040143268f;   // 1/√(2π)
constexpr float kSqrt2OverPi = 0.79788456080286536f;  // √(2/π)
constexpr float kCubic = 0.044715f;

int blocks_for(int64_t n) {
  return static_cast<int>(std::min<int64_t>(kMaxBlocks, std::max<int64_t>(1, (n + kThreads - 1) / kThreads)));
}

// erf:  y = ½x(1 + erf(x/√2))                      y' = Φ(x) + x φ(x)
// tanh: u = √(2/π)(x + 0.044715x³), y = ½x(1 + tanh u)
//       y' = ½(1 + t) + ½x(1 − t²)√(2/π)(1 + 3·0.044715x²), t = tanh u
__device__ __forceinline__ float gelu(float x, bool tanh_approx) {
  if (tanh_approx) return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + kCubic * x * x * x)));
  return 0.5f * x * (1.0f + erff(x * kInvSqrt2));
}

__device__ __forceinline__ float gelu_grad(float x, bool tanh_approx) {
  if (tanh_approx) {
    const float t = tanhf(kSqrt2OverPi * (x + kCubic * x * x * x));
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kCubic * x * x);
  }
  return 0.5f * (1.0f + erff(x * kInvSqrt2)) + x * kInvSqrt2Pi * expf(-0.5f * x * x);
}

// y_i = gelu(x_i)
template <typename T>
__global__ void gelu_forward_kernel(const T* x, T* y, int64_t n, bool tanh_approx) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += gridDim.x * static_cast<int64_t>(blockDim.x))
    y[i] = from_f32<T>(gelu(to_f32(x[i]), tanh_approx));
}

// dx_i (+)= dy_i · gelu'(x_i)
template <typename T>
__global__ void gelu_backward_kernel(const T* x, const T* dy, T* dx, int64_t n, bool tanh_approx, bool accumulate) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += gridDim.x * static_cast<int64_t>(blockDim.x)) {
    const float v = to_f32(dy[i]) * gelu_grad(to_f32(x[i]), tanh_approx);
    dx[i] = from_f32<T>(accumulate ? to_f32(dx[i]) + v : v);
  }
}

}  // namespace

namespace cuda {

void gelu_forward(const frl_ctx* ctx, frl_dtype dtype, const void* x, void* y, int64_t n, bool tanh_approx) {
  if (n == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  if (dtype == FRL_BF16)
    gelu_forward_kernel<<<blocks_for(n), kThreads, 0, st>>>(static_cast<const __nv_bfloat16*>(x),
                                                            static_cast<__nv_bfloat16*>(y), n, tanh_approx);
  else
    gelu_forward_kernel<<<blocks_for(n), kThreads, 0, st>>>(static_cast<const float*>(x), static_cast<float*>(y), n,
                                                            tanh_approx);
  FRL_CUDA_CHECK_LAUNCH();
}

void gelu_backward(const frl_ctx* ctx, frl_dtype dtype, const void* x, const void* dy, void* dx, int64_t n,
                   bool tanh_approx, bool accumulate) {
  if (n == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  if (dtype == FRL_BF16)
    gelu_backward_kernel<<<blocks_for(n), kThreads, 0, st>>>(static_cast<const __nv_bfloat16*>(x),
                                                             static_cast<const __nv_bfloat16*>(dy),
                                                             static_cast<__nv_bfloat16*>(dx), n, tanh_approx,
                                                             accumulate);
  else
    gelu_backward_kernel<<<blocks_for(n), kThreads, 0, st>>>(static_cast<const float*>(x),
                                                             static_cast<const float*>(dy), static_cast<float*>(dx),
                                                             n, tanh_approx, accumulate);
  FRL_CUDA_CHECK_LAUNCH();
}

}  // namespace cuda
}  // namespace frl

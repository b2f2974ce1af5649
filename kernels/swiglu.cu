// CUDA kernels of the SwiGLU gate (factrl/swiglu.h): elementwise, grid-stride, storage float or
// bf16 (template parameter T), math in fp32 with the CPU reference's formulas (cpu/swiglu_cpu.cpp),
// one rounding per stored element. The library builds with --use_fast_math: expf is __expf and the
// division approximate (a few ulp, inside the GPU check's tolerance); σ stays exact at the ends
// (e^{−a} = +inf for a < −88 gives 1/inf = 0, never NaN).
#include <cstdint>

#include "cuda_common.cuh"
#include "swiglu.cuh"

namespace frl {
namespace {

__device__ __forceinline__ float sigmoid(float a) { return 1.0f / (1.0f + expf(-a)); }

// out_i = a_i·σ(a_i)·b_i; each thread reads a_i, b_i before writing out_i (out may be a or b).
template <typename T>
__global__ void swiglu_forward_kernel(const T* a, const T* b, T* out, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += gridDim.x * static_cast<int64_t>(blockDim.x)) {
    const float av = to_f32(a[i]);
    out[i] = from_f32<T>(av * sigmoid(av) * to_f32(b[i]));
  }
}

// s = σ(a_i): da_i (+)= g·b·s·(1 + a(1 − s)), db_i (+)= g·a·s.
template <typename T>
__global__ void swiglu_backward_kernel(const T* a, const T* b, const T* dout, T* da, T* db, int64_t n,
                                       bool accumulate) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += gridDim.x * static_cast<int64_t>(blockDim.x)) {
    const float av = to_f32(a[i]), bv = to_f32(b[i]), g = to_f32(dout[i]);
    const float s = sigmoid(av);
    const float ga = g * bv * s * (1.0f + av * (1.0f - s));
    const float gb = g * av * s;
    if (da) da[i] = from_f32<T>(accumulate ? to_f32(da[i]) + ga : ga);
    if (db) db[i] = from_f32<T>(accumulate ? to_f32(db[i]) + gb : gb);
  }
}

}  // namespace

namespace cuda {

void swiglu_forward(const frl_ctx* ctx, frl_dtype dtype, const void* a, const void* b, void* out, int64_t n) {
  if (n == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  dispatch_float_storage(dtype, [&](auto zero) {
    using T = decltype(zero);
    swiglu_forward_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, st>>>(
        static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(out), n);
    FRL_CUDA_CHECK_LAUNCH();
  });
}

void swiglu_backward(const frl_ctx* ctx, frl_dtype dtype, const void* a, const void* b, const void* dout, void* da,
                     void* db, int64_t n, bool accumulate) {
  if (n == 0 || (da == nullptr && db == nullptr)) return;
  cudaStream_t st = cuda_stream(ctx);
  dispatch_float_storage(dtype, [&](auto zero) {
    using T = decltype(zero);
    swiglu_backward_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, st>>>(
        static_cast<const T*>(a), static_cast<const T*>(b), static_cast<const T*>(dout), static_cast<T*>(da),
        static_cast<T*>(db), n, accumulate);
    FRL_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace cuda
}  // namespace frl

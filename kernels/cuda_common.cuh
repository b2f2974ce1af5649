// Shared by every CUDA file: error checks that become frl::Error, bf16 load/store helpers,
// and access to the context's stream.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "engine.h"

namespace frl {

// Throws frl::Error(FRL_ERR_DEVICE) carrying the CUDA error string and the failing call.
void cuda_check(cudaError_t err, const char* what, const char* file, int line);
#define FRL_CUDA_CHECK(call) ::frl::cuda_check((call), #call, __FILE__, __LINE__)
// After a kernel launch: reports launch-configuration errors immediately.
#define FRL_CUDA_CHECK_LAUNCH() ::frl::cuda_check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)

// The stream of a CUDA context (the context must be a CUDA one).
cudaStream_t cuda_stream(const frl_ctx* ctx);
#ifdef FACTRL_WITH_CUBLAS
struct CublasHandles;
CublasHandles& cublas_handles(const frl_ctx* ctx);
#endif

// fp32 <-> storage type, so kernels are templated on the storage type (float or __nv_bfloat16).
__device__ __forceinline__ float to_f32(float x) { return x; }
__device__ __forceinline__ float to_f32(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename T> __device__ __forceinline__ T from_f32(float x);
template <> __device__ __forceinline__ float from_f32<float>(float x) { return x; }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float x) { return __float2bfloat16(x); }

inline int ceil_div(int64_t a, int64_t b) { return static_cast<int>((a + b - 1) / b); }

}  // namespace frl

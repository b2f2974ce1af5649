// Shared by every CUDA file: error checks that become frl::Error, bf16 load/store helpers, access to
// the context's stream and memory pool, and the device-side error flag.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "device_error.h"
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

// ---- stream-ordered scratch memory from the context's pool ----------------------------------------
// Allocation and release are queued on the context's stream (cudaMallocFromPoolAsync /
// cudaFreeAsync): no host synchronisation, and memory released by one op is reused by the next
// without a cudaMalloc once the pool has grown to the step's peak.
void* cuda_pool_alloc(const frl_ctx* ctx, size_t bytes);
void cuda_pool_free(const frl_ctx* ctx, void* ptr) noexcept;

// Scratch memory for the duration of one launcher (bytes == 0: none, as<T>() is null).
class Scratch {
 public:
  Scratch(const frl_ctx* ctx, size_t bytes) : ctx_(ctx) {
    if (bytes > 0) ptr_ = cuda_pool_alloc(ctx, bytes);
  }
  ~Scratch() {
    if (ptr_) cuda_pool_free(ctx_, ptr_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <typename T>
  T* as() const { return static_cast<T*>(ptr_); }

 private:
  const frl_ctx* ctx_;
  void* ptr_ = nullptr;
};

// ---- device-side error flag (the record, its key and its message: device_error.h) ------------------
// The context's record (device memory).
DeviceErrorRecord* cuda_error_record(const frl_ctx* ctx);

#ifdef __CUDACC__
__device__ __forceinline__ void report_device_error(DeviceErrorRecord* rec, DeviceOp op, int64_t row, int32_t value,
                                                    int64_t bound) {
  const unsigned prev = atomicCAS(&rec->op, 0u, static_cast<unsigned>(op));
  if (prev != 0u && prev != static_cast<unsigned>(op)) return;  // an earlier op's error is kept
  atomicMax(&rec->inv_key, ~device_error_key(row, value));
  atomicExch(reinterpret_cast<unsigned long long*>(&rec->bound), static_cast<unsigned long long>(bound));
}
#endif

// fp32 <-> storage type, so kernels are templated on the storage type (float or __nv_bfloat16).
__device__ __forceinline__ float to_f32(float x) { return x; }
__device__ __forceinline__ float to_f32(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename T> __device__ __forceinline__ T from_f32(float x);
template <> __device__ __forceinline__ float from_f32<float>(float x) { return x; }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float x) { return __float2bfloat16(x); }

inline int ceil_div(int64_t a, int64_t b) { return static_cast<int>((a + b - 1) / b); }

// Blocks of an elementwise grid-stride launch over n items: enough to fill the GPU, at most
// kGridStrideMaxBlocks (each thread then loops), at least 1.
constexpr int kGridStrideThreads = 256;
constexpr int64_t kGridStrideMaxBlocks = 4096;
inline int grid_stride_blocks(int64_t n) {
  const int64_t b = (n + kGridStrideThreads - 1) / kGridStrideThreads;
  return static_cast<int>(b < 1 ? 1 : (b > kGridStrideMaxBlocks ? kGridStrideMaxBlocks : b));
}

// Sum over the 32 lanes of a warp (butterfly: every lane gets the total, in a fixed order).
__device__ __forceinline__ float warp_sum(float v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

// Dispatch on the storage dtype: fn(float{}) or fn(__nv_bfloat16{}) — the launchers take the
// element type from the argument (decltype), so one body serves both storages.
template <typename Fn>
void dispatch_float_storage(frl_dtype dtype, Fn&& fn) {
  if (dtype == FRL_BF16)
    fn(__nv_bfloat16{});
  else
    fn(float{});
}

}  // namespace frl

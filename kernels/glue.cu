// CUDA kernels of the glue ops (factrl/glue.h). Storage float or bf16 (template parameter T), math
// in fp32, one rounding per stored element. Memory-bound one-pass kernels: a grid-stride loop of
// 256-thread blocks, at most kMaxBlocks blocks (enough to fill an H100/H200 several times over).
// Row indices are checked in the kernel; a bad one skips its row and is reported to the context's
// device error flag (device_error.h), which the next sync point reads: no host synchronisation here.
#include <algorithm>
#include <cstdint>

#include "cuda_common.cuh"
#include "glue.cuh"

namespace frl {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 4096;

int blocks_for(int64_t n) { return static_cast<int>(std::min<int64_t>(kMaxBlocks, std::max<int64_t>(1, (n + kThreads - 1) / kThreads))); }

// y_i = a_i + b_i
template <typename T>
__global__ void add_kernel(const T* a, const T* b, T* y, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += gridDim.x * static_cast<int64_t>(blockDim.x))
    y[i] = from_f32<T>(to_f32(a[i]) + to_f32(b[i]));
}

// y_i = y_i + alpha x_i
template <typename T>
__global__ void axpy_kernel(float alpha, const T* x, T* y, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += gridDim.x * static_cast<int64_t>(blockDim.x))
    y[i] = from_f32<T>(to_f32(y[i]) + alpha * to_f32(x[i]));
}

// y_i = alpha x_i
template <typename T>
__global__ void scale_kernel(float alpha, const T* x, T* y, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += gridDim.x * static_cast<int64_t>(blockDim.x))
    y[i] = from_f32<T>(alpha * to_f32(x[i]));
}

// t_i = bits (U: uint32_t or uint16_t, the element's bit pattern)
template <typename U>
__global__ void fill_kernel(U* t, U bits, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += gridDim.x * static_cast<int64_t>(blockDim.x))
    t[i] = bits;
}

// dst_i = S -> D conversion: __float2bfloat16 rounds to nearest even (as frl::f32_to_bf16), NaN stays NaN.
template <typename S, typename D>
__global__ void cast_kernel(const S* src, D* dst, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += gridDim.x * static_cast<int64_t>(blockDim.x))
    dst[i] = from_f32<D>(to_f32(src[i]));
}

// dst[i, j] = src[idx[i], j] for idx[i] in [0, R); one thread per output element (e = i·width + j).
template <typename U>
__global__ void gather_rows_kernel(const U* src, const int32_t* idx, U* dst, int64_t n, int64_t R, int64_t width,
                                   DeviceErrorRecord* rec) {
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n * width; e += gridDim.x * static_cast<int64_t>(blockDim.x)) {
    const int64_t i = e / width, j = e - i * width;
    const int64_t r = idx[i];
    if (r < 0 || r >= R) {
      if (j == 0) report_device_error(rec, kOpGatherRows, i, static_cast<int32_t>(r), R);
      continue;
    }
    dst[e] = src[r * width + j];
  }
}

// dst[idx[i], j] = src[i, j] for idx[i] in [0, R); one thread per source element.
template <typename U>
__global__ void scatter_rows_kernel(const U* src, const int32_t* idx, U* dst, int64_t n, int64_t R, int64_t width,
                                    DeviceErrorRecord* rec) {
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n * width; e += gridDim.x * static_cast<int64_t>(blockDim.x)) {
    const int64_t i = e / width, j = e - i * width;
    const int64_t r = idx[i];
    if (r < 0 || r >= R) {
      if (j == 0) report_device_error(rec, kOpScatterRows, i, static_cast<int32_t>(r), R);
      continue;
    }
    dst[r * width + j] = src[e];
  }
}

// dst[idx[i], j] += src[i, j]: one thread per column j, looping over i in ascending order, so a
// repeated index adds in a fixed order without atomics (the CPU's order: F32 sums agree bitwise).
template <typename T>
__global__ void scatter_add_rows_kernel(const T* src, const int32_t* idx, T* dst, int64_t n, int64_t R, int64_t width,
                                        DeviceErrorRecord* rec) {
  for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < width; j += gridDim.x * static_cast<int64_t>(blockDim.x)) {
    for (int64_t i = 0; i < n; i++) {
      const int64_t r = idx[i];
      if (r < 0 || r >= R) {
        if (j == 0) report_device_error(rec, kOpScatterRows, i, static_cast<int32_t>(r), R);
        continue;
      }
      T* out = dst + r * width + j;
      *out = from_f32<T>(to_f32(*out) + to_f32(src[i * width + j]));
    }
  }
}

}  // namespace

namespace cuda {

void add(const frl_ctx* ctx, frl_dtype dtype, const void* a, const void* b, void* y, int64_t n) {
  if (n == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  if (dtype == FRL_BF16)
    add_kernel<<<blocks_for(n), kThreads, 0, st>>>(static_cast<const __nv_bfloat16*>(a), static_cast<const __nv_bfloat16*>(b),
                                                   static_cast<__nv_bfloat16*>(y), n);
  else
    add_kernel<<<blocks_for(n), kThreads, 0, st>>>(static_cast<const float*>(a), static_cast<const float*>(b),
                                                   static_cast<float*>(y), n);
  FRL_CUDA_CHECK_LAUNCH();
}

void axpy(const frl_ctx* ctx, frl_dtype dtype, float alpha, const void* x, void* y, int64_t n) {
  if (n == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  if (dtype == FRL_BF16)
    axpy_kernel<<<blocks_for(n), kThreads, 0, st>>>(alpha, static_cast<const __nv_bfloat16*>(x),
                                                    static_cast<__nv_bfloat16*>(y), n);
  else
    axpy_kernel<<<blocks_for(n), kThreads, 0, st>>>(alpha, static_cast<const float*>(x), static_cast<float*>(y), n);
  FRL_CUDA_CHECK_LAUNCH();
}

void scale(const frl_ctx* ctx, frl_dtype dtype, float alpha, const void* x, void* y, int64_t n) {
  if (n == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  if (dtype == FRL_BF16)
    scale_kernel<<<blocks_for(n), kThreads, 0, st>>>(alpha, static_cast<const __nv_bfloat16*>(x),
                                                     static_cast<__nv_bfloat16*>(y), n);
  else
    scale_kernel<<<blocks_for(n), kThreads, 0, st>>>(alpha, static_cast<const float*>(x), static_cast<float*>(y), n);
  FRL_CUDA_CHECK_LAUNCH();
}

void fill(const frl_ctx* ctx, void* t, uint32_t bits, size_t elem_bytes, int64_t n) {
  if (n == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  if (elem_bytes == 4)
    fill_kernel<<<blocks_for(n), kThreads, 0, st>>>(static_cast<uint32_t*>(t), bits, n);
  else
    fill_kernel<<<blocks_for(n), kThreads, 0, st>>>(static_cast<uint16_t*>(t), static_cast<uint16_t>(bits), n);
  FRL_CUDA_CHECK_LAUNCH();
}

void cast(const frl_ctx* ctx, frl_dtype src_dtype, const void* src, frl_dtype dst_dtype, void* dst, int64_t n) {
  if (n == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  if (src_dtype == dst_dtype) {
    FRL_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * dtype_size(src_dtype), cudaMemcpyDeviceToDevice, st));
    return;
  }
  if (src_dtype == FRL_F32)
    cast_kernel<<<blocks_for(n), kThreads, 0, st>>>(static_cast<const float*>(src), static_cast<__nv_bfloat16*>(dst), n);
  else
    cast_kernel<<<blocks_for(n), kThreads, 0, st>>>(static_cast<const __nv_bfloat16*>(src), static_cast<float*>(dst), n);
  FRL_CUDA_CHECK_LAUNCH();
}

void gather_rows(frl_ctx* ctx, size_t elem_bytes, const void* src, const int32_t* idx, void* dst, int64_t n,
                 int64_t R, int64_t width) {
  if (n * width == 0) return;
  DeviceErrorRecord* rec = cuda_error_record(ctx);
  cudaStream_t st = cuda_stream(ctx);
  const int blocks = blocks_for(n * width);
  if (elem_bytes == 4)
    gather_rows_kernel<<<blocks, kThreads, 0, st>>>(static_cast<const uint32_t*>(src), idx, static_cast<uint32_t*>(dst), n,
                                                    R, width, rec);
  else
    gather_rows_kernel<<<blocks, kThreads, 0, st>>>(static_cast<const uint16_t*>(src), idx, static_cast<uint16_t*>(dst), n,
                                                    R, width, rec);
  FRL_CUDA_CHECK_LAUNCH();
}

void scatter_rows(frl_ctx* ctx, size_t elem_bytes, const void* src, const int32_t* idx, void* dst, int64_t n,
                  int64_t R, int64_t width) {
  if (n * width == 0) return;
  DeviceErrorRecord* rec = cuda_error_record(ctx);
  cudaStream_t st = cuda_stream(ctx);
  const int blocks = blocks_for(n * width);
  if (elem_bytes == 4)
    scatter_rows_kernel<<<blocks, kThreads, 0, st>>>(static_cast<const uint32_t*>(src), idx, static_cast<uint32_t*>(dst), n,
                                                     R, width, rec);
  else
    scatter_rows_kernel<<<blocks, kThreads, 0, st>>>(static_cast<const uint16_t*>(src), idx, static_cast<uint16_t*>(dst), n,
                                                     R, width, rec);
  FRL_CUDA_CHECK_LAUNCH();
}

void scatter_add_rows(frl_ctx* ctx, frl_dtype dtype, const void* src, const int32_t* idx, void* dst, int64_t n,
                      int64_t R, int64_t width) {
  if (n * width == 0) return;
  DeviceErrorRecord* rec = cuda_error_record(ctx);
  cudaStream_t st = cuda_stream(ctx);
  const int blocks = blocks_for(width);
  if (dtype == FRL_BF16)
    scatter_add_rows_kernel<<<blocks, kThreads, 0, st>>>(static_cast<const __nv_bfloat16*>(src), idx,
                                                         static_cast<__nv_bfloat16*>(dst), n, R, width, rec);
  else
    scatter_add_rows_kernel<<<blocks, kThreads, 0, st>>>(static_cast<const float*>(src), idx, static_cast<float*>(dst), n,
                                                         R, width, rec);
  FRL_CUDA_CHECK_LAUNCH();
}

}  // namespace cuda
}  // namespace frl

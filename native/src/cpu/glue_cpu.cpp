// CPU reference of the glue ops: plain loops the compiler vectorises, OpenMP for large tensors.
// Each is memory-bound, so one pass over the data is all there is to do.
#include "cpu/glue_cpu.h"

#include <algorithm>
#include <cstring>

#include "engine.h"

namespace frl {
namespace cpu {
namespace {
// Below this many elements a parallel region costs more than the loop itself.
constexpr int64_t kParallelElements = 1 << 16;
// Columns per task of the scatter-add: no two threads touch one element, each element adds its
// rows in ascending i (the same order as the CUDA kernel, so F32 sums agree bitwise).
constexpr int64_t kColumnBlock = 256;
}  // namespace

// y_i = a_i + b_i
void add(const float* a, const float* b, float* y, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelElements)
  for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

// y_i = y_i + alpha x_i
void axpy(float alpha, const float* x, float* y, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelElements)
  for (int64_t i = 0; i < n; i++) y[i] = y[i] + alpha * x[i];
}

// y_i = alpha x_i
void scale(float alpha, const float* x, float* y, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelElements)
  for (int64_t i = 0; i < n; i++) y[i] = alpha * x[i];
}

void fill(void* t, uint32_t bits, size_t elem_bytes, int64_t n) {
  if (elem_bytes == 4) {
    std::fill(static_cast<uint32_t*>(t), static_cast<uint32_t*>(t) + n, bits);
  } else {
    std::fill(static_cast<uint16_t*>(t), static_cast<uint16_t*>(t) + n, static_cast<uint16_t>(bits));
  }
}

// dst_i = rne_bf16(src_i) (frl::f32_to_bf16: the rounding every bf16 tensor write uses)
void cast_f32_to_bf16(const float* src, uint16_t* dst, int64_t n) {
#pragma omp parallel for schedule(static) if (n > kParallelElements)
  for (int64_t i = 0; i < n; i++) dst[i] = f32_to_bf16(src[i]);
}

void cast_bf16_to_f32(const uint16_t* src, float* dst, int64_t n) {
#pragma omp parallel for schedule(static) if (n > kParallelElements)
  for (int64_t i = 0; i < n; i++) dst[i] = bf16_to_f32(src[i]);
}

// dst[i, :] = src[idx[i], :]
void gather_rows(const void* src, const int32_t* idx, void* dst, int64_t n, size_t row_bytes) {
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
#pragma omp parallel for schedule(static) if (n * static_cast<int64_t>(row_bytes) > 4 * kParallelElements)
  for (int64_t i = 0; i < n; i++) std::memcpy(d + i * row_bytes, s + static_cast<int64_t>(idx[i]) * row_bytes, row_bytes);
}

// dst[idx[i], :] = src[i, :], serially: with a repeated index the last row must win.
void scatter_rows(const void* src, const int32_t* idx, void* dst, int64_t n, size_t row_bytes) {
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
  for (int64_t i = 0; i < n; i++) std::memcpy(d + static_cast<int64_t>(idx[i]) * row_bytes, s + i * row_bytes, row_bytes);
}

// dst[idx[i], j] += src[i, j], ascending i for every (row, j)
void scatter_add_rows(const float* src, const int32_t* idx, float* dst, int64_t n, int64_t width) {
  const int64_t blocks = (width + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for schedule(dynamic, 1) if (n * width > kParallelElements)
  for (int64_t blk = 0; blk < blocks; blk++) {
    const int64_t j0 = blk * kColumnBlock, w = std::min(kColumnBlock, width - j0);
    for (int64_t i = 0; i < n; i++) {
      float* out = dst + static_cast<int64_t>(idx[i]) * width + j0;
      const float* in = src + i * width + j0;
#pragma omp simd
      for (int64_t j = 0; j < w; j++) out[j] += in[j];
    }
  }
}

}  // namespace cpu
}  // namespace frl

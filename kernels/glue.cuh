// Host launchers of the glue ops' CUDA kernels (kernels/glue.cu). Plain C++ so that
// native/src/glue_api.cpp (compiled by the host compiler) can include it. The C API has checked
// shapes and dtypes; pointers are device pointers of the context; work is queued on its stream and
// nothing here synchronises the host.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine.h"

namespace frl {
namespace cuda {

// dtype FRL_F32 or FRL_BF16 for every float tensor of one call; math in fp32.
void add(const frl_ctx* ctx, frl_dtype dtype, const void* a, const void* b, void* y, int64_t n);
void axpy(const frl_ctx* ctx, frl_dtype dtype, float alpha, const void* x, void* y, int64_t n);
void scale(const frl_ctx* ctx, frl_dtype dtype, float alpha, const void* x, void* y, int64_t n);
// Every element of t (elem_bytes 4 or 2) set to the bit pattern `bits`.
void fill(const frl_ctx* ctx, void* t, uint32_t bits, size_t elem_bytes, int64_t n);
// F32 -> BF16 (round to nearest even) or BF16 -> F32.
void cast(const frl_ctx* ctx, frl_dtype src_dtype, const void* src, frl_dtype dst_dtype, void* dst, int64_t n);
// dst[i, :] = src[idx[i], :]; src has R rows; rows of `width` elements of elem_bytes (4 or 2).
// An idx[i] outside [0, R) skips row i and is reported to the context's device error flag.
void gather_rows(frl_ctx* ctx, size_t elem_bytes, const void* src, const int32_t* idx, void* dst, int64_t n,
                 int64_t R, int64_t width);
// dst[idx[i], :] = src[i, :] (any dtype, by elem_bytes); dst has R rows. Bad entries as above.
void scatter_rows(frl_ctx* ctx, size_t elem_bytes, const void* src, const int32_t* idx, void* dst, int64_t n,
                  int64_t R, int64_t width);
// dst[idx[i], :] += src[i, :] in ascending i (float dtype F32 or BF16). Bad entries as above.
void scatter_add_rows(frl_ctx* ctx, frl_dtype dtype, const void* src, const int32_t* idx, void* dst, int64_t n,
                      int64_t R, int64_t width);

}  // namespace cuda
}  // namespace frl

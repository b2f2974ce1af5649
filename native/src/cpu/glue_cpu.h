// CPU reference of the glue ops (fp32; bf16 as storage for fill and cast). Math and conventions:
// factrl/glue.h. Arguments (shapes, dtypes, index range) are checked by native/src/glue_api.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace frl {
namespace cpu {

// y = a + b; y may alias a or b.
void add(const float* a, const float* b, float* y, int64_t n);
// y = y + alpha x; x may alias y.
void axpy(float alpha, const float* x, float* y, int64_t n);
// y = alpha x; y may alias x.
void scale(float alpha, const float* x, float* y, int64_t n);
// n elements of elem_bytes (4 or 2) each set to the bit pattern `bits` (low elem_bytes bytes).
void fill(void* t, uint32_t bits, size_t elem_bytes, int64_t n);
// dst = bf16(src), round to nearest even; and back (exact).
void cast_f32_to_bf16(const float* src, uint16_t* dst, int64_t n);
void cast_bf16_to_f32(const uint16_t* src, float* dst, int64_t n);
// dst row i = src row idx[i]; rows of row_bytes bytes; idx already range-checked.
void gather_rows(const void* src, const int32_t* idx, void* dst, int64_t n, size_t row_bytes);
// dst row idx[i] = src row i, in ascending i (the last repeated index wins).
void scatter_rows(const void* src, const int32_t* idx, void* dst, int64_t n, size_t row_bytes);
// dst row idx[i] += src row i (F32, width floats per row), in ascending i for every element.
void scatter_add_rows(const float* src, const int32_t* idx, float* dst, int64_t n, int64_t width);

}  // namespace cpu
}  // namespace frl

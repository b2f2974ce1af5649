// 8 x 8 fp32 transposes with 256-bit AVX, for packing GEMM panels whose source runs along the other
// axis (rows of x into k-major A panels, rows of W into k-major panels of W^T). Included only by the
// files compiled with -mavx2 or -mavx512f; templates of the kernel type K (see gemm_driver.h).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace frl {
namespace cpu {

// In place: r[i] lane j  <->  r[j] lane i.
template <class K>
inline void transpose8x8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// Reads `lines` (<= 8) source lines of which the k-th element is at line[l] + k (contiguous in k),
// and writes, for k in [0, kc), 8 values dst[k * stride + l] = scale * line[l][k] (0 for l >= lines).
// With stride == 8 the 8 values of each k fill one vector; wider panels call this once per group of 8.
// store8(dst, v) writes the 8 lanes (or fewer, for a 6-row panel).
template <class K, class Store8>
inline void pack_lines_transposed(const float* const* line, int64_t lines, int64_t kc, float scale, float* dst,
                                  int64_t stride, Store8 store8) {
  const __m256 vs = _mm256_set1_ps(scale);
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    __m256 r[8];
    for (int l = 0; l < 8; l++) r[l] = l < lines ? _mm256_loadu_ps(line[l] + k) : _mm256_setzero_ps();
    transpose8x8<K>(r);
    for (int kk = 0; kk < 8; kk++) store8(dst + (k + kk) * stride, _mm256_mul_ps(vs, r[kk]));
  }
  for (; k < kc; k++) {
    alignas(32) float v[8];
    for (int l = 0; l < 8; l++) v[l] = l < lines ? scale * line[l][k] : 0.0f;
    store8(dst + k * stride, _mm256_load_ps(v));
  }
}

}  // namespace cpu
}  // namespace frl

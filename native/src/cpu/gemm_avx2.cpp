// GEMM kernels for AVX2 + FMA (compiled with -mavx2 -mfma; run only where gemm.cpp found both).
//
// Micro-kernel, 6 x 16 tile of C in 12 ymm accumulators (16 registers: 12 + 2 of B + 1 broadcast):
//   for k < kc:  b0, b1 = bp[k][0:8], bp[k][8:16];  for i < 6:  acc[i][:] += ap[k][i] * (b0, b1)
// Partial tiles use masked loads/stores.
#include <immintrin.h>

#include "cpu/gemm_avx_transpose.h"
#include "cpu/gemm_driver.h"
#include "cpu/gemm_few_rows.h"

namespace frl {
namespace cpu {
namespace {

// Lanes [0, n) set (n clamped to [0, 8]).
inline __m256i lane_mask(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n < 0 ? 0 : n > 8 ? 8 : n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

struct Avx2Kernel {
  static constexpr int64_t MR = 6, NR = 16, KC = 512, MC = 96, NC = 2048;

  static void micro(int64_t kc, const float* __restrict ap, const float* __restrict bp, float* __restrict c,
                    int64_t ldc, int64_t mr, int64_t nr, bool overwrite) {
    __m256 acc0[MR], acc1[MR];
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) acc0[i] = acc1[i] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc; k++) {
      const __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
#pragma GCC unroll 6
      for (int i = 0; i < MR; i++) {
        const __m256 a = _mm256_broadcast_ss(ap + i);
        acc0[i] = _mm256_fmadd_ps(a, b0, acc0[i]);
        acc1[i] = _mm256_fmadd_ps(a, b1, acc1[i]);
      }
      ap += MR;
      bp += NR;
    }
    if (nr == NR) {
#pragma GCC unroll 6
      for (int i = 0; i < MR; i++) {
        if (i < mr) {
          float* row = c + i * ldc;
          if (!overwrite) {
            acc0[i] = _mm256_add_ps(acc0[i], _mm256_loadu_ps(row));
            acc1[i] = _mm256_add_ps(acc1[i], _mm256_loadu_ps(row + 8));
          }
          _mm256_storeu_ps(row, acc0[i]);
          _mm256_storeu_ps(row + 8, acc1[i]);
        }
      }
    } else {
      const __m256i m0 = lane_mask(nr), m1 = lane_mask(nr - 8);
#pragma GCC unroll 6
      for (int i = 0; i < MR; i++) {
        if (i < mr) {
          float* row = c + i * ldc;
          if (!overwrite) {
            acc0[i] = _mm256_add_ps(acc0[i], _mm256_maskload_ps(row, m0));
            acc1[i] = _mm256_add_ps(acc1[i], _mm256_maskload_ps(row + 8, m1));
          }
          _mm256_maskstore_ps(row, m0, acc0[i]);
          _mm256_maskstore_ps(row + 8, m1, acc1[i]);
        }
      }
    }
  }

  static void store8(float* dst, __m256 v) { _mm256_storeu_ps(dst, v); }
  static void store6(float* dst, __m256 v) { _mm256_maskstore_ps(dst, lane_mask(6), v); }

  static void pack_a(const MatView& a, float alpha, int64_t i0, int64_t rows, int64_t k0, int64_t kc, float* dst) {
    if (a.cs == 1) {  // rows of A contiguous in k (x, g): transpose 8 x 8 blocks, keep 6 lanes
      const float* line[8];
      for (int64_t i = 0; i < 8; i++) line[i] = a.p + (i0 + (i < rows ? i : 0)) * a.rs + k0;
      pack_lines_transposed<Avx2Kernel>(line, rows, kc, alpha, dst, MR, store6);
    } else if (a.rs == 1) {  // columns of A contiguous in i (g^T, v^T)
      const __m256i m = lane_mask(rows);
      const __m256 va = _mm256_set1_ps(alpha);
      for (int64_t k = 0; k < kc; k++) {
        const __m256 v = _mm256_mul_ps(va, _mm256_maskload_ps(a.p + i0 + (k0 + k) * a.cs, m));
        store6(dst + k * MR, v);
      }
    } else {
      pack_a_strided<Avx2Kernel>(a, alpha, i0, rows, k0, kc, dst);
    }
  }

  static void pack_b(const MatView& b, int64_t k0, int64_t kc, int64_t j0, int64_t cols, float* dst) {
    if (b.cs == 1) {  // rows of B contiguous in j: masked copies
      const __m256i m0 = lane_mask(cols), m1 = lane_mask(cols - 8);
      for (int64_t k = 0; k < kc; k++) {
        const float* src = b.p + (k0 + k) * b.rs + j0;
        _mm256_storeu_ps(dst + k * NR, _mm256_maskload_ps(src, m0));
        _mm256_storeu_ps(dst + k * NR + 8, _mm256_maskload_ps(src + 8, m1));
      }
    } else if (b.rs == 1) {  // columns of B contiguous in k (W^T): 8 x 8 transposes
      for (int64_t g = 0; g < NR; g += 8) {
        const int64_t lines = cols - g < 0 ? 0 : cols - g > 8 ? 8 : cols - g;
        const float* line[8];
        for (int64_t l = 0; l < 8; l++) line[l] = b.p + (j0 + g + (l < lines ? l : 0)) * b.cs + k0;
        pack_lines_transposed<Avx2Kernel>(line, lines, kc, 1.0f, dst + g, NR, store8);
      }
    } else {
      pack_b_strided<Avx2Kernel>(b, k0, kc, j0, cols, dst);
    }
  }
};

inline __m256i few_rows_lane_mask(int64_t n) { return lane_mask(n); }

// Few-rows lanes: 8 rows in one ymm (fused multiply-add, as the micro-kernel). The 8 column
// accumulators are transposed into 8 row vectors of C.
struct Avx2FewRows {
  static constexpr int64_t R = 8, KC = Avx2Kernel::KC;
  using T = __m256;
  static T zero() { return _mm256_setzero_ps(); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static T fma(T x, const float* b, T acc) { return _mm256_fmadd_ps(x, _mm256_broadcast_ss(b), acc); }
  static void store_rows(__m256* r, float* c, int64_t ldc, int64_t rows, int64_t cols, bool overwrite) {
    transpose8x8<Avx2Kernel>(r);
    const __m256i m = few_rows_lane_mask(cols);
    for (int64_t i = 0; i < rows; i++) {
      float* row = c + i * ldc;
      const __m256 v = overwrite ? r[i] : _mm256_add_ps(_mm256_maskload_ps(row, m), r[i]);
      _mm256_maskstore_ps(row, m, v);
    }
  }
  static void store(const T* acc, float* c, int64_t ldc, int64_t rows, int64_t cols, bool overwrite) {
    __m256 r[8];
    for (int j = 0; j < 8; j++) r[j] = acc[j];
    store_rows(r, c, ldc, rows, cols, overwrite);
  }
};

}  // namespace

const GemmBlocking kGemmBlockingAvx2{Avx2Kernel::MR, Avx2Kernel::NR, Avx2Kernel::KC, Avx2Kernel::MC,
                                     Avx2Kernel::NC, 16};

void gemm_few_rows_avx2(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                        bool accumulate, float* xt, int threads) {
  gemm_few_rows<Avx2FewRows>(M, N, segs, nsegs, C, ldc, accumulate, xt, threads);
}

void gemm_blocked_avx2(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                       bool accumulate, const GemmWorkspace& ws) {
  gemm_blocked<Avx2Kernel>(M, N, segs, nsegs, C, ldc, accumulate, ws);
}

}  // namespace cpu
}  // namespace frl

// GEMM kernels for AVX-512 (compiled with -mavx512f -mfma; run only where gemm.cpp found AVX-512).
//
// Micro-kernel, 8 x 32 tile of C in 16 zmm accumulators:
//   for k < kc:  b0, b1 = bp[k][0:16], bp[k][16:32];  for i < 8:  acc[i][:] += ap[k][i] * (b0, b1)
// 16 FMAs per 2 vector loads + 8 broadcasts; partial tiles use masked loads/stores (no scratch tile).
// KC = 512: the 64 KB B micro-panel streams from L2 (10 bytes per cycle of FMA work, far below L2's
// bandwidth), and K <= 512 products write C once instead of reading and writing it per k block.
// GCC 12 warns falsely inside its own AVX-512 intrinsics (their _mm512_undefined_ps() operands).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "cpu/gemm_avx_transpose.h"
#include "cpu/gemm_driver.h"
#include "cpu/gemm_few_rows.h"

namespace frl {
namespace cpu {
namespace {

struct Avx512Kernel {
  static constexpr int64_t MR = 8, NR = 32, KC = 512, MC = 128, NC = 2048;

  static void micro(int64_t kc, const float* __restrict ap, const float* __restrict bp, float* __restrict c,
                    int64_t ldc, int64_t mr, int64_t nr, bool overwrite) {
    __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) acc0[i] = acc1[i] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kc; k++) {
      const __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);
#pragma GCC unroll 8
      for (int i = 0; i < MR; i++) {
        const __m512 a = _mm512_set1_ps(ap[i]);
        acc0[i] = _mm512_fmadd_ps(a, b0, acc0[i]);
        acc1[i] = _mm512_fmadd_ps(a, b1, acc1[i]);
      }
      ap += MR;
      bp += NR;
    }
    const __mmask16 m0 = nr >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : static_cast<__mmask16>((1u << (nr - 16)) - 1);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      if (i < mr) {
        float* row = c + i * ldc;
        if (!overwrite) {
          acc0[i] = _mm512_add_ps(acc0[i], _mm512_maskz_loadu_ps(m0, row));
          acc1[i] = _mm512_add_ps(acc1[i], _mm512_maskz_loadu_ps(m1, row + 16));
        }
        _mm512_mask_storeu_ps(row, m0, acc0[i]);
        _mm512_mask_storeu_ps(row + 16, m1, acc1[i]);
      }
    }
  }

  static void store8(float* dst, __m256 v) { _mm256_storeu_ps(dst, v); }

  static void pack_a(const MatView& a, float alpha, int64_t i0, int64_t rows, int64_t k0, int64_t kc, float* dst) {
    if (a.cs == 1) {  // rows of A contiguous in k (x, g): transpose 8 x 8 blocks
      const float* line[MR];
      for (int64_t i = 0; i < MR; i++) line[i] = a.p + (i0 + (i < rows ? i : 0)) * a.rs + k0;
      pack_lines_transposed<Avx512Kernel>(line, rows, kc, alpha, dst, MR, store8);
    } else if (a.rs == 1) {  // columns of A contiguous in i (g^T, v^T): one masked load per k
      const __mmask16 m = static_cast<__mmask16>((1u << rows) - 1);
      const __m512 va = _mm512_set1_ps(alpha);
      for (int64_t k = 0; k < kc; k++) {
        const __m512 v = _mm512_mul_ps(va, _mm512_maskz_loadu_ps(m, a.p + i0 + (k0 + k) * a.cs));
        _mm512_mask_storeu_ps(dst + k * MR, 0xFF, v);  // the 8 lanes of one k
      }
    } else {
      pack_a_strided<Avx512Kernel>(a, alpha, i0, rows, k0, kc, dst);
    }
  }

  static void pack_b(const MatView& b, int64_t k0, int64_t kc, int64_t j0, int64_t cols, float* dst) {
    if (b.cs == 1) {  // rows of B contiguous in j (W in dx = g W, x in dW = g^T x): masked copies
      const __mmask16 m0 = cols >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << cols) - 1);
      const __mmask16 m1 = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : static_cast<__mmask16>((1u << (cols - 16)) - 1);
      for (int64_t k = 0; k < kc; k++) {
        const float* src = b.p + (k0 + k) * b.rs + j0;
        _mm512_storeu_ps(dst + k * NR, _mm512_maskz_loadu_ps(m0, src));
        _mm512_storeu_ps(dst + k * NR + 16, _mm512_maskz_loadu_ps(m1, src + 16));
      }
    } else if (b.rs == 1) {  // columns of B contiguous in k (W^T in y = x W^T): 8 x 8 transposes
      for (int64_t g = 0; g < NR; g += 8) {
        const int64_t lines = cols - g < 0 ? 0 : cols - g > 8 ? 8 : cols - g;
        const float* line[8];
        for (int64_t l = 0; l < 8; l++) line[l] = b.p + (j0 + g + (l < lines ? l : 0)) * b.cs + k0;
        pack_lines_transposed<Avx512Kernel>(line, lines, kc, 1.0f, dst + g, NR, store8);
      }
    } else {
      pack_b_strided<Avx512Kernel>(b, k0, kc, j0, cols, dst);
    }
  }
};

// Lanes [0, n) set (n clamped to [0, 8]), for 256-bit masked loads and stores.
inline __m256i few_rows_lane_mask(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n < 0 ? 0 : n > 8 ? 8 : n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Few-rows lanes: 8 rows in one ymm (fused multiply-add, as the micro-kernel). The 8 column
// accumulators are transposed into 8 row vectors of C.
struct Avx512FewRows8 {
  static constexpr int64_t R = 8, KC = Avx512Kernel::KC;
  using T = __m256;
  static T zero() { return _mm256_setzero_ps(); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static T fma(T x, const float* b, T acc) { return _mm256_fmadd_ps(x, _mm256_broadcast_ss(b), acc); }
  static void store_rows(__m256* r, float* c, int64_t ldc, int64_t rows, int64_t cols, bool overwrite) {
    transpose8x8<Avx512Kernel>(r);
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

// Few-rows lanes: 16 rows in one zmm; stored as two 8-row halves.
struct Avx512FewRows16 {
  static constexpr int64_t R = 16, KC = Avx512Kernel::KC;
  using T = __m512;
  static T zero() { return _mm512_setzero_ps(); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static T fma(T x, const float* b, T acc) { return _mm512_fmadd_ps(x, _mm512_set1_ps(*b), acc); }
  static void store(const T* acc, float* c, int64_t ldc, int64_t rows, int64_t cols, bool overwrite) {
    __m256 r[8];
    for (int j = 0; j < 8; j++) r[j] = _mm512_castps512_ps256(acc[j]);
    Avx512FewRows8::store_rows(r, c, ldc, rows < 8 ? rows : 8, cols, overwrite);
    if (rows <= 8) return;
    for (int j = 0; j < 8; j++) r[j] = _mm512_castps512_ps256(_mm512_shuffle_f32x4(acc[j], acc[j], 0xEE));  // lanes 8..15
    Avx512FewRows8::store_rows(r, c + 8 * ldc, ldc, rows - 8, cols, overwrite);
  }
};

}  // namespace

const GemmBlocking kGemmBlockingAvx512{Avx512Kernel::MR, Avx512Kernel::NR, Avx512Kernel::KC, Avx512Kernel::MC,
                                       Avx512Kernel::NC, 16};

void gemm_few_rows_avx512(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                          bool accumulate, float* xt, int threads) {
  if (M <= 8) return gemm_few_rows<Avx512FewRows8>(M, N, segs, nsegs, C, ldc, accumulate, xt, threads);
  gemm_few_rows<Avx512FewRows16>(M, N, segs, nsegs, C, ldc, accumulate, xt, threads);
}

void gemm_blocked_avx512(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                         bool accumulate, const GemmWorkspace& ws) {
  gemm_blocked<Avx512Kernel>(M, N, segs, nsegs, C, ldc, accumulate, ws);
}

}  // namespace cpu
}  // namespace frl

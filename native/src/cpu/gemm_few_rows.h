// The GEMM's path for products with few rows of C (a decode step: y = x Wᵀ for one token per
// sequence), shared by every instruction-set file, which instantiates it with its lane type F:
//
//   C[M x N] = (accumulate ? C : 0) + sum_s alpha_s A_s[M x k_s] B_s[k_s x N]
//
// The blocked path (gemm_driver.h) packs a KC x NC panel of B per call; with M of a few rows that
// packing costs more than the multiply. Here B is read in place and the few rows of A are what gets
// packed (once per call, M x K floats): xt[k][i] = alpha_s A_s(i, k), R rows per pass, in lanes.
// For each tile of 8 columns of C and each k, one lane vector of A meets 8 broadcast elements of B:
//
//   for each k block of KC (per segment, in order):
//     acc[c] = 0 (c < 8);  for k ascending:  acc[c][i] += xt[k][i] * B(k, j0 + c)
//     C[i, j0 + c] (=|+=) acc[c][i]
//
// Same bits as the blocked path of the same ISA: each C element is one chain of multiply-adds
// (fused where the ISA's micro-kernel fuses them) over k ascending, restarted at every KC block
// boundary, added to C per block, with A scaled by alpha before the product. So a decode step gives
// the same bits as the full forward of the same tokens, and the thread count cannot change them
// (each tile, all of its k, belongs to one thread).
//
// F provides: R (lanes = rows per pass), KC (the ISA's k block), type T, zero(), load(p) (R floats),
// fma(x, b, acc) = x * (*b) + acc per lane (as the ISA's micro-kernel rounds it), and
// store(acc[8], c, ldc, rows, cols, overwrite): C[i][j] (=|+=) lane i of acc[j], i < rows, j < cols.
// Templates of F only, and F differs per file: no AVX-512 copy can be merged into another unit.
#pragma once

#include <cstdint>

#include "cpu/gemm_types.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace frl {
namespace cpu {

// Floats of packed A the few-rows path needs (the caller's workspace).
template <class F>
inline int64_t few_rows_packed_floats(int64_t M, int64_t total_k) {
  return (M + F::R - 1) / F::R * total_k * F::R;
}

template <class F>
void gemm_few_rows(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc, bool accumulate,
                   float* xt, int threads) {
  constexpr int64_t NT = 8, R = F::R;
  int64_t total_k = 0;
  for (int s = 0; s < nsegs; s++) total_k += segs[s].k;
  const int64_t passes = (M + R - 1) / R;
  // xt[(p * total_k + koff_s + k) * R + i] = alpha_s A_s(p R + i, k), 0 for rows past M.
  for (int64_t p = 0; p < passes; p++) {
    int64_t koff = 0;
    for (int s = 0; s < nsegs; s++) {
      const GemmSegment& sg = segs[s];
      for (int64_t k = 0; k < sg.k; k++) {
        float* dst = xt + (p * total_k + koff + k) * R;
        for (int64_t i = 0; i < R; i++) {
          const int64_t row = p * R + i;
          dst[i] = row < M ? sg.alpha * sg.a.p[row * sg.a.rs + k * sg.a.cs] : 0.0f;
        }
      }
      koff += sg.k;
    }
  }
  const int64_t tiles = (N + NT - 1) / NT;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t t = 0; t < tiles * passes; t++) {
    const int64_t j0 = (t / passes) * NT, p = t % passes;
    const int64_t cols = N - j0 < NT ? N - j0 : NT, row0 = p * R, rows = M - row0 < R ? M - row0 : R;
    float* c = C + row0 * ldc + j0;
    bool first = !accumulate;
    int64_t koff = 0;
    for (int s = 0; s < nsegs; s++) {
      const GemmSegment& sg = segs[s];
      // Columns past N repeat the last one (read, never stored).
      const float* bcol[NT];
      for (int64_t j = 0; j < NT; j++) bcol[j] = sg.b.p + (j0 + (j < cols ? j : cols - 1)) * sg.b.cs;
      const float* xs = xt + (p * total_k + koff) * R;
      for (int64_t pc = 0; pc < sg.k; pc += F::KC) {
        const int64_t kend = sg.k - pc < F::KC ? sg.k : pc + F::KC;
        typename F::T acc[NT];
#pragma GCC unroll 8
        for (int j = 0; j < NT; j++) acc[j] = F::zero();
        for (int64_t k = pc; k < kend; k++) {
          const typename F::T x = F::load(xs + k * R);
          const int64_t kb = k * sg.b.rs;
#pragma GCC unroll 8
          for (int j = 0; j < NT; j++) acc[j] = F::fma(x, bcol[j] + kb, acc[j]);
        }
        F::store(acc, c, ldc, rows, cols, first);
        first = false;
      }
      koff += sg.k;
    }
  }
}

}  // namespace cpu
}  // namespace frl

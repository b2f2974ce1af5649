// The blocked GEMM loops (GotoBLAS/BLIS), shared by every instruction-set file, which instantiates
// them with its own kernel type K:
//
//   K::MR, K::NR, K::KC, K::MC, K::NC                       blocking (see gemm_kernels.h)
//   K::micro(kc, ap, bp, c, ldc, mr, nr, overwrite)          c[0:mr, 0:nr] (=|+=) sum_k ap[k][i] bp[k][j]
//   K::pack_a(view, alpha, i0, rows, k0, kc, dst)           one MR-row micro-panel, k-major, zero-padded
//   K::pack_b(view, k0, kc, j0, cols, dst)                  one NR-column micro-panel, k-major, zero-padded
//
// Everything here is a template of K, and K is a different type in each file, so no function
// compiled with -mavx512f can be merged by the linker into the code another ISA runs (the usual
// trap of inline functions in multi-ISA builds). For the same reason these files use no STL.
//
//   for jc in N step NC:                        (all threads)
//     for each segment, for pc in its k step KC:
//       pack B[pc:pc+kc, jc:jc+nc] once         (omp for over NR micro-panels; barrier)
//       for (row block ic, column chunk) items  (omp for, dynamic; barrier)
//         pack alpha A[ic:ic+mc, pc:pc+kc]      (once per row block per thread)
//         for jr in chunk: for ir in block: micro-kernel
//
// Skinny shapes are split so that every thread works: one row block (dA = s v^T x, r = 16 rows) into
// column chunks, one column panel (u = x A^T, r = 16 columns) into smaller row blocks. Each C element is summed by one thread in a fixed order (k blocks of KC, in order),
// whatever the split: the bits do not depend on the thread count.
#pragma once

#include <cstdint>

#include "cpu/gemm_kernels.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace frl {
namespace cpu {

// dst[k * MR + i] = alpha * A(i0 + i, k0 + k) for i < rows, 0 for rows <= i < MR (any strides).
template <class K>
inline void pack_a_strided(const MatView& a, float alpha, int64_t i0, int64_t rows, int64_t k0, int64_t kc,
                           float* dst) {
  for (int64_t k = 0; k < kc; k++) {
    const float* src = a.p + i0 * a.rs + (k0 + k) * a.cs;
    int64_t i = 0;
    for (; i < rows; i++) dst[k * K::MR + i] = alpha * src[i * a.rs];
    for (; i < K::MR; i++) dst[k * K::MR + i] = 0.0f;
  }
}

// dst[k * NR + j] = B(k0 + k, j0 + j) for j < cols, 0 for cols <= j < NR (any strides).
template <class K>
inline void pack_b_strided(const MatView& b, int64_t k0, int64_t kc, int64_t j0, int64_t cols, float* dst) {
  for (int64_t k = 0; k < kc; k++) {
    const float* src = b.p + (k0 + k) * b.rs + j0 * b.cs;
    int64_t j = 0;
    for (; j < cols; j++) dst[k * K::NR + j] = src[j * b.cs];
    for (; j < K::NR; j++) dst[k * K::NR + j] = 0.0f;
  }
}

template <class K>
inline int64_t gemm_min(int64_t a, int64_t b) {
  return a < b ? a : b;
}

// Tall products (gemm_private_b): each thread packs all of B (N <= NC) into its own buffer, then
// takes whole row blocks; a block's k blocks run in order in one thread. No barrier but the last.
template <class K>
void gemm_blocked_private_b(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                            bool accumulate, const GemmWorkspace& ws) {
  const int64_t mblocks = (M + K::MC - 1) / K::MC;
  const int64_t npanels = (N + K::NR - 1) / K::NR;
#pragma omp parallel num_threads(ws.threads)
  {
#ifdef _OPENMP
    const int64_t tid = omp_get_thread_num();
#else
    const int64_t tid = 0;
#endif
    float* ap = ws.a + tid * ws.a_stride;
    float* bp = ws.b + tid * ws.b_stride;
    int64_t off = 0;  // k blocks of all segments, one after another
    for (int s = 0; s < nsegs; s++) {
      for (int64_t pc = 0; pc < segs[s].k; pc += K::KC) {
        const int64_t kc = gemm_min<K>(K::KC, segs[s].k - pc);
        for (int64_t jr = 0; jr < npanels; jr++)
          K::pack_b(segs[s].b, pc, kc, jr * K::NR, gemm_min<K>(K::NR, N - jr * K::NR), bp + off + jr * kc * K::NR);
        off += kc * npanels * K::NR;
      }
    }
#pragma omp for schedule(dynamic, 1) nowait
    for (int64_t ib = 0; ib < mblocks; ib++) {
      const int64_t ic = ib * K::MC, mc = gemm_min<K>(K::MC, M - ic);
      const int64_t mpanels = (mc + K::MR - 1) / K::MR;
      bool first = !accumulate;
      int64_t boff = 0;
      for (int s = 0; s < nsegs; s++) {
        const GemmSegment& sg = segs[s];
        for (int64_t pc = 0; pc < sg.k; pc += K::KC) {
          const int64_t kc = gemm_min<K>(K::KC, sg.k - pc);
          for (int64_t ir = 0; ir < mpanels; ir++) {
            K::pack_a(sg.a, sg.alpha, ic + ir * K::MR, gemm_min<K>(K::MR, mc - ir * K::MR), pc, kc,
                      ap + ir * kc * K::MR);
          }
          for (int64_t jr = 0; jr < npanels; jr++) {
            const int64_t col = jr * K::NR, nr = gemm_min<K>(K::NR, N - col);
            for (int64_t ir = 0; ir < mpanels; ir++) {
              const int64_t row = ic + ir * K::MR;
              K::micro(kc, ap + ir * kc * K::MR, bp + boff + jr * kc * K::NR, C + row * ldc + col, ldc,
                       gemm_min<K>(K::MR, M - row), nr, first);
            }
          }
          boff += kc * npanels * K::NR;
          first = false;
        }
      }
    }
  }
}

template <class K>
void gemm_blocked(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc, bool accumulate,
                  const GemmWorkspace& ws) {
  if (ws.b_stride > 0) return gemm_blocked_private_b<K>(M, N, segs, nsegs, C, ldc, accumulate, ws);
  const int threads = ws.threads;
  // Rows per block: MC, or fewer when the product is too skinny to give every thread work otherwise
  // (a rank-r term such as u = x A^T has one column panel: its rows must be split).
  int64_t mc_block = K::MC;
  const int64_t panels = ((N < K::NC ? N : K::NC) + K::NR - 1) / K::NR;
  if (threads > 1 && ((M + K::MC - 1) / K::MC) * panels < 4 * threads) {
    const int64_t rows = (M + 2 * threads - 1) / (2 * threads);
    mc_block = (rows + K::MR - 1) / K::MR * K::MR;
    if (mc_block > K::MC) mc_block = K::MC;
  }
  const int64_t mblocks = (M + mc_block - 1) / mc_block;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
#ifdef _OPENMP
    float* ap = ws.a + static_cast<int64_t>(omp_get_thread_num()) * ws.a_stride;
#else
    float* ap = ws.a;
#endif
    for (int64_t jc = 0; jc < N; jc += K::NC) {
      const int64_t nc = gemm_min<K>(K::NC, N - jc);
      const int64_t npanels = (nc + K::NR - 1) / K::NR;
      // Column chunks per row block: about four items per thread, so a thread that the OS stops for
      // a while (the cores are shared) delays the barrier by a small item, not a quarter of the work.
      // A chunk re-packs its A block only when a thread's previous item had another row block.
      int64_t want = (4 * threads + mblocks - 1) / mblocks;
      if (threads == 1) want = 1;
      if (want > npanels) want = npanels;
      const int64_t chunk = (npanels + want - 1) / want;  // micro-panels per chunk
      const int64_t nchunks = (npanels + chunk - 1) / chunk;
      bool first = !accumulate;
      for (int s = 0; s < nsegs; s++) {
        const GemmSegment& sg = segs[s];
        for (int64_t pc = 0; pc < sg.k; pc += K::KC) {
          const int64_t kc = gemm_min<K>(K::KC, sg.k - pc);
#pragma omp for schedule(static)
          for (int64_t jr = 0; jr < npanels; jr++) {
            K::pack_b(sg.b, pc, kc, jc + jr * K::NR, gemm_min<K>(K::NR, nc - jr * K::NR), ws.b + jr * kc * K::NR);
          }
          int64_t packed = -1;  // the row block this thread's A buffer holds (for this k block)
#pragma omp for schedule(dynamic, 1)
          for (int64_t item = 0; item < mblocks * nchunks; item++) {
            const int64_t ib = item / nchunks, ch = item % nchunks;
            const int64_t ic = ib * mc_block, mc = gemm_min<K>(mc_block, M - ic);
            const int64_t mpanels = (mc + K::MR - 1) / K::MR;
            if (ib != packed) {
              for (int64_t ir = 0; ir < mpanels; ir++) {
                K::pack_a(sg.a, sg.alpha, ic + ir * K::MR, gemm_min<K>(K::MR, mc - ir * K::MR), pc, kc,
                          ap + ir * kc * K::MR);
              }
              packed = ib;
            }
            const int64_t jr_end = gemm_min<K>(npanels, (ch + 1) * chunk);
            for (int64_t jr = ch * chunk; jr < jr_end; jr++) {
              const int64_t col = jc + jr * K::NR, nr = gemm_min<K>(K::NR, jc + nc - col);
              for (int64_t ir = 0; ir < mpanels; ir++) {
                const int64_t row = ic + ir * K::MR;
                K::micro(kc, ap + ir * kc * K::MR, ws.b + jr * kc * K::NR, C + row * ldc + col, ldc,
                         gemm_min<K>(K::MR, M - row), nr, first);
              }
            }
          }
          first = false;
        }
      }
    }
  }
}

}  // namespace cpu
}  // namespace frl

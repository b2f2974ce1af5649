// What each instruction-set file of the GEMM exports to the dispatcher (gemm.cpp): its blocking
// (plain data, safe to read on any CPU) and its blocked GEMM (call it only when the CPU supports
// the ISA: it is compiled with -mavx512f / -mavx2 -mfma).
#pragma once

#include <cstdint>

#include "cpu/gemm_types.h"

namespace frl {
namespace cpu {

// Register tile MR x NR of C; k block KC (fixed per ISA: it fixes the summation order); MC rows of
// A packed per block (L2); NC columns of B packed per panel (shared by the threads, L3).
// few_rows: products with at most this many rows of C take the few-rows path (gemm_few_rows.h: B
// read in place, no panel packed), which gives the same bits.
struct GemmBlocking {
  int64_t mr, nr, kc, mc, nc, few_rows;
};

// Caller-owned scratch, 64-byte aligned. a holds `threads` packed A blocks of a_stride >= mc x kc
// floats each. b holds either one shared packed B panel (kc x round_up(min(N, nc), nr) floats;
// b_stride == 0) or, for tall products (gemm_private_b), one packed copy of all of B per thread
// (b_stride >= total_k x round_up(N, nr) floats each).
struct GemmWorkspace {
  float* b;
  float* a;
  int64_t a_stride;
  int64_t b_stride;
  int threads;
};

// Tall products (many row blocks per thread, all of B small) run without any barrier: every thread
// packs its own copy of all of B (a cost of T / M of the work) and takes whole row blocks, summing
// each block's k blocks itself. On shared cores this avoids waiting for a thread the OS has stopped.
inline bool gemm_private_b(const GemmBlocking& bl, int64_t M, int64_t N, int64_t total_k, int threads) {
  const int64_t mblocks = (M + bl.mc - 1) / bl.mc;
  return threads > 1 && N <= bl.nc && mblocks >= 8 * threads &&
         total_k * ((N + bl.nr - 1) / bl.nr * bl.nr) <= (int64_t{1} << 20);
}

extern const GemmBlocking kGemmBlockingAvx512, kGemmBlockingAvx2, kGemmBlockingScalar;

void gemm_blocked_avx512(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                         bool accumulate, const GemmWorkspace& ws);
void gemm_blocked_avx2(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                       bool accumulate, const GemmWorkspace& ws);
void gemm_blocked_scalar(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                         bool accumulate, const GemmWorkspace& ws);

// The few-rows path (gemm_few_rows.h), any M; xt: round_up(M, 16) x total_k floats of scratch.
void gemm_few_rows_avx512(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                          bool accumulate, float* xt, int threads);
void gemm_few_rows_avx2(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                        bool accumulate, float* xt, int threads);
void gemm_few_rows_scalar(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                          bool accumulate, float* xt, int threads);

}  // namespace cpu
}  // namespace frl

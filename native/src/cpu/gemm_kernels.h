// What each instruction-set file of the GEMM exports to the dispatcher (gemm.cpp): its blocking
// (plain data, safe to read on any CPU) and its blocked GEMM (call it only when the CPU supports
// the ISA: it is compiled with -mavx512f / -mavx2 -mfma).
#pragma once

#include <cstdint>

#include "cpu/gemm.h"

namespace frl {
namespace cpu {

// Register tile MR x NR of C; k block KC (fixed per ISA: it fixes the summation order); MC rows of
// A packed per block (L2); NC columns of B packed per panel (shared by the threads, L3).
struct GemmBlocking {
  int64_t mr, nr, kc, mc, nc;
};

// Caller-owned scratch: b holds one packed B panel (kc x round_up(min(N, nc), nr) floats), a holds
// `threads` packed A blocks of a_stride >= mc x kc floats each. 64-byte aligned.
struct GemmWorkspace {
  float* b;
  float* a;
  int64_t a_stride;
  int threads;
};

extern const GemmBlocking kGemmBlockingAvx512, kGemmBlockingAvx2, kGemmBlockingScalar;

void gemm_blocked_avx512(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                         bool accumulate, const GemmWorkspace& ws);
void gemm_blocked_avx2(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                       bool accumulate, const GemmWorkspace& ws);
void gemm_blocked_scalar(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                         bool accumulate, const GemmWorkspace& ws);

}  // namespace cpu
}  // namespace frl

// The CPU GEMM every dense layer runs on (fp32): a K-augmented product over strided views,
//
//   C[M x N] = (accumulate ? C : 0) + sum over segments s of alpha_s * A_s[M x k_s] * B_s[k_s x N]
//
// The segments are consecutive k ranges of one accumulation, so a rank-r LoRA term rides along in
// the same pass over C, and transposed operands (g^T, W^T) are read in place through their strides.
//
// GotoBLAS/BLIS structure (gemm_driver.h): each B panel (KC x NC) is packed once and shared by all
// threads across every row block; each A block (MC x KC) is packed once per (row block, k block);
// an MR x NR register-blocked FMA micro-kernel runs over the packed panels. The micro-kernel and
// packing are compiled per instruction set (gemm_avx512.cpp, gemm_avx2.cpp, gemm_scalar.cpp) and
// chosen at run time (gemm.cpp, with cpu/isa.h): a machine without AVX-512 never executes an AVX-512
// instruction. Include this header only from baseline-ISA files (it includes cpu/isa.h).
//
// Products with few rows of C (M <= the ISA's few_rows, e.g. a decode step's x Wᵀ) skip the
// packing: gemm_few_rows.h reads B in place, with the same summation order, so the same bits.
//
// Determinism: every C element is summed by one thread in a fixed order (segments in order, k blocks
// of the ISA's fixed KC in order, k ascending inside a block, one accumulator per element), so the
// result has the same bits for any thread count. Different ISAs may differ in the last bits (FMA).
#pragma once

#include <cstdint>

#include "cpu/gemm_types.h"
#include "cpu/isa.h"

namespace frl {
namespace cpu {

// The ISA every gemm() call uses: cpu_isa() of cpu/isa.h (the best this CPU supports, checked
// once, lowered by FACTRL_CPU_ISA=avx2|scalar; never above what the CPU has).
Isa gemm_isa();

// True when this CPU can run the kernels of `isa`.
bool isa_supported(Isa isa);

// C = (accumulate ? C : 0) + sum_s alpha_s A_s B_s with the kernels of gemm_isa().
// C is row-major with leading dimension ldc >= N; it must not overlap any A_s or B_s.
void gemm(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc, bool accumulate);

// The same with the kernels of a given ISA (tests compare every supported path with a reference).
// Falls back to gemm_isa() when the CPU does not support `isa`.
void gemm_with_isa(Isa isa, int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                   bool accumulate);

// Which loops run a product: chosen by size (kAuto), or forced (tests compare the two paths' bits).
enum class GemmPath { kAuto, kBlocked, kFewRows };

void gemm_with_path(Isa isa, GemmPath path, int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C,
                    int64_t ldc, bool accumulate);

}  // namespace cpu
}  // namespace frl

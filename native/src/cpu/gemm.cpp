// The GEMM's front: picks the instruction set once, sizes the threads and the reusable workspace,
// and hands over to that ISA's blocked loops (gemm_driver.h). Compiled for baseline x86-64: nothing
// in this file may use AVX; it only calls into gemm_avx2.cpp / gemm_avx512.cpp after checking the CPU.
#include "cpu/gemm.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "cpu/gemm_kernels.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace frl {
namespace cpu {
namespace {

const GemmBlocking& blocking_of(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return kGemmBlockingAvx512;
    case Isa::kAvx2: return kGemmBlockingAvx2;
    default: return kGemmBlockingScalar;
  }
}

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

// Packing scratch, one per calling thread (its OpenMP team uses slices of it), grown on demand and
// kept: a layer's GEMMs reuse it instead of allocating per call.
float* workspace(size_t floats) {
  static thread_local std::unique_ptr<float, FreeDeleter> buffer;
  static thread_local size_t capacity = 0;
  if (floats > capacity) {
    buffer.reset();
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    buffer.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
    capacity = buffer ? floats : 0;
  }
  return buffer.get();
}

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

}  // namespace

bool isa_supported(Isa isa) {
  static const Isa best = detect_hardware_isa();
  return static_cast<int>(isa) <= static_cast<int>(best);
}

Isa gemm_isa() { return cpu_isa(); }

void gemm(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc, bool accumulate) {
  gemm_with_isa(gemm_isa(), M, N, segs, nsegs, C, ldc, accumulate);
}

void gemm_with_isa(Isa isa, int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                   bool accumulate) {
  gemm_with_path(isa, GemmPath::kAuto, M, N, segs, nsegs, C, ldc, accumulate);
}

void gemm_with_path(Isa isa, GemmPath path, int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C,
                    int64_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (!isa_supported(isa)) isa = gemm_isa();
  int64_t total_k = 0;
  for (int s = 0; s < nsegs; s++) total_k += segs[s].k;
  if (total_k == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; i++) std::memset(C + i * ldc, 0, static_cast<size_t>(N) * sizeof(float));
    return;
  }
  const GemmBlocking& bl = blocking_of(isa);
  // Threads: what OpenMP offers, but one for tiny products (a fork costs more than the work) and no
  // more than there are tiles. The count changes who computes a tile, never how it is summed.
  int threads = 1;
#ifdef _OPENMP
  const int64_t tiles = ((M + bl.mr - 1) / bl.mr) * ((N + bl.nr - 1) / bl.nr);
  if (M * N * total_k >= 32768) threads = static_cast<int>(tiles < omp_get_max_threads() ? tiles : omp_get_max_threads());
  if (omp_in_parallel()) threads = 1;
#endif
  if (path == GemmPath::kFewRows || (path == GemmPath::kAuto && M <= bl.few_rows)) {
    // Threads over 8-column tiles (and 16-row passes); one for tiny products, as below.
    int few_threads = 1;
#ifdef _OPENMP
    const int64_t few_tiles = ((N + 7) / 8) * ((M + 15) / 16);
    if (M * N * total_k >= 32768 && !omp_in_parallel())
      few_threads = static_cast<int>(few_tiles < omp_get_max_threads() ? few_tiles : omp_get_max_threads());
#endif
    float* xt = workspace(static_cast<size_t>(round_up(M, 16) * total_k));
    if (xt == nullptr) throw std::bad_alloc();
    switch (isa) {
      case Isa::kAvx512: gemm_few_rows_avx512(M, N, segs, nsegs, C, ldc, accumulate, xt, few_threads); break;
      case Isa::kAvx2: gemm_few_rows_avx2(M, N, segs, nsegs, C, ldc, accumulate, xt, few_threads); break;
      default: gemm_few_rows_scalar(M, N, segs, nsegs, C, ldc, accumulate, xt, few_threads); break;
    }
    return;
  }
  const bool private_b = gemm_private_b(bl, M, N, total_k, threads);
  const int64_t b_stride = private_b ? round_up(total_k * round_up(N, bl.nr), 16) : 0;
  const int64_t b_floats = private_b ? threads * b_stride : round_up(bl.kc * round_up(N < bl.nc ? N : bl.nc, bl.nr), 16);
  const int64_t a_stride = round_up(bl.mc * bl.kc, 16);
  float* scratch = workspace(static_cast<size_t>(b_floats + threads * a_stride));
  if (scratch == nullptr) throw std::bad_alloc();  // the C API guard reports FRL_ERR_MEMORY
  const GemmWorkspace ws{scratch, scratch + b_floats, a_stride, b_stride, threads};
  switch (isa) {
    case Isa::kAvx512: gemm_blocked_avx512(M, N, segs, nsegs, C, ldc, accumulate, ws); break;
    case Isa::kAvx2: gemm_blocked_avx2(M, N, segs, nsegs, C, ldc, accumulate, ws); break;
    default: gemm_blocked_scalar(M, N, segs, nsegs, C, ldc, accumulate, ws); break;
  }
}

}  // namespace cpu
}  // namespace frl

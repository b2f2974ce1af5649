// GEMM kernels for any x86-64 (baseline flags: the fallback where AVX2/FMA is missing, and the
// path FACTRL_CPU_ISA=scalar forces). Plain loops over a 4 x 8 tile; the compiler may use SSE
// along j, which does not change any element's summation order.
#include "cpu/gemm_driver.h"
#include "cpu/gemm_few_rows.h"

namespace frl {
namespace cpu {
namespace {

struct ScalarKernel {
  static constexpr int64_t MR = 4, NR = 8, KC = 256, MC = 64, NC = 2048;

  static void micro(int64_t kc, const float* __restrict ap, const float* __restrict bp, float* __restrict c,
                    int64_t ldc, int64_t mr, int64_t nr, bool overwrite) {
    float acc[MR][NR] = {};
    for (int64_t k = 0; k < kc; k++) {
      for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] += ap[i] * bp[j];
      ap += MR;
      bp += NR;
    }
    for (int64_t i = 0; i < mr; i++)
      for (int64_t j = 0; j < nr; j++) c[i * ldc + j] = overwrite ? acc[i][j] : c[i * ldc + j] + acc[i][j];
  }

  static void pack_a(const MatView& a, float alpha, int64_t i0, int64_t rows, int64_t k0, int64_t kc, float* dst) {
    pack_a_strided<ScalarKernel>(a, alpha, i0, rows, k0, kc, dst);
  }

  static void pack_b(const MatView& b, int64_t k0, int64_t kc, int64_t j0, int64_t cols, float* dst) {
    pack_b_strided<ScalarKernel>(b, k0, kc, j0, cols, dst);
  }
};

// Few-rows lanes: 4 rows in plain floats, multiply then add as in the micro-kernel above.
struct ScalarFewRows {
  static constexpr int64_t R = 4, KC = ScalarKernel::KC;
  struct T {
    float v[R];
  };
  static T zero() { return T{{0.0f, 0.0f, 0.0f, 0.0f}}; }
  static T load(const float* p) { return T{{p[0], p[1], p[2], p[3]}}; }
  static T fma(const T& x, const float* b, T acc) {
    for (int i = 0; i < R; i++) acc.v[i] += x.v[i] * *b;
    return acc;
  }
  static void store(const T* acc, float* c, int64_t ldc, int64_t rows, int64_t cols, bool overwrite) {
    for (int64_t i = 0; i < rows; i++)
      for (int64_t j = 0; j < cols; j++) c[i * ldc + j] = overwrite ? acc[j].v[i] : c[i * ldc + j] + acc[j].v[i];
  }
};

}  // namespace

const GemmBlocking kGemmBlockingScalar{ScalarKernel::MR, ScalarKernel::NR, ScalarKernel::KC, ScalarKernel::MC,
                                       ScalarKernel::NC, 4};

void gemm_few_rows_scalar(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                          bool accumulate, float* xt, int threads) {
  gemm_few_rows<ScalarFewRows>(M, N, segs, nsegs, C, ldc, accumulate, xt, threads);
}

void gemm_blocked_scalar(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc,
                         bool accumulate, const GemmWorkspace& ws) {
  gemm_blocked<ScalarKernel>(M, N, segs, nsegs, C, ldc, accumulate, ws);
}

}  // namespace cpu
}  // namespace frl

// The blocked attention kernels (attention_kernels.h) on plain floats, compiled for the baseline
// ISA: the path of CPUs without AVX2 + FMA, and of FACTRL_CPU_ISA=scalar. The compiler may still
// use the baseline's SSE2 registers.
#include "cpu/attention_isa.h"

#include <math.h>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace frl {
namespace cpu {
namespace {

#ifndef _OPENMP
inline int omp_get_thread_num() { return 0; }
#endif

struct V {
  using T = float;
  static constexpr int W = 1;
  static constexpr int MR = 4;  // register tile 4 rows × 4 columns
  static constexpr int NV = 4;
  static T load(const float* p) { return *p; }
  static void store(float* p, T x) { *p = x; }
  static T set1(float x) { return x; }
  static T zero() { return 0.0f; }
  static T add(T a, T b) { return a + b; }
  static T sub(T a, T b) { return a - b; }
  static T mul(T a, T b) { return a * b; }
  static T fma(T a, T b, T c) { return a * b + c; }
  static T max(T a, T b) { return a > b ? a : b; }
  static T min(T a, T b) { return a < b ? a : b; }
  static T round(T x) { return __builtin_rintf(x); }
  static T pow2n(T n) {
    const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    float y;
    __builtin_memcpy(&y, &bits, sizeof y);
    return y;
  }
  static T zero_below(T x, float t, T y) { return x < t ? 0.0f : y; }
  static float hmax(T x) { return x; }
  static float hsum(T x) { return x; }
};

#include "cpu/attention_kernels.h"

}  // namespace

void attention_forward_scalar(const AttentionArgs& a) { forward<V>(a); }
void attention_backward_scalar(const AttentionArgs& a) { backward<V>(a); }

}  // namespace cpu
}  // namespace frl

// The blocked attention kernels (attention_kernels.h) on 16-lane AVX-512 vectors. This unit alone is
// compiled with -mavx512f -mfma (CMakeLists.txt: every *_avx512.cpp); the dispatcher calls it only
// when cpu_isa() says the CPU and the OS support AVX-512.
#include "cpu/attention_isa.h"

#include <math.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__AVX512F__) && defined(__FMA__)
// GCC 12 warns falsely inside its own AVX-512 intrinsics (their _mm512_undefined_ps() operands).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

namespace frl {
namespace cpu {
namespace {

#ifndef _OPENMP
inline int omp_get_thread_num() { return 0; }
#endif

struct V {
  using T = __m512;
  static constexpr int W = 16;
  static constexpr int MR = 4;  // register tile 4 rows × 4 vectors: 16 accumulators of 32
  static constexpr int NV = 4;
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, T x) { _mm512_storeu_ps(p, x); }
  static T set1(float x) { return _mm512_set1_ps(x); }
  static T zero() { return _mm512_setzero_ps(); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static T min(T a, T b) { return _mm512_min_ps(a, b); }
  static T round(T x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T pow2n(T n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  static T zero_below(T x, float t, T y) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(t), _CMP_LT_OQ), y, _mm512_setzero_ps());
  }
  static float hmax(T x) { return _mm512_reduce_max_ps(x); }
  static float hsum(T x) { return _mm512_reduce_add_ps(x); }
};

#include "cpu/attention_kernels.h"

}  // namespace

void attention_forward_avx512(const AttentionArgs& a) { forward<V>(a); }
void attention_backward_avx512(const AttentionArgs& a) { backward<V>(a); }

}  // namespace cpu
}  // namespace frl

#else  // built without AVX-512 flags (a non-x86 target): never selected, falls back to scalar

namespace frl {
namespace cpu {
void attention_forward_avx512(const AttentionArgs& a) { attention_forward_scalar(a); }
void attention_backward_avx512(const AttentionArgs& a) { attention_backward_scalar(a); }
}  // namespace cpu
}  // namespace frl

#endif

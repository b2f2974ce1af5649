// The blocked attention kernels (attention_kernels.h) on 8-lane AVX2 + FMA vectors. This unit alone
// is compiled with -mavx2 -mfma (CMakeLists.txt: every *_avx2.cpp); the dispatcher calls it only
// when cpu_isa() says the CPU supports AVX2 and FMA.
#include "cpu/attention_isa.h"

#include <math.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

namespace frl {
namespace cpu {
namespace {

#ifndef _OPENMP
inline int omp_get_thread_num() { return 0; }
#endif

struct V {
  using T = __m256;
  static constexpr int W = 8;
  static constexpr int MR = 4;  // register tile 4 rows × 2 vectors: 8 accumulators of 16
  static constexpr int NV = 2;
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, T x) { _mm256_storeu_ps(p, x); }
  static T set1(float x) { return _mm256_set1_ps(x); }
  static T zero() { return _mm256_setzero_ps(); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T max(T a, T b) { return _mm256_max_ps(a, b); }
  static T min(T a, T b) { return _mm256_min_ps(a, b); }
  static T round(T x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T pow2n(T n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
  static T zero_below(T x, float t, T y) {
    return _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, _mm256_set1_ps(t), _CMP_LT_OQ));
  }
  static float hmax(T x) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
  }
  static float hsum(T x) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
  }
};

#include "cpu/attention_kernels.h"

}  // namespace

void attention_forward_avx2(const AttentionArgs& a) { forward<V>(a); }
void attention_backward_avx2(const AttentionArgs& a) { backward<V>(a); }

}  // namespace cpu
}  // namespace frl

#else  // built without AVX2 flags (a non-x86 target): never selected, falls back to scalar

namespace frl {
namespace cpu {
void attention_forward_avx2(const AttentionArgs& a) { attention_forward_scalar(a); }
void attention_backward_avx2(const AttentionArgs& a) { attention_backward_scalar(a); }
}  // namespace cpu
}  // namespace frl

#endif

// CPU reference of GAE and masked whitening (native/src/cpu/gae_cpu.cpp), plus the small pieces of
// math the CUDA kernels share with it (the mask rule and the whitening coefficients), so both
// backends define the edge cases identically.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define FRL_GAE_HD __host__ __device__
#else
#define FRL_GAE_HD
#endif

namespace frl {
namespace cpu {

// The first position of a mask row of length T that breaks "ones, then zeros" (a value other than
// 0/1, or a 1 after a 0), or -1 when the row is a valid prefix mask.
inline int64_t mask_row_violation(const int32_t* m, int64_t T) {
  int64_t t = 0;
  while (t < T && m[t] == 1) t++;
  for (; t < T; t++)
    if (m[t] != 0) return t;
  return -1;
}

// GAE over B prefix-masked rows of length T (all [B, T], row-major). For valid t < L_b:
//   delta_t = r_t + gamma * V_{t+1} - V_t   (V_{L_b} = 0)
//   A_t     = delta_t + gamma * lambda * A_{t+1}   (A_{L_b} = 0),   R_t = A_t + V_t
// padded positions get A = R = 0. The recurrence runs in double. Returns the first row whose mask
// is not a 0/1 prefix mask (its outputs are then unspecified), or -1. OpenMP across rows.
int64_t gae_f32(const float* rewards, const float* values, const int32_t* mask, int64_t B, int64_t T, float gamma,
                float lambda, float* advantages, float* returns);

// Coefficients of the whitening map out = (x - mean) * scale + add at valid positions.
struct WhitenCoefficients {
  float mean;   // mean of the valid values (0 when n = 0)
  float std;    // sqrt(unbiased variance), 0 when n <= 1
  float scale;  // 1 / sqrt(var + eps), or 0 when var + eps == 0 or n == 0
  float add;    // 0 (shift_mean) or mean (keep the mean)
};

// From the count n, the mean and m2 = sum over valid of (x - mean)^2 (all in double):
//   var = m2 / (n - 1) for n >= 2, else 0 (unbiased / Bessel-corrected estimator)
FRL_GAE_HD inline WhitenCoefficients whiten_coefficients(double n, double mean, double m2, bool shift_mean,
                                                         float eps) {
  WhitenCoefficients c;
  if (!(n > 0)) {
    c.mean = 0.f;
    c.std = 0.f;
    c.scale = 0.f;
    c.add = 0.f;
    return c;
  }
  double var = n > 1 ? (m2 > 0 ? m2 : 0.0) / (n - 1) : 0.0;
  double denom = var + static_cast<double>(eps);
  c.mean = static_cast<float>(mean);
  c.std = static_cast<float>(sqrt(var));
  c.scale = denom > 0 ? static_cast<float>(1.0 / sqrt(denom)) : 0.f;
  c.add = shift_mean ? 0.f : static_cast<float>(mean);
  return c;
}

// Masked whitening of n values (mask nonzero = valid); out may alias x. Two passes in double
// (mean, then sum of squared deviations). Returns the coefficients used.
WhitenCoefficients masked_whiten_f32(const float* x, const int32_t* mask, int64_t n, bool shift_mean, float eps,
                                     float* out);

}  // namespace cpu
}  // namespace frl

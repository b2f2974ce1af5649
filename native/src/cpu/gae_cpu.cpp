// CPU reference of GAE and masked whitening: plain loops, llm.c style.
#include "cpu/gae_cpu.h"

#include <algorithm>

namespace frl {
namespace cpu {

// For each row b with L_b valid tokens (prefix mask), backwards in time:
//   A = 0
//   for t = L_b - 1 .. 0:
//     delta_t = r_t + gamma * (t + 1 < L_b ? V_{t+1} : 0) - V_t
//     A = delta_t + gamma * lambda * A;   A_t = A;   R_t = A + V_t
//   A_t = R_t = 0 for t >= L_b
// The mask is checked in the same pass that finds L_b (a row whose tail after the leading ones is
// not all zeros is reported, not computed). Rows are independent: OpenMP over rows, dynamic chunks
// (rows differ in length, and on a busy machine a descheduled thread should not hold a static half
// of the batch).
int64_t gae_f32(const float* rewards, const float* values, const int32_t* mask, int64_t B, int64_t T, float gamma,
                float lambda, float* advantages, float* returns) {
  const double g = gamma;
  const double gl = static_cast<double>(gamma) * static_cast<double>(lambda);
  int64_t first_bad = B;
#pragma omp parallel for schedule(dynamic, 8) reduction(min : first_bad)
  for (int64_t b = 0; b < B; b++) {
    const float* r = rewards + b * T;
    const float* v = values + b * T;
    const int32_t* m = mask + b * T;
    float* adv = advantages + b * T;
    float* ret = returns + b * T;
    int64_t L = 0;
    while (L < T && m[L] == 1) L++;
    bool prefix = true;
    for (int64_t t = L; t < T; t++) {
      prefix &= m[t] == 0;
      adv[t] = 0.f;
      ret[t] = 0.f;
    }
    if (!prefix) {
      first_bad = std::min(first_bad, b);
      continue;
    }
    double a = 0.0;
    double next_v = 0.0;  // V_{t+1}; 0 after the last valid token
    for (int64_t t = L - 1; t >= 0; t--) {
      const double vt = v[t];
      const double delta = static_cast<double>(r[t]) + g * next_v - vt;
      a = delta + gl * a;
      adv[t] = static_cast<float>(a);
      ret[t] = static_cast<float>(a + vt);
      next_v = vt;
    }
  }
  return first_bad < B ? first_bad : -1;
}

// n_valid = #{i : m_i != 0};  mean = sum_valid x_i / n_valid;  m2 = sum_valid (x_i - mean)^2
// out_i = m_i ? (x_i - mean) * scale + add : 0   with scale, add from whiten_coefficients.
WhitenCoefficients masked_whiten_f32(const float* x, const int32_t* mask, int64_t n, bool shift_mean, float eps,
                                     float* out) {
  // One parallel region for the three passes (fewer fork/joins); statistics in double.
  double count = 0.0, sum = 0.0, m2 = 0.0;
  WhitenCoefficients c{};
#pragma omp parallel
  {
#pragma omp for reduction(+ : count, sum) schedule(static)
    for (int64_t i = 0; i < n; i++) {
      if (mask[i] != 0) {
        count += 1.0;
        sum += x[i];
      }
    }
    // (implicit barrier: count and sum are final here)
    const double mu = count > 0 ? sum / count : 0.0;
#pragma omp for reduction(+ : m2) schedule(static)
    for (int64_t i = 0; i < n; i++) {
      if (mask[i] != 0) {
        const double d = x[i] - mu;
        m2 += d * d;
      }
    }
#pragma omp single
    c = whiten_coefficients(count, mu, m2, shift_mean, eps);
    // (implicit barrier after single: c is visible to every thread)
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; i++) {
      out[i] = mask[i] != 0 ? (x[i] - c.mean) * c.scale + c.add : 0.f;
    }
  }
  return c;
}

}  // namespace cpu
}  // namespace frl

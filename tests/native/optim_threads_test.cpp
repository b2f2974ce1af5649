// The optimizer kernels' promise the Java tests cannot reach through the C API: their bits do not
// depend on the OpenMP thread count (1, 2, 3, 4 threads), over sizes that make the CPU run them in
// parallel (the sum of squares goes parallel above 4 chunks of FRL_SUMSQ_CHUNK, AdamW above 65536
// elements). Also: the sum of squares is within 1e-14 relative of a long-double sum.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/adamw_cpu.h"
#include "cpu/sum_squares_cpu.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

int failures = 0;

void set_threads(int threads) {
#ifdef _OPENMP
  omp_set_num_threads(threads);
#else
  (void)threads;
#endif
}

void expect(bool ok, const char* what, long long n, int threads) {
  if (!ok) {
    std::printf("FAIL %s n=%lld threads=%d\n", what, n, threads);
    failures++;
  }
}

}  // namespace

int main() {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (int64_t n : {int64_t{1}, int64_t{4097}, int64_t{5 * 4096 + 3}, int64_t{300000}, int64_t{1} << 21}) {
    std::vector<float> x(static_cast<size_t>(n));
    for (float& e : x) e = normal(rng);
    long double exact = 0;
    for (float e : x) exact += static_cast<long double>(e) * e;
    set_threads(1);
    const double one = frl::cpu::sum_squares(x.data(), n);
    expect(std::fabs(static_cast<long double>(one) - exact) <= 1e-14L * exact, "sum_squares vs long double", n, 1);
    for (int threads = 2; threads <= 4; threads++) {
      set_threads(threads);
      const double many = frl::cpu::sum_squares(x.data(), n);
      expect(std::memcmp(&one, &many, sizeof one) == 0, "sum_squares bits", n, threads);
    }

    const frl::AdamWScalars s = frl::adamw_scalars(1e-3, 0.9, 0.999, 1e-8, 0.01, 3, 0.5f);
    std::vector<float> p0(x.size()), m0(x.size()), v0(x.size());
    for (size_t i = 0; i < x.size(); i++) {
      p0[i] = normal(rng);
      m0[i] = 0.1f * normal(rng);
      v0[i] = 0.01f * std::fabs(normal(rng));
    }
    std::vector<float> p1 = p0, m1 = m0, v1 = v0;
    set_threads(1);
    frl::cpu::adamw_step(p1.data(), x.data(), m1.data(), v1.data(), n, s);
    for (int threads = 2; threads <= 4; threads++) {
      std::vector<float> p = p0, m = m0, v = v0;
      set_threads(threads);
      frl::cpu::adamw_step(p.data(), x.data(), m.data(), v.data(), n, s);
      expect(p == p1 && m == m1 && v == v1, "adamw bits", n, threads);
    }
  }
  std::printf("%s (%d failures)\n", failures ? "FAILED" : "ok", failures);
  return failures ? 1 : 0;
}

// Token sampling (sampling.h): greedy argmax, temperature and nucleus (top-p) sampling over one row
// of logits, with per-row splitmix64 streams.
//
//   greedy:   argmax_i l_i (lowest id on ties)
//   sampled:  p_i ∝ exp((l_i − max l) / T); nucleus N = the shortest prefix of ids sorted by p
//             (descending, ties by id) with Σ_N p >= top_p; token ~ p restricted to N, renormalised.
// Probabilities are summed in double in a fixed order, so a row's draw is a function of its logits
// and its stream only.
#include "model/sampling.h"

#include <algorithm>
#include <cmath>

namespace frl {
namespace model {
namespace {

uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

RowRng::RowRng(uint64_t seed, uint64_t row) : state_(mix(seed) + mix(row + 0x632BE59BD9B4E019ull)) {}

uint64_t RowRng::next() {
  state_ += 0x9E3779B97F4A7C15ull;
  return mix(state_);
}

double RowRng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

int32_t argmax_token(const float* logits, int64_t V) {
  int64_t best = 0;
  for (int64_t i = 1; i < V; i++)
    if (logits[i] > logits[best] || std::isnan(logits[best])) best = i;
  return static_cast<int32_t>(best);
}

int32_t sample_token(const float* logits, int64_t V, float temperature, float top_p, RowRng& rng,
                     SamplerScratch& s) {
  if (temperature == 0.f) return argmax_token(logits, V);
  const double mx = logits[argmax_token(logits, V)];
  const double inv_t = 1.0 / static_cast<double>(temperature);
  s.w.resize(static_cast<size_t>(V));
  double total = 0;
  for (int64_t i = 0; i < V; i++) {
    s.w[i] = std::exp((static_cast<double>(logits[i]) - mx) * inv_t);
    total += s.w[i];
  }
  const double u = rng.uniform();
  if (top_p >= 1.f) {  // every token, in id order
    const double target = u * total;
    double run = 0;
    for (int64_t i = 0; i < V; i++) {
      run += s.w[i];
      if (run > target) return static_cast<int32_t>(i);
    }
    for (int64_t i = V - 1; i > 0; i--)  // rounding put the target past the sum: the last token with mass
      if (s.w[i] > 0) return static_cast<int32_t>(i);
    return 0;
  }
  s.order.resize(static_cast<size_t>(V));
  for (int64_t i = 0; i < V; i++) s.order[i] = static_cast<int32_t>(i);
  std::sort(s.order.begin(), s.order.end(),
            [&](int32_t a, int32_t b) { return s.w[a] > s.w[b] || (s.w[a] == s.w[b] && a < b); });
  // The nucleus: the shortest prefix whose mass reaches top_p of the total.
  const double need = static_cast<double>(top_p) * total;
  double mass = 0;
  int64_t k = 0;
  while (k < V) {
    mass += s.w[s.order[k++]];
    if (mass >= need) break;
  }
  const double target = u * mass;
  double run = 0;
  for (int64_t j = 0; j < k; j++) {
    run += s.w[s.order[j]];
    if (run > target) return s.order[j];
  }
  return s.order[k - 1];
}

}  // namespace model
}  // namespace frl

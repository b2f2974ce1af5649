// Deterministic initialisation of the base weights and of a new adapter set.
//
// Random numbers: one splitmix64 stream per call (state = seed), consumed entry by entry in blob
// order and element by element, so the weights depend on the seed alone (not on threads or on
// memory). Normals by Box-Muller from two uniforms in (0, 1]: z = √(−2 ln u1) cos(2π u2).
#include <cmath>

#include "model/model_internal.h"

namespace frl {
namespace model {
namespace {

struct SplitMix64 {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1]: the top 53 bits, shifted off zero.
  double uniform() { return (static_cast<double>(next() >> 11) + 1.0) * (1.0 / 9007199254740992.0); }
  double normal() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

bool ends_with(const std::string& s, const char* suffix) {
  const std::string t(suffix);
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

}  // namespace

// Norm weights (names ending in "norm*.weight" / "layrnorm.weight" / "layer_norm*.weight") 1,
// biases and norm biases 0, everything else (linear, conv, embeddings, positions, class
// embedding) N(0, std²).
void init_base(const BaseLayout& layout, const std::vector<float*>& w, uint64_t seed, float std) {
  SplitMix64 rng{seed};
  for (size_t e = 0; e < layout.names.size(); e++) {
    const std::string& name = layout.names[e];
    const int64_t n = numel(layout.shapes[e]);
    float* p = w[e];
    const bool is_norm = name.find("norm") != std::string::npos;  // layer_norm, pre_layrnorm, *_layernorm, norm
    if (ends_with(name, ".bias")) {
      for (int64_t i = 0; i < n; i++) p[i] = 0.f;
    } else if (is_norm) {
      for (int64_t i = 0; i < n; i++) p[i] = 1.f;
    } else {
      for (int64_t i = 0; i < n; i++) p[i] = static_cast<float>(std * rng.normal());
    }
  }
}

// lora_A ~ U(−1/√K, 1/√K) (PEFT's kaiming_uniform(a = √5) on [r, K]), lora_B = 0.
void init_adapter(const AdapterLayout& layout, const std::vector<float*>& w, uint64_t seed) {
  SplitMix64 rng{seed};
  for (size_t e = 0; e < layout.names.size(); e++) {
    const int64_t n = numel(layout.shapes[e]);
    float* p = w[e];
    if (!layout.is_a[e]) {
      for (int64_t i = 0; i < n; i++) p[i] = 0.f;
      continue;
    }
    const double bound = 1.0 / std::sqrt(static_cast<double>(layout.fan_in[e]));
    for (int64_t i = 0; i < n; i++) p[i] = static_cast<float>(bound * (2.0 * rng.uniform() - 1.0));
  }
}

}  // namespace model
}  // namespace frl

// The token sampler of frl_model_generate (factrl/generate.h): one row's next token from its logits,
// and the per-row random stream that makes a row's draws independent of the batch and thread count.
#pragma once

#include <cstdint>
#include <vector>

namespace frl {
namespace model {

// splitmix64 stream of row `row` under `seed`: the state starts at mix(seed) + mix(row + c) (mix:
// splitmix64's finaliser), so every (seed, row) pair has its own stream and a row's draws do not
// depend on which other rows share the batch.
class RowRng {
 public:
  RowRng(uint64_t seed, uint64_t row);
  uint64_t next();
  // Uniform in [0, 1) with 53 random bits.
  double uniform();

 private:
  uint64_t state_;
};

// Reused buffers (one per row or per thread): no allocation per token after the first.
struct SamplerScratch {
  std::vector<double> w;
  std::vector<int32_t> order;
};

// argmax_i logits[i], the lowest i among ties (NaN never wins).
int32_t argmax_token(const float* logits, int64_t V);

// One token from softmax(logits / T) restricted to the nucleus:
//   w_i = exp((l_i − max l) / T)                      (unnormalised probabilities, in double)
//   sort by w descending (ties: lower id first); keep the shortest prefix K whose mass Σ_K w reaches
//   top_p · Σ w (top_p >= 1: every token, in id order, no sort)
//   draw u ~ U[0, 1) (one draw of rng) and return the first kept token whose running sum exceeds
//   u · Σ_K w.
// temperature == 0: argmax_token (no draw). Requires temperature >= 0, top_p in (0, 1], V >= 1.
int32_t sample_token(const float* logits, int64_t V, float temperature, float top_p, RowRng& rng,
                     SamplerScratch& scratch);

}  // namespace model
}  // namespace frl

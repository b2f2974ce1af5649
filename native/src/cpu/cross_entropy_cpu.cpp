// CPU reference of the masked cross-entropy's reductions: a sequential sum (T is tokens of one batch,
// tiny next to the [T, V] log-prob pass that precedes it).
#include "cpu/cross_entropy_cpu.h"

namespace frl {
namespace cpu {

namespace {
inline bool valid(const int32_t* mask, int64_t t) { return mask == nullptr || mask[t] != 0; }

int64_t count_valid(const int32_t* mask, int64_t T) {
  int64_t n = 0;
  for (int64_t t = 0; t < T; t++) n += valid(mask, t) ? 1 : 0;
  return n;
}
}  // namespace

float masked_mean_nll(const float* logp, const int32_t* mask, int64_t T) {
  double sum = 0.0;
  int64_t n = 0;
  for (int64_t t = 0; t < T; t++)
    if (valid(mask, t)) {
      sum += logp[t];
      n++;
    }
  return n == 0 ? 0.0f : static_cast<float>(-sum / static_cast<double>(n));
}

void cross_entropy_grad_logp(const int32_t* mask, int64_t T, float grad_loss, float* grad_logp) {
  const int64_t n = count_valid(mask, T);
  const float g = n == 0 ? 0.0f : -grad_loss / static_cast<float>(n);
  for (int64_t t = 0; t < T; t++) grad_logp[t] = valid(mask, t) ? g : 0.0f;
}

}  // namespace cpu
}  // namespace frl

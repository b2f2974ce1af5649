// CPU reference of the masked cross-entropy's reductions (the per-row log-probs and their backward
// are the log-prob kernel's, cpu/kl_cpu.h). Math: factrl/cross_entropy.h.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// −(1/n) Σ_{valid t} logp[t], n = valid rows (mask null: all); 0 when n = 0. Summed in double, t ascending.
float masked_mean_nll(const float* logp, const int32_t* mask, int64_t T);

// grad_logp[t] = −grad_loss · valid_t / n (0 everywhere when n = 0).
void cross_entropy_grad_logp(const int32_t* mask, int64_t T, float grad_loss, float* grad_logp);

}  // namespace cpu
}  // namespace frl

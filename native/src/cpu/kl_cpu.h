// CPU reference of the per-token log-prob / KL kernel (see native/include/factrl/kl.h for the math).
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// Output pointers of the forward; any may be null (not computed). Each has T floats.
struct KlOutputs {
  float* logp_policy = nullptr;
  float* logp_ref = nullptr;
  float* kl_k1 = nullptr;
  float* kl_k3 = nullptr;
  float* kl_full = nullptr;
  float* entropy = nullptr;
  float* lse_policy = nullptr;
};

// First valid row (mask null or mask[t] != 0) whose action is outside [0, V), or -1 if none.
int64_t kl_first_bad_action(const int32_t* actions, const int32_t* mask, int64_t T, int64_t V);

// Forward over T rows of V logits. ref may be null (then only logp_policy, entropy, lse_policy).
// Actions must have been checked with kl_first_bad_action.
void token_logprobs_forward(const float* policy, const float* ref, const int32_t* actions,
                            const int32_t* mask, int64_t T, int64_t V, const KlOutputs& out);

// Backward of logp_policy: dlogits (=|+=) g_t (onehot(a_t) - softmax(z_t)); masked rows 0 / untouched.
// lse may be null (recomputed).
void token_logprobs_backward(const float* policy, const int32_t* actions, const int32_t* mask,
                             const float* grad_logp, const float* lse, float* dlogits, int64_t T,
                             int64_t V, bool accumulate);

}  // namespace cpu
}  // namespace frl

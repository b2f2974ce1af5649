// CPU multi-head scaled dot-product attention (fp32, OpenMP; blocked flash-style kernels with
// AVX-512 / AVX2 / scalar paths chosen at run time, see attention_cpu.cpp).
// Raw-pointer kernels: the C API (native/src/attention_api.cpp) validates every argument first.
// Layouts and math: factrl/attention.h. q, out, dout, dq are [B, Sq, H, D]; k, v, dk, dv
// [B, Sk, H, D]; lse is [B, H, Sq].
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// The per-row masks of frl_attention_forward_masked: L_b = key_len[b] in [0, Sk] (null: Sk) and
// off_b = q_off[b] >= 0 (null: 0). Unmasked self-attention is {nullptr, nullptr} with Sq = Sk.
struct Masks {
  const int32_t* key_len;
  const int32_t* q_off;
};

// out[b,i,h,:] = Σ_{j in J(i)} softmax_j(scale · q_i · k_j) v_j and lse[b,h,i] = log Σ_j exp(s_ij),
// with J(i) = [0, min(L_b, off_b + i + 1)) when causal, [0, L_b) otherwise; out = 0 and
// lse = −inf where J(i) is empty. lse may be null (not saved).
void attention_forward(const float* q, const float* k, const float* v, float* out, float* lse, const Masks& masks,
                       int64_t B, int64_t Sq, int64_t Sk, int64_t H, int64_t D, bool causal, float scale);

// dq, dk, dv (each may be null = not computed) of the forward above, recomputing
// P_ij = exp(scale · q_i · k_j − lse_i) from the saved lse. Each non-null gradient is overwritten
// (accumulate = false) or has the gradient added to it (accumulate = true: GradMode ACCUMULATE).
// Keys no query sees get 0 (overwrite) or are left as they are (accumulate).
void attention_backward(const float* q, const float* k, const float* v, const float* out,
                        const float* lse, const float* dout, float* dq, float* dk, float* dv, const Masks& masks,
                        int64_t B, int64_t Sq, int64_t Sk, int64_t H, int64_t D, bool causal, float scale,
                        bool accumulate);

}  // namespace cpu
}  // namespace frl

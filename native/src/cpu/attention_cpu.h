// CPU multi-head scaled dot-product attention (fp32, OpenMP; blocked flash-style kernels with
// AVX-512 / AVX2 / scalar paths chosen at run time, see attention_cpu.cpp).
// Raw-pointer kernels: the C API (native/src/attention_api.cpp) validates every argument first.
// Layouts and math: factrl/attention.h. q, k, v, out, dout, dq, dk, dv are [B, S, H, D];
// lse is [B, H, S].
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// out[b,i,h,:] = Σ_{j in J(i)} softmax_j(scale · q_i · k_j) v_j and lse[b,h,i] = log Σ_j exp(s_ij),
// with J(i) = [0, i] when causal, [0, S) otherwise. lse may be null (not saved).
void attention_forward(const float* q, const float* k, const float* v, float* out, float* lse,
                       int64_t B, int64_t S, int64_t H, int64_t D, bool causal, float scale);

// dq, dk, dv (each may be null = not computed) of the forward above, recomputing
// P_ij = exp(scale · q_i · k_j − lse_i) from the saved lse. Each non-null gradient is overwritten
// (accumulate = false) or has the gradient added to it (accumulate = true: GradMode ACCUMULATE).
void attention_backward(const float* q, const float* k, const float* v, const float* out,
                        const float* lse, const float* dout, float* dq, float* dk, float* dv,
                        int64_t B, int64_t S, int64_t H, int64_t D, bool causal, float scale,
                        bool accumulate);

}  // namespace cpu
}  // namespace frl

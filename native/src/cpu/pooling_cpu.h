// CPU reference of the reward-head pooling and the per-token value head (fp32, OpenMP).
// Raw-pointer kernels: the C API (native/src/pooling_api.cpp) validates every argument first,
// including end_index in [-1, S). Conventions (empty rows, masks, accumulate): factrl/pooling.h.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// scores[b] = w · h[b, e_b, :] + bias  (0 where e_b == -1).  h [B,S,d], end_index [B].
void reward_head_forward(const float* h, const int32_t* end_index, const float* w, float bias,
                         float* scores, int64_t B, int64_t S, int64_t d);

// dh[b, e_b, :] (+)= g_b w  (rest of dh zeroed unless dh_accumulate), dw (+)= Σ_b g_b h[b, e_b, :],
// dbias[0] (+)= Σ_b g_b (added when param_accumulate), over rows with e_b >= 0. dh, dw, dbias may be
// null (not computed).
void reward_head_backward(const float* h, const int32_t* end_index, const float* w,
                          const float* dscores, float* dh, float* dw, float* dbias, int64_t B,
                          int64_t S, int64_t d, bool dh_accumulate, bool param_accumulate);

// values[n] = w · h[n, :] + bias where mask[n] != 0 (mask null = all valid), else 0.
// h seen as [N, d] with N = B·S.
void value_head_forward(const float* h, const int32_t* mask, const float* w, float bias,
                        float* values, int64_t N, int64_t d);

// dh[n, :] (+)= g_n w (masked rows zeroed unless dh_accumulate), dw (+)= Σ_n g_n h[n, :],
// dbias[0] (+)= Σ_n g_n (added when param_accumulate), over valid n. dh, dw, dbias may be null.
void value_head_backward(const float* h, const int32_t* mask, const float* w, const float* dvalues,
                         float* dh, float* dw, float* dbias, int64_t N, int64_t d, bool dh_accumulate,
                         bool param_accumulate);

}  // namespace cpu
}  // namespace frl

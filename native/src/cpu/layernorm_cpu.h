// CPU reference of LayerNorm (fp32, OpenMP). Raw-pointer kernels: native/src/layernorm_api.cpp
// checks every argument first. Math and conventions: factrl/layernorm.h.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// y[n,:] = (x[n,:] − mean_n) · rstd_n · w + b over N rows of width d; mean, rstd [N] may be null.
// y may alias x.
void layernorm_forward(const float* x, const float* w, const float* b, float eps, float* y, float* mean,
                       float* rstd, int64_t N, int64_t d);

// dx (+)= rstd (gw − mean(gw) − xhat · mean(gw∘xhat)), dw (+)= Σ_n g∘xhat, db (+)= Σ_n g (added
// when its flag is set; dw and db share dparam_accumulate). dx, dw, db may be null.
void layernorm_backward(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                        float* dx, float* dw, float* db, int64_t N, int64_t d, bool dx_accumulate,
                        bool dparam_accumulate);

}  // namespace cpu
}  // namespace frl

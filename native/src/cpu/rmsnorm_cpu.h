// CPU reference of RMSNorm (fp32, OpenMP). Raw-pointer kernels: native/src/rmsnorm_api.cpp checks
// every argument first. Math and conventions: factrl/rmsnorm.h.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// y[n,:] = x[n,:] · rstd_n · w over N rows of width d; rstd [N] may be null. y may alias x.
void rmsnorm_forward(const float* x, const float* w, float eps, float* y, float* rstd, int64_t N,
                     int64_t d);

// dx (+)= rstd (g∘w − xhat · mean(g∘w∘xhat)), dw (+)= Σ_n g∘xhat (each added when its flag is
// set). dx, dw may be null.
void rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* dy, float* dx,
                      float* dw, int64_t N, int64_t d, bool dx_accumulate, bool dw_accumulate);

}  // namespace cpu
}  // namespace frl

// CPU reference of the AdamW update (fp32, OpenMP). Raw-pointer kernel: native/src/optim_api.cpp
// checks every argument first. Math and conventions: factrl/optim.h.
#pragma once

#include <cstdint>

namespace frl {

// The per-step scalars of one AdamW update, computed once in double from the call's
// hyperparameters and rounded to fp32, so the CPU reference and the CUDA kernel (kernels/adamw.cu)
// use bitwise the same values.
struct AdamWScalars {
  float grad_scale;   // the clipping factor
  float decay;        // 1 − lr·weight_decay
  float beta1, one_minus_beta1;
  float beta2, one_minus_beta2;
  float bias2_sqrt;   // √(1 − β2^t)
  float eps;
  float neg_step;     // −lr / (1 − β1^t)
};

// The scalars of step t (1-based); arguments already checked.
AdamWScalars adamw_scalars(double lr, double beta1, double beta2, double eps, double weight_decay, int64_t step,
                           float grad_scale);

namespace cpu {

// One AdamW step over n elements: p, m, v updated in place from g (see factrl/optim.h).
void adamw_step(float* p, const float* g, float* m, float* v, int64_t n, const AdamWScalars& s);

}  // namespace cpu
}  // namespace frl

// CPU reference of AdamW: one pass over the elements, OpenMP across chunks of them. Each element's
// update is independent, so the result does not depend on the thread count.
#include "cpu/adamw_cpu.h"

#include <cmath>

namespace frl {

// bias1 = 1 − β1^t, bias2 = 1 − β2^t, step size lr / bias1, decay 1 − lr·wd: in double, as PyTorch
// computes them from its Python-float hyperparameters, then rounded to fp32 once.
AdamWScalars adamw_scalars(double lr, double beta1, double beta2, double eps, double weight_decay, int64_t step,
                           float grad_scale) {
  const double t = static_cast<double>(step);
  const double bias1 = 1.0 - std::pow(beta1, t);
  const double bias2 = 1.0 - std::pow(beta2, t);
  AdamWScalars s;
  s.grad_scale = grad_scale;
  s.decay = static_cast<float>(1.0 - lr * weight_decay);
  s.beta1 = static_cast<float>(beta1);
  s.one_minus_beta1 = static_cast<float>(1.0 - beta1);
  s.beta2 = static_cast<float>(beta2);
  s.one_minus_beta2 = static_cast<float>(1.0 - beta2);
  s.bias2_sqrt = static_cast<float>(std::sqrt(bias2));
  s.eps = static_cast<float>(eps);
  s.neg_step = static_cast<float>(-(lr / bias1));
  return s;
}

namespace cpu {

// Per element, in fp32 and in this order (kernels/adamw.cu does the same, operation for operation;
// baseline x86-64 has no FMA, so nothing is contracted here):
//   g = grad_scale·grad
//   p = p·decay
//   m = β1·m + (1−β1)·g
//   v = β2·v + ((1−β2)·g)·g
//   p = p + (neg_step·m) / (√v / bias2_sqrt + eps)
void adamw_step(float* p, const float* g, float* m, float* v, int64_t n, const AdamWScalars& s) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i] * s.grad_scale;
    const float pi = p[i] * s.decay;
    const float mi = m[i] * s.beta1 + s.one_minus_beta1 * gi;
    const float vi = v[i] * s.beta2 + s.one_minus_beta2 * gi * gi;
    const float denom = std::sqrt(vi) / s.bias2_sqrt + s.eps;
    p[i] = pi + s.neg_step * mi / denom;
    m[i] = mi;
    v[i] = vi;
  }
}

}  // namespace cpu
}  // namespace frl

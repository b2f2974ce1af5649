// C API of the optimizer kernels (factrl/optim.h): argument checks naming the argument, then the
// CPU reference or the CUDA launcher.
#include <cmath>

#include "factrl/optim.h"

#include "cpu/adamw_cpu.h"
#include "cpu/sum_squares_cpu.h"
#include "layer_checks.h"
#ifdef FACTRL_WITH_CUDA
#include "adamw.cuh"
#include "sum_squares.cuh"
#endif

namespace {

// An F32 contiguous tensor of ctx with `ref`'s element count (shapes may differ: flat blob views).
void check_like_param(const frl_ctx* ctx, const frl_tensor* t, const char* name, const frl_tensor* param) {
  frl::check_f32(ctx, t, name);
  FRL_REQUIRE(t->numel == param->numel, FRL_ERR_SHAPE,
              "argument '%s' has %lld elements (shape %s), expected %lld (the elements of 'param', shape %s)", name,
              static_cast<long long>(t->numel), frl::shape_string(t).c_str(), static_cast<long long>(param->numel),
              frl::shape_string(param).c_str());
}

void check_finite_at_least(double value, double low, const char* name) {
  FRL_REQUIRE(std::isfinite(value) && value >= low, FRL_ERR_ARGUMENT,
              "argument '%s' must be finite and >= %g, got %g", name, low, value);
}

void check_beta(double beta, const char* name) {
  FRL_REQUIRE(beta >= 0.0 && beta < 1.0, FRL_ERR_ARGUMENT, "argument '%s' must be in [0, 1), got %g", name, beta);
}

bool on_cuda(const frl_ctx* ctx) { return ctx->backend->kind() == FRL_BACKEND_CUDA; }

}  // namespace

extern "C" {

frl_status frl_adamw_step(frl_ctx* ctx, frl_tensor* param, const frl_tensor* grad, frl_tensor* exp_avg,
                          frl_tensor* exp_avg_sq, double lr, double beta1, double beta2, double eps,
                          double weight_decay, int64_t step, float grad_scale) {
  return frl::guard("frl_adamw_step", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_f32(ctx, param, "param");
    check_like_param(ctx, grad, "grad", param);
    check_like_param(ctx, exp_avg, "exp_avg", param);
    check_like_param(ctx, exp_avg_sq, "exp_avg_sq", param);
    frl::check_no_alias({{param, "param"}, {exp_avg, "exp_avg"}, {exp_avg_sq, "exp_avg_sq"}}, {{grad, "grad"}});
    check_finite_at_least(lr, 0.0, "lr");
    check_beta(beta1, "beta1");
    check_beta(beta2, "beta2");
    check_finite_at_least(eps, 0.0, "eps");
    check_finite_at_least(weight_decay, 0.0, "weight_decay");
    FRL_REQUIRE(step >= 1, FRL_ERR_ARGUMENT, "argument 'step' must be >= 1 (1-based), got %lld",
                static_cast<long long>(step));
    check_finite_at_least(grad_scale, 0.0, "grad_scale");
    const frl::AdamWScalars s = frl::adamw_scalars(lr, beta1, beta2, eps, weight_decay, step, grad_scale);
    float* p = frl::data_as<float>(param);
    const float* g = frl::data_as<float>(grad);
    float* m = frl::data_as<float>(exp_avg);
    float* v = frl::data_as<float>(exp_avg_sq);
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx)) return frl::cuda::adamw_step(ctx, p, g, m, v, param->numel, s);
#endif
    frl::cpu::adamw_step(p, g, m, v, param->numel, s);
  });
}

frl_status frl_sum_squares(frl_ctx* ctx, const frl_tensor* x, double* out) {
  return frl::guard("frl_sum_squares", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_f32(ctx, x, "x");
    frl::check_not_null(out, "out");
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx)) {
      *out = frl::cuda::sum_squares(ctx, frl::data_as<float>(x), x->numel);
      return;
    }
#endif
    *out = frl::cpu::sum_squares(frl::data_as<float>(x), x->numel);
  });
}

}  // extern "C"

// C API of RMSNorm (factrl/rmsnorm.h): argument checks naming the argument, then the CPU reference.
#include "factrl/rmsnorm.h"

#include <cmath>

#include "cpu/rmsnorm_cpu.h"
#include "layer_checks.h"

namespace {

using frl::format;

frl::Rows check_input(const frl_ctx* ctx, const frl_tensor* x, const frl_tensor* w) {
  frl::check_f32(ctx, x, "x");
  const frl::Rows rows = frl::check_rows(x, "x");
  frl::check_f32(ctx, w, "w");
  frl::check_shape(w, "w", {rows.d});
  return rows;
}

}  // namespace

extern "C" {

frl_status frl_rmsnorm_forward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* w, float eps,
                               frl_tensor* y, frl_tensor* rstd) {
  return frl::guard("frl_rmsnorm_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    const frl::Rows rows = check_input(ctx, x, w);
    frl::require(std::isfinite(eps) && eps > 0, FRL_ERR_ARGUMENT,
                 format("argument 'eps' must be finite and > 0, got %g", static_cast<double>(eps)));
    frl::check_f32(ctx, y, "y");
    frl::check_same_shape(y, "y", x, "x");
    if (rstd) {
      frl::check_f32(ctx, rstd, "rstd");
      frl::check_shape(rstd, "rstd", {rows.N});
    }
    frl::check_no_alias({{y, "y"}, {rstd, "rstd"}}, {{w, "w"}});  // y = x is the in-place form
    frl::check_no_alias({{rstd, "rstd"}}, {{x, "x"}});
    frl::require_cpu_backend(ctx, "rmsnorm");
    frl::cpu::rmsnorm_forward(frl::data_as<float>(x), frl::data_as<float>(w), eps, frl::data_as<float>(y),
                              frl::data_as<float>(rstd), rows.N, rows.d);
  });
}

frl_status frl_rmsnorm_backward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* w,
                                const frl_tensor* rstd, const frl_tensor* dy, frl_tensor* dx,
                                frl_tensor* dw, int dx_mode, int dw_mode) {
  return frl::guard("frl_rmsnorm_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    const frl::Rows rows = check_input(ctx, x, w);
    frl::check_f32(ctx, rstd, "rstd");
    frl::check_shape(rstd, "rstd", {rows.N});
    frl::check_f32(ctx, dy, "dy");
    frl::check_same_shape(dy, "dy", x, "x");
    if (dx) {
      frl::check_f32(ctx, dx, "dx");
      frl::check_same_shape(dx, "dx", x, "x");
    }
    if (dw) {
      frl::check_f32(ctx, dw, "dw");
      frl::check_shape(dw, "dw", {rows.d});
    }
    frl::check_grad_mode(dx_mode, "dx_mode");
    frl::check_grad_mode(dw_mode, "dw_mode");
    frl::check_no_alias({{dx, "dx"}, {dw, "dw"}}, {{x, "x"}, {w, "w"}, {rstd, "rstd"}, {dy, "dy"}});
    frl::require_cpu_backend(ctx, "rmsnorm");
    frl::cpu::rmsnorm_backward(frl::data_as<float>(x), frl::data_as<float>(w), frl::data_as<float>(rstd),
                               frl::data_as<float>(dy), frl::data_as<float>(dx), frl::data_as<float>(dw),
                               rows.N, rows.d, dx_mode == FRL_GRAD_ACCUMULATE, dw_mode == FRL_GRAD_ACCUMULATE);
  });
}

}  // extern "C"

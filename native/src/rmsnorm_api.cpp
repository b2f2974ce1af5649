// C API of RMSNorm (factrl/rmsnorm.h): argument checks naming the argument, then the CPU reference
// or the CUDA launcher.
#include "factrl/rmsnorm.h"

#include <cmath>

#include "cpu/rmsnorm_cpu.h"
#include "layer_checks.h"
#ifdef FACTRL_WITH_CUDA
#include "rmsnorm.cuh"
#endif

namespace {

using frl::format;

// A float tensor of the layer's storage: a compute dtype of ctx's backend, contiguous, of x's dtype.
void check_like_x(const frl_ctx* ctx, const frl_tensor* t, const char* name, const frl_tensor* x) {
  frl::check_float_storage(ctx, t, name);
  FRL_REQUIRE(t->dtype == x->dtype, FRL_ERR_SHAPE, "argument '%s' has dtype %s, expected %s (the dtype of 'x')", name,
              frl::dtype_name(t->dtype), frl::dtype_name(x->dtype));
}

frl::Rows check_input(const frl_ctx* ctx, const frl_tensor* x, const frl_tensor* w) {
  frl::check_float_storage(ctx, x, "x");
  const frl::Rows rows = frl::check_rows(x, "x");
  check_like_x(ctx, w, "w", x);
  frl::check_shape(w, "w", {rows.d});
  return rows;
}

bool on_cuda(const frl_ctx* ctx) { return ctx->backend->kind() == FRL_BACKEND_CUDA; }

}  // namespace

extern "C" {

frl_status frl_rmsnorm_forward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* w, float eps,
                               frl_tensor* y, frl_tensor* rstd) {
  return frl::guard("frl_rmsnorm_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    const frl::Rows rows = check_input(ctx, x, w);
    FRL_REQUIRE(std::isfinite(eps) && eps > 0, FRL_ERR_ARGUMENT,
                 "argument 'eps' must be finite and > 0, got %g", static_cast<double>(eps));
    check_like_x(ctx, y, "y", x);
    frl::check_same_shape(y, "y", x, "x");
    if (rstd) {
      frl::check_f32(ctx, rstd, "rstd");
      frl::check_shape(rstd, "rstd", {rows.N});
    }
    frl::check_no_alias({{y, "y"}, {rstd, "rstd"}}, {{w, "w"}});  // y = x is the in-place form
    frl::check_no_alias({{rstd, "rstd"}}, {{x, "x"}});
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::rmsnorm_forward(ctx, x->dtype, x->data, w->data, eps, y->data, frl::data_as<float>(rstd),
                                        rows.N, rows.d);
#endif
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
    check_like_x(ctx, dy, "dy", x);
    frl::check_same_shape(dy, "dy", x, "x");
    if (dx) {
      check_like_x(ctx, dx, "dx", x);
      frl::check_same_shape(dx, "dx", x, "x");
    }
    if (dw) {
      check_like_x(ctx, dw, "dw", x);
      frl::check_shape(dw, "dw", {rows.d});
    }
    frl::check_grad_mode(dx_mode, "dx_mode");
    frl::check_grad_mode(dw_mode, "dw_mode");
    frl::check_no_alias({{dx, "dx"}, {dw, "dw"}}, {{x, "x"}, {w, "w"}, {rstd, "rstd"}, {dy, "dy"}});
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::rmsnorm_backward(ctx, x->dtype, x->data, w->data, frl::data_as<float>(rstd), dy->data,
                                         dx ? dx->data : nullptr, dw ? dw->data : nullptr, rows.N, rows.d,
                                         dx_mode == FRL_GRAD_ACCUMULATE, dw_mode == FRL_GRAD_ACCUMULATE);
#endif
    frl::cpu::rmsnorm_backward(frl::data_as<float>(x), frl::data_as<float>(w), frl::data_as<float>(rstd),
                               frl::data_as<float>(dy), frl::data_as<float>(dx), frl::data_as<float>(dw),
                               rows.N, rows.d, dx_mode == FRL_GRAD_ACCUMULATE, dw_mode == FRL_GRAD_ACCUMULATE);
  });
}

}  // extern "C"

// C API of LayerNorm (factrl/layernorm.h): argument checks naming the argument, then the CPU
// reference or the CUDA launcher.
#include "factrl/layernorm.h"

#include <cmath>

#include "cpu/layernorm_cpu.h"
#include "layer_checks.h"
#ifdef FACTRL_WITH_CUDA
#include "layernorm.cuh"
#endif

namespace {

using frl::format;

// A float tensor of the layer's storage: a compute dtype of ctx's backend, contiguous, of x's dtype.
void check_like_x(const frl_ctx* ctx, const frl_tensor* t, const char* name, const frl_tensor* x) {
  frl::check_float_storage(ctx, t, name);
  FRL_REQUIRE(t->dtype == x->dtype, FRL_ERR_SHAPE,
               "argument '%s' has dtype %s, expected %s (the dtype of 'x')", name, frl::dtype_name(t->dtype),
                      frl::dtype_name(x->dtype));
}

frl::Rows check_input(const frl_ctx* ctx, const frl_tensor* x, const frl_tensor* w) {
  frl::check_float_storage(ctx, x, "x");
  const frl::Rows rows = frl::check_rows(x, "x");
  check_like_x(ctx, w, "w", x);
  frl::check_shape(w, "w", {rows.d});
  return rows;
}

// mean / rstd: F32 [N] on both backends.
void check_stat(const frl_ctx* ctx, const frl_tensor* t, const char* name, int64_t N) {
  frl::check_f32(ctx, t, name);
  frl::check_shape(t, name, {N});
}

bool on_cuda(const frl_ctx* ctx) { return ctx->backend->kind() == FRL_BACKEND_CUDA; }

}  // namespace

extern "C" {

frl_status frl_layernorm_forward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* w, const frl_tensor* b,
                                 float eps, frl_tensor* y, frl_tensor* mean, frl_tensor* rstd) {
  return frl::guard("frl_layernorm_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    const frl::Rows rows = check_input(ctx, x, w);
    check_like_x(ctx, b, "b", x);
    frl::check_shape(b, "b", {rows.d});
    FRL_REQUIRE(std::isfinite(eps) && eps > 0, FRL_ERR_ARGUMENT,
                 "argument 'eps' must be finite and > 0, got %g", static_cast<double>(eps));
    check_like_x(ctx, y, "y", x);
    frl::check_same_shape(y, "y", x, "x");
    if (mean) check_stat(ctx, mean, "mean", rows.N);
    if (rstd) check_stat(ctx, rstd, "rstd", rows.N);
    // y = x is the in-place form; the statistics may alias nothing (outputs are also checked pairwise).
    frl::check_no_alias({{y, "y"}, {mean, "mean"}, {rstd, "rstd"}}, {{w, "w"}, {b, "b"}});
    frl::check_no_alias({{mean, "mean"}, {rstd, "rstd"}}, {{x, "x"}});
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::layernorm_forward(ctx, x->dtype, x->data, w->data, b->data, eps, y->data,
                                          frl::data_as<float>(mean), frl::data_as<float>(rstd), rows.N, rows.d);
#endif
    frl::cpu::layernorm_forward(frl::data_as<float>(x), frl::data_as<float>(w), frl::data_as<float>(b), eps,
                                frl::data_as<float>(y), frl::data_as<float>(mean), frl::data_as<float>(rstd), rows.N,
                                rows.d);
  });
}

frl_status frl_layernorm_backward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* w, const frl_tensor* mean,
                                  const frl_tensor* rstd, const frl_tensor* dy, frl_tensor* dx, frl_tensor* dw,
                                  frl_tensor* db, int dx_mode, int dparam_mode) {
  return frl::guard("frl_layernorm_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    const frl::Rows rows = check_input(ctx, x, w);
    check_stat(ctx, mean, "mean", rows.N);
    check_stat(ctx, rstd, "rstd", rows.N);
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
    if (db) {
      check_like_x(ctx, db, "db", x);
      frl::check_shape(db, "db", {rows.d});
    }
    frl::check_grad_mode(dx_mode, "dx_mode");
    frl::check_grad_mode(dparam_mode, "dparam_mode");
    frl::check_no_alias({{dx, "dx"}, {dw, "dw"}, {db, "db"}},
                        {{x, "x"}, {w, "w"}, {mean, "mean"}, {rstd, "rstd"}, {dy, "dy"}});
    const bool dx_acc = dx_mode == FRL_GRAD_ACCUMULATE, dp_acc = dparam_mode == FRL_GRAD_ACCUMULATE;
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::layernorm_backward(ctx, x->dtype, x->data, w->data, frl::data_as<float>(mean),
                                           frl::data_as<float>(rstd), dy->data, dx ? dx->data : nullptr,
                                           dw ? dw->data : nullptr, db ? db->data : nullptr, rows.N, rows.d, dx_acc,
                                           dp_acc);
#endif
    frl::cpu::layernorm_backward(frl::data_as<float>(x), frl::data_as<float>(w), frl::data_as<float>(mean),
                                 frl::data_as<float>(rstd), frl::data_as<float>(dy), frl::data_as<float>(dx),
                                 frl::data_as<float>(dw), frl::data_as<float>(db), rows.N, rows.d, dx_acc, dp_acc);
  });
}

}  // extern "C"

// C API of the dense linear layer (factrl/linear.h): argument checks naming the argument, then the
// CPU reference.
#include "factrl/linear.h"

#include "cpu/linear_cpu.h"
#include "layer_checks.h"

namespace {

using frl::format;

// x [..., K] against W [M, K]; returns {N, K, M} and the row strides of x and W. Every matrix of
// this layer may be a row-contiguous view (a leading dimension >= its width): the GEMMs take it.
struct Dims {
  int64_t N, K, M;
  frl::cpu::LinearLd ld;
};

Dims check_x_w(const frl_ctx* ctx, const frl_tensor* x, const frl_tensor* W) {
  const int64_t ldx = frl::check_f32_rows_view(ctx, x, "x");
  const frl::Rows rows = frl::check_rows(x, "x");
  const int64_t ldw = frl::check_f32_rows_view(ctx, W, "W");
  frl::check_shape(W, "W", {-1, rows.d});
  const int64_t M = W->shape[0];
  return {rows.N, rows.d, M, {ldx, ldw, M, rows.d, rows.d}};
}

// t is F32 in ctx, row-contiguous, and has x's shape with the last dimension replaced by `last`;
// returns its row stride.
int64_t check_rows_like_x(const frl_ctx* ctx, const frl_tensor* t, const char* name, const frl_tensor* x,
                          int64_t last) {
  const int64_t ld = frl::check_f32_rows_view(ctx, t, name);
  bool ok = t->ndim == x->ndim && t->shape[t->ndim - 1] == last;
  for (int i = 0; ok && i < x->ndim - 1; i++) ok = t->shape[i] == x->shape[i];
  frl::require(ok, FRL_ERR_SHAPE,
               format("argument '%s' has shape %s, expected the shape of 'x' %s with the last dimension %lld",
                      name, frl::shape_string(t).c_str(), frl::shape_string(x).c_str(),
                      static_cast<long long>(last)));
  return ld;
}

}  // namespace

extern "C" {

frl_status frl_linear_forward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* W, const frl_tensor* b,
                              frl_tensor* y) {
  return frl::guard("frl_linear_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    Dims d = check_x_w(ctx, x, W);
    if (b) {
      frl::check_f32(ctx, b, "b");
      frl::check_shape(b, "b", {d.M});
    }
    d.ld.y = check_rows_like_x(ctx, y, "y", x, d.M);
    frl::check_no_alias({{y, "y"}}, {{x, "x"}, {W, "W"}, {b, "b"}});
    frl::require_cpu_backend(ctx, "linear");
    frl::cpu::linear_forward(frl::data_as<float>(x), frl::data_as<float>(W), frl::data_as<float>(b),
                             frl::data_as<float>(y), d.N, d.K, d.M, d.ld);
  });
}

frl_status frl_linear_backward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* W, const frl_tensor* dy,
                               frl_tensor* dx, frl_tensor* dW, frl_tensor* db, int dx_mode, int dparam_mode) {
  return frl::guard("frl_linear_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    Dims d = check_x_w(ctx, x, W);
    d.ld.y = check_rows_like_x(ctx, dy, "dy", x, d.M);
    if (dx) {
      d.ld.dx = frl::check_f32_rows_view(ctx, dx, "dx");
      frl::check_same_shape(dx, "dx", x, "x");
    }
    if (dW) {
      d.ld.dW = frl::check_f32_rows_view(ctx, dW, "dW");
      frl::check_same_shape(dW, "dW", W, "W");
    }
    if (db) {
      frl::check_f32(ctx, db, "db");
      frl::check_shape(db, "db", {d.M});
    }
    frl::check_grad_mode(dx_mode, "dx_mode");
    frl::check_grad_mode(dparam_mode, "dparam_mode");
    frl::check_no_alias({{dx, "dx"}, {dW, "dW"}, {db, "db"}}, {{x, "x"}, {W, "W"}, {dy, "dy"}});
    frl::require_cpu_backend(ctx, "linear");
    frl::cpu::linear_backward(frl::data_as<float>(x), frl::data_as<float>(W), frl::data_as<float>(dy),
                              frl::data_as<float>(dx), frl::data_as<float>(dW), frl::data_as<float>(db), d.N, d.K,
                              d.M, dx_mode == FRL_GRAD_ACCUMULATE, dparam_mode == FRL_GRAD_ACCUMULATE, d.ld);
  });
}

}  // extern "C"

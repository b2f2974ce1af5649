// C API of the dense linear layer (factrl/linear.h): argument checks naming the argument, then the
// CPU reference or the CUDA launcher.
#include "factrl/linear.h"

#include "cpu/linear_cpu.h"
#include "layer_checks.h"
#ifdef FACTRL_WITH_CUDA
#include "linear.cuh"
#endif

namespace {

using frl::format;

bool on_cuda(const frl_ctx* ctx) { return ctx->backend->kind() == FRL_BACKEND_CUDA; }

// A float storage of ctx's backend: F32 on the CPU, F32 or BF16 on CUDA (layout not checked: the
// callers check a contiguous tensor or a row-contiguous view).
void check_float_dtype(const frl_ctx* ctx, const frl_tensor* t, const char* name) {
  if (on_cuda(ctx))
    frl::check_dtype(t, name, {FRL_F32, FRL_BF16});
  else
    frl::check_dtype(t, name, {FRL_F32});
}

// t (already checked to live in ctx) has a float storage of ctx's backend and x's dtype.
void check_dtype_of_x(const frl_ctx* ctx, const frl_tensor* t, const char* name, const frl_tensor* x) {
  check_float_dtype(ctx, t, name);
  FRL_REQUIRE(t->dtype == x->dtype, FRL_ERR_SHAPE, "argument '%s' has dtype %s, expected %s (the dtype of 'x')", name,
              frl::dtype_name(t->dtype), frl::dtype_name(x->dtype));
}

// Like check_dtype_of_x, for a row-contiguous view; returns its row stride.
int64_t check_rows_view(const frl_ctx* ctx, const frl_tensor* t, const char* name, const frl_tensor* x) {
  frl::check_view(ctx, t, name);
  check_dtype_of_x(ctx, t, name, x);
  return frl::row_stride(t, name);
}

#ifdef FACTRL_WITH_CUDA
frl::cuda::LinearStrides strides_of(const frl::cpu::LinearLd& ld) { return {ld.x, ld.W, ld.y, ld.dx, ld.dW}; }
#endif

// x [..., K] against W [M, K]; returns {N, K, M} and the row strides of x and W. Every matrix of
// this layer may be a row-contiguous view (a leading dimension >= its width): the GEMMs take it.
struct Dims {
  int64_t N, K, M;
  frl::cpu::LinearLd ld;
};

Dims check_x_w(const frl_ctx* ctx, const frl_tensor* x, const frl_tensor* W) {
  frl::check_view(ctx, x, "x");
  check_float_dtype(ctx, x, "x");
  const int64_t ldx = frl::row_stride(x, "x");
  const frl::Rows rows = frl::check_rows(x, "x");
  const int64_t ldw = check_rows_view(ctx, W, "W", x);
  frl::check_shape(W, "W", {-1, rows.d});
  const int64_t M = W->shape[0];
  return {rows.N, rows.d, M, {ldx, ldw, M, rows.d, rows.d}};
}

// t is F32 in ctx, row-contiguous, and has x's shape with the last dimension replaced by `last`;
// returns its row stride.
int64_t check_rows_like_x(const frl_ctx* ctx, const frl_tensor* t, const char* name, const frl_tensor* x,
                          int64_t last) {
  const int64_t ld = check_rows_view(ctx, t, name, x);
  bool ok = t->ndim == x->ndim && t->shape[t->ndim - 1] == last;
  for (int i = 0; ok && i < x->ndim - 1; i++) ok = t->shape[i] == x->shape[i];
  FRL_REQUIRE(ok, FRL_ERR_SHAPE,
               "argument '%s' has shape %s, expected the shape of 'x' %s with the last dimension %lld",
                      name, frl::shape_string(t).c_str(), frl::shape_string(x).c_str(),
                      static_cast<long long>(last));
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
      frl::check_context(ctx, b, "b");  // contiguous
      check_dtype_of_x(ctx, b, "b", x);
      frl::check_shape(b, "b", {d.M});
    }
    d.ld.y = check_rows_like_x(ctx, y, "y", x, d.M);
    frl::check_no_alias({{y, "y"}}, {{x, "x"}, {W, "W"}, {b, "b"}});
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::linear_forward(ctx, x->dtype, x->data, W->data, b ? b->data : nullptr, y->data, d.N, d.K, d.M,
                                       strides_of(d.ld));
#endif
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
      d.ld.dx = check_rows_view(ctx, dx, "dx", x);
      frl::check_same_shape(dx, "dx", x, "x");
    }
    if (dW) {
      d.ld.dW = check_rows_view(ctx, dW, "dW", x);
      frl::check_same_shape(dW, "dW", W, "W");
    }
    if (db) {
      frl::check_context(ctx, db, "db");  // contiguous
      check_dtype_of_x(ctx, db, "db", x);
      frl::check_shape(db, "db", {d.M});
    }
    frl::check_grad_mode(dx_mode, "dx_mode");
    frl::check_grad_mode(dparam_mode, "dparam_mode");
    frl::check_no_alias({{dx, "dx"}, {dW, "dW"}, {db, "db"}}, {{x, "x"}, {W, "W"}, {dy, "dy"}});
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::linear_backward(ctx, x->dtype, x->data, W->data, dy->data, dx ? dx->data : nullptr,
                                        dW ? dW->data : nullptr, db ? db->data : nullptr, d.N, d.K, d.M,
                                        dx_mode == FRL_GRAD_ACCUMULATE, dparam_mode == FRL_GRAD_ACCUMULATE,
                                        strides_of(d.ld));
#endif
    frl::cpu::linear_backward(frl::data_as<float>(x), frl::data_as<float>(W), frl::data_as<float>(dy),
                              frl::data_as<float>(dx), frl::data_as<float>(dW), frl::data_as<float>(db), d.N, d.K,
                              d.M, dx_mode == FRL_GRAD_ACCUMULATE, dparam_mode == FRL_GRAD_ACCUMULATE, d.ld);
  });
}

}  // extern "C"

// C API of GELU (factrl/gelu.h): argument checks naming the argument, then the CPU reference or
// the CUDA launcher.
#include "factrl/gelu.h"

#include "cpu/gelu_cpu.h"
#include "layer_checks.h"
#ifdef FACTRL_WITH_CUDA
#include "gelu.cuh"
#endif

namespace {

using frl::format;

// A float tensor of x's storage and shape (a compute dtype of ctx's backend, contiguous).
void check_like_x(const frl_ctx* ctx, const frl_tensor* t, const char* name, const frl_tensor* x) {
  frl::check_float_storage(ctx, t, name);
  FRL_REQUIRE(t->dtype == x->dtype, FRL_ERR_SHAPE,
               "argument '%s' has dtype %s, expected %s (the dtype of 'x')", name, frl::dtype_name(t->dtype),
                      frl::dtype_name(x->dtype));
  frl::check_same_shape(t, name, x, "x");
}

void check_approximation(int approximation) {
  FRL_REQUIRE(approximation == FRL_GELU_ERF || approximation == FRL_GELU_TANH, FRL_ERR_ARGUMENT,
               "argument 'approximation' must be FRL_GELU_ERF (0) or FRL_GELU_TANH (1), got %d",
                      approximation);
}

bool on_cuda(const frl_ctx* ctx) { return ctx->backend->kind() == FRL_BACKEND_CUDA; }

}  // namespace

extern "C" {

frl_status frl_gelu_forward(frl_ctx* ctx, const frl_tensor* x, int approximation, frl_tensor* y) {
  return frl::guard("frl_gelu_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_float_storage(ctx, x, "x");
    check_approximation(approximation);
    check_like_x(ctx, y, "y", x);  // y = x is the in-place form
    const bool tanh_approx = approximation == FRL_GELU_TANH;
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx)) return frl::cuda::gelu_forward(ctx, x->dtype, x->data, y->data, x->numel, tanh_approx);
#endif
    frl::cpu::gelu_forward(frl::data_as<float>(x), frl::data_as<float>(y), x->numel, tanh_approx);
  });
}

frl_status frl_gelu_backward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* dy, int approximation,
                             frl_tensor* dx, int mode) {
  return frl::guard("frl_gelu_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_float_storage(ctx, x, "x");
    check_like_x(ctx, dy, "dy", x);
    check_approximation(approximation);
    check_like_x(ctx, dx, "dx", x);
    frl::check_grad_mode(mode, "mode");
    frl::check_no_alias({{dx, "dx"}}, {{x, "x"}, {dy, "dy"}});
    const bool tanh_approx = approximation == FRL_GELU_TANH, acc = mode == FRL_GRAD_ACCUMULATE;
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::gelu_backward(ctx, x->dtype, x->data, dy->data, dx->data, x->numel, tanh_approx, acc);
#endif
    frl::cpu::gelu_backward(frl::data_as<float>(x), frl::data_as<float>(dy), frl::data_as<float>(dx), x->numel,
                            tanh_approx, acc);
  });
}

}  // extern "C"

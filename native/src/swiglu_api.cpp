// C API of the SwiGLU gate (factrl/swiglu.h): argument checks naming the argument, then the CPU
// reference or the CUDA launcher.
#include "factrl/swiglu.h"

#include "cpu/swiglu_cpu.h"
#include "layer_checks.h"
#ifdef FACTRL_WITH_CUDA
#include "swiglu.cuh"
#endif

namespace {

using frl::format;

// A float tensor of a's storage (a compute dtype of ctx's backend, a's dtype) and shape.
void check_like_a(const frl_ctx* ctx, const frl_tensor* t, const char* name, const frl_tensor* a) {
  frl::check_float_storage(ctx, t, name);
  FRL_REQUIRE(t->dtype == a->dtype, FRL_ERR_SHAPE, "argument '%s' has dtype %s, expected %s (the dtype of 'a')", name,
              frl::dtype_name(t->dtype), frl::dtype_name(a->dtype));
  frl::check_same_shape(t, name, a, "a");
}

bool on_cuda(const frl_ctx* ctx) { return ctx->backend->kind() == FRL_BACKEND_CUDA; }

}  // namespace

extern "C" {

frl_status frl_swiglu_forward(frl_ctx* ctx, const frl_tensor* a, const frl_tensor* b, frl_tensor* out) {
  return frl::guard("frl_swiglu_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_float_storage(ctx, a, "a");
    check_like_a(ctx, b, "b", a);
    check_like_a(ctx, out, "out", a);
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx)) return frl::cuda::swiglu_forward(ctx, a->dtype, a->data, b->data, out->data, a->numel);
#endif
    frl::cpu::swiglu_forward(frl::data_as<float>(a), frl::data_as<float>(b), frl::data_as<float>(out), a->numel);
  });
}

frl_status frl_swiglu_backward(frl_ctx* ctx, const frl_tensor* a, const frl_tensor* b, const frl_tensor* dout,
                               frl_tensor* da, frl_tensor* db, int mode) {
  return frl::guard("frl_swiglu_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_float_storage(ctx, a, "a");
    check_like_a(ctx, b, "b", a);
    check_like_a(ctx, dout, "dout", a);
    if (da) check_like_a(ctx, da, "da", a);
    if (db) check_like_a(ctx, db, "db", a);
    frl::check_grad_mode(mode, "mode");
    frl::check_no_alias({{da, "da"}, {db, "db"}}, {{a, "a"}, {b, "b"}, {dout, "dout"}});
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::swiglu_backward(ctx, a->dtype, a->data, b->data, dout->data, da ? da->data : nullptr,
                                        db ? db->data : nullptr, a->numel, mode == FRL_GRAD_ACCUMULATE);
#endif
    frl::cpu::swiglu_backward(frl::data_as<float>(a), frl::data_as<float>(b), frl::data_as<float>(dout),
                              frl::data_as<float>(da), frl::data_as<float>(db), a->numel,
                              mode == FRL_GRAD_ACCUMULATE);
  });
}

}  // extern "C"

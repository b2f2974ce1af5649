// C API of the SwiGLU gate (factrl/swiglu.h): argument checks naming the argument, then the CPU reference.
#include "factrl/swiglu.h"

#include "cpu/swiglu_cpu.h"
#include "layer_checks.h"

namespace {

void check_like_a(const frl_ctx* ctx, const frl_tensor* t, const char* name, const frl_tensor* a) {
  frl::check_f32(ctx, t, name);
  frl::check_same_shape(t, name, a, "a");
}

}  // namespace

extern "C" {

frl_status frl_swiglu_forward(frl_ctx* ctx, const frl_tensor* a, const frl_tensor* b, frl_tensor* out) {
  return frl::guard("frl_swiglu_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_f32(ctx, a, "a");
    check_like_a(ctx, b, "b", a);
    check_like_a(ctx, out, "out", a);
    frl::require_cpu_backend(ctx, "swiglu");
    frl::cpu::swiglu_forward(frl::data_as<float>(a), frl::data_as<float>(b), frl::data_as<float>(out), a->numel);
  });
}

frl_status frl_swiglu_backward(frl_ctx* ctx, const frl_tensor* a, const frl_tensor* b, const frl_tensor* dout,
                               frl_tensor* da, frl_tensor* db, int mode) {
  return frl::guard("frl_swiglu_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_f32(ctx, a, "a");
    check_like_a(ctx, b, "b", a);
    check_like_a(ctx, dout, "dout", a);
    if (da) check_like_a(ctx, da, "da", a);
    if (db) check_like_a(ctx, db, "db", a);
    frl::check_grad_mode(mode, "mode");
    frl::check_no_alias({{da, "da"}, {db, "db"}}, {{a, "a"}, {b, "b"}, {dout, "dout"}});
    frl::require_cpu_backend(ctx, "swiglu");
    frl::cpu::swiglu_backward(frl::data_as<float>(a), frl::data_as<float>(b), frl::data_as<float>(dout),
                              frl::data_as<float>(da), frl::data_as<float>(db), a->numel,
                              mode == FRL_GRAD_ACCUMULATE);
  });
}

}  // extern "C"

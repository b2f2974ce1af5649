// C API of rotary position embedding (factrl/rope.h): argument checks naming the argument, then
// the CPU reference (positions checked first) or the CUDA launcher (positions live on the device:
// the kernel flags a negative one, reported at the next sync).
#include "factrl/rope.h"

#include <cmath>

#include "cpu/rope_cpu.h"
#include "layer_checks.h"
#ifdef FACTRL_WITH_CUDA
#include "rope.cuh"
#endif

using frl::format;

extern "C" {

frl_status frl_rope(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* positions, float base, int inverse,
                    frl_tensor* y, int mode) {
  return frl::guard("frl_rope", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_float_storage(ctx, x, "x");
    frl::check_shape(x, "x", {-1, -1, -1, -1});
    const int64_t B = x->shape[0], S = x->shape[1], H = x->shape[2], D = x->shape[3];
    FRL_REQUIRE(D % 2 == 0, FRL_ERR_SHAPE,
                 "argument 'x' has head size D = %lld, expected an even D (pairs i, i + D/2 rotate)",
                        static_cast<long long>(D));
    frl::check_context(ctx, positions, "positions");
    frl::check_shape(positions, "positions", {B, S});
    frl::check_dtype(positions, "positions", {FRL_I32});
    FRL_REQUIRE(std::isfinite(base) && base > 0, FRL_ERR_ARGUMENT,
                 "argument 'base' must be finite and > 0, got %g", static_cast<double>(base));
    FRL_REQUIRE(inverse == 0 || inverse == 1, FRL_ERR_ARGUMENT,
                 "argument 'inverse' must be 0 or 1, got %d", inverse);
    frl::check_float_storage(ctx, y, "y");
    FRL_REQUIRE(y->dtype == x->dtype, FRL_ERR_SHAPE, "argument 'y' has dtype %s, expected %s (the dtype of 'x')",
                frl::dtype_name(y->dtype), frl::dtype_name(x->dtype));
    frl::check_same_shape(y, "y", x, "x");
    frl::check_grad_mode(mode, "mode");
    frl::check_no_alias({{y, "y"}}, {{positions, "positions"}});  // y = x is the in-place form
#ifdef FACTRL_WITH_CUDA
    if (ctx->backend->kind() == FRL_BACKEND_CUDA)
      return frl::cuda::rope(ctx, x->dtype, x->data, frl::data_as<int32_t>(positions), base, inverse != 0, y->data, B,
                             S, H, D, mode == FRL_GRAD_ACCUMULATE);
#endif
    const int32_t* pos = frl::data_as<int32_t>(positions);
    for (int64_t t = 0; t < B * S; t++)
      FRL_REQUIRE(pos[t] >= 0, FRL_ERR_ARGUMENT,
                   "positions[%lld][%lld] = %d is negative", static_cast<long long>(t / S),
                          static_cast<long long>(t % S), pos[t]);
    frl::cpu::rope(frl::data_as<float>(x), pos, base, inverse != 0, frl::data_as<float>(y), B * S, H, D,
                   mode == FRL_GRAD_ACCUMULATE);
  });
}

}  // extern "C"

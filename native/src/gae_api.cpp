// C API of GAE and masked whitening: argument checks, then the CPU reference or the CUDA launcher.
#include <cmath>
#include <vector>

#include "cpu/gae_cpu.h"
#include "engine.h"
#include "factrl/gae.h"
#ifdef FACTRL_WITH_CUDA
#include "gae.cuh"
#endif

using frl::Error;
using frl::format;

namespace {


// Same dtype and same shape as `like` (named like_name).
void check_same(const frl_tensor* t, const char* name, const frl_tensor* like, const char* like_name) {
  if (t->dtype != like->dtype)
    throw Error(FRL_ERR_SHAPE, format("argument '%s' has dtype %s, but '%s' has dtype %s", name,
                                      frl::dtype_name(t->dtype), like_name, frl::dtype_name(like->dtype)));
  bool same = t->ndim == like->ndim;
  for (int i = 0; same && i < t->ndim; i++) same = t->shape[i] == like->shape[i];
  if (!same)
    throw Error(FRL_ERR_SHAPE, format("argument '%s' has shape %s, but '%s' has shape %s", name,
                                      frl::shape_string(t).c_str(), like_name, frl::shape_string(like).c_str()));
}

void check_mask(frl_ctx* ctx, const frl_tensor* mask, const frl_tensor* like, const char* like_name) {
  frl::check_not_null(mask, "mask");
  frl::check_context(ctx, mask, "mask");
  frl::check_dtype(mask, "mask", {FRL_I32});
  bool same = mask->ndim == like->ndim;
  for (int i = 0; same && i < mask->ndim; i++) same = mask->shape[i] == like->shape[i];
  if (!same)
    throw Error(FRL_ERR_SHAPE, format("argument 'mask' has shape %s, but '%s' has shape %s",
                                      frl::shape_string(mask).c_str(), like_name, frl::shape_string(like).c_str()));
}

void check_distinct(const frl_tensor* out, const char* out_name, const frl_tensor* other, const char* other_name) {
  if (out == other)
    throw Error(FRL_ERR_ARGUMENT,
                format("argument '%s' must not be the same tensor as '%s' (no in-place GAE)", out_name, other_name));
}

void check_unit_interval(float x, const char* name) {
  if (!(std::isfinite(x) && x >= 0.f && x <= 1.f))
    throw Error(FRL_ERR_ARGUMENT, format("argument '%s' must be finite and in [0, 1], got %g", name,
                                         static_cast<double>(x)));
}

[[noreturn]] void bad_mask_row(int64_t row, const int32_t* row_mask, int64_t T) {
  const int64_t t = frl::cpu::mask_row_violation(row_mask, T);
  throw Error(FRL_ERR_ARGUMENT,
              format("argument 'mask': row %lld is not a prefix mask (ones, then zeros): value %d at position %lld",
                     static_cast<long long>(row), t >= 0 ? row_mask[t] : 0, static_cast<long long>(t)));
}

}  // namespace

extern "C" {

frl_status frl_gae(frl_ctx* ctx, const frl_tensor* rewards, const frl_tensor* values, const frl_tensor* mask,
                   float gamma, float lambda, frl_tensor* advantages, frl_tensor* returns) {
  return frl::guard("frl_gae", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_float_storage(ctx, rewards, "rewards");
    frl::check_shape(rewards, "rewards", {-1, -1});
    frl::check_float_storage(ctx, values, "values");
    check_same(values, "values", rewards, "rewards");
    check_mask(ctx, mask, rewards, "rewards");
    frl::check_float_storage(ctx, advantages, "advantages");
    check_same(advantages, "advantages", rewards, "rewards");
    frl::check_float_storage(ctx, returns, "returns");
    check_same(returns, "returns", rewards, "rewards");
    check_distinct(advantages, "advantages", returns, "returns");
    check_distinct(advantages, "advantages", rewards, "rewards");
    check_distinct(advantages, "advantages", values, "values");
    check_distinct(returns, "returns", rewards, "rewards");
    check_distinct(returns, "returns", values, "values");
    check_unit_interval(gamma, "gamma");
    check_unit_interval(lambda, "lambda");
    const int64_t B = rewards->shape[0], T = rewards->shape[1];

    if (ctx->backend->kind() == FRL_BACKEND_CPU) {
      const int32_t* m = frl::data_as<int32_t>(mask);
      const int64_t bad = frl::cpu::gae_f32(frl::data_as<float>(rewards), frl::data_as<float>(values), m, B, T,
                                            gamma, lambda, frl::data_as<float>(advantages),
                                            frl::data_as<float>(returns));
      if (bad >= 0) bad_mask_row(bad, m + bad * T, T);
      return;
    }
#ifdef FACTRL_WITH_CUDA
    // A bad mask row is flagged on the device and reported at the next sync point (no host read here).
    frl::cuda::gae(ctx, rewards->dtype, rewards->data, values->data, frl::data_as<int32_t>(mask), B, T, gamma,
                   lambda, advantages->data, returns->data);
#else
    throw Error(FRL_ERR_UNAVAILABLE, "the CUDA backend is not built into this library");
#endif
  });
}

frl_status frl_masked_whiten(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* mask, int shift_mean, float eps,
                             frl_tensor* out, float* out_mean, float* out_std) {
  return frl::guard("frl_masked_whiten", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_float_storage(ctx, x, "x");
    check_mask(ctx, mask, x, "x");
    frl::check_float_storage(ctx, out, "out");
    check_same(out, "out", x, "x");
    if (!(std::isfinite(eps) && eps >= 0.f))
      throw Error(FRL_ERR_ARGUMENT, format("argument 'eps' must be finite and >= 0, got %g", static_cast<double>(eps)));
    const bool shift = shift_mean != 0;

    if (ctx->backend->kind() == FRL_BACKEND_CPU) {
      const frl::cpu::WhitenCoefficients c = frl::cpu::masked_whiten_f32(
          frl::data_as<float>(x), frl::data_as<int32_t>(mask), x->numel, shift, eps, frl::data_as<float>(out));
      if (out_mean) *out_mean = c.mean;
      if (out_std) *out_std = c.std;
      return;
    }
#ifdef FACTRL_WITH_CUDA
    frl::cuda::masked_whiten(ctx, x->dtype, x->data, frl::data_as<int32_t>(mask), x->numel, shift, eps, out->data,
                             out_mean, out_std);
#else
    throw Error(FRL_ERR_UNAVAILABLE, "the CUDA backend is not built into this library");
#endif
  });
}

}  // extern "C"

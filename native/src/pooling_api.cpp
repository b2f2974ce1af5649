// C API of the reward-head pooling and the per-token value head (factrl/pooling.h): argument
// checks naming the argument, then dispatch to the CPU reference or the CUDA launchers.
#include "factrl/pooling.h"

#include "cpu/pooling_cpu.h"
#include "engine.h"
#include "layer_checks.h"
#ifdef FACTRL_WITH_CUDA
#include "pooling.cuh"
#endif

namespace {

using frl::Error;
using frl::format;

// Not null, in ctx, of shape dims and one of the allowed dtypes — in that order.
void check_tensor(const frl_ctx* ctx, const frl_tensor* t, const char* name,
                  std::initializer_list<int64_t> dims, std::initializer_list<frl_dtype> dtypes) {
  frl::check_context(ctx, t, name);
  frl::check_shape(t, name, dims);
  frl::check_dtype(t, name, dtypes);
}


struct Dims {
  int64_t B, S, d;
};

// h [B,S,d]; returns the sizes.
Dims check_hidden(const frl_ctx* ctx, const frl_tensor* h) {
  frl::check_context(ctx, h, "h");
  frl::require(h->ndim == 3, FRL_ERR_SHAPE,
               format("argument 'h' has shape %s, expected 3 dimensions [B, S, d]",
                      frl::shape_string(h).c_str()));
  frl::check_float_storage(ctx, h, "h");
  return {h->shape[0], h->shape[1], h->shape[2]};
}

// end_index [B] i32 with every entry in [-1, S). The values are checked here on the CPU; on CUDA the
// launcher checks them on the device (no host read) and a bad one fails the next sync point.
void check_end_index(const frl_ctx* ctx, const frl_tensor* end_index, const Dims& dims) {
  check_tensor(ctx, end_index, "end_index", {dims.B}, {FRL_I32});
  if (ctx->backend->kind() != FRL_BACKEND_CPU) return;
  const int32_t* e = frl::data_as<int32_t>(end_index);
  for (int64_t b = 0; b < dims.B; b++) {
    frl::require(e[b] >= -1 && e[b] < dims.S, FRL_ERR_ARGUMENT,
                 format("end_index[%lld] = %d is outside [-1, %lld) (row %lld; -1 marks an empty row)",
                        static_cast<long long>(b), e[b], static_cast<long long>(dims.S),
                        static_cast<long long>(b)));
  }
}

void check_head(const frl_ctx* ctx, const frl_tensor* w, const frl_tensor* bias, const Dims& dims) {
  check_tensor(ctx, w, "w", {dims.d}, {FRL_F32});
  check_tensor(ctx, bias, "bias", {1}, {FRL_F32});
}

// Optional gradient outputs: null is allowed (not computed).
void check_grads(const frl_ctx* ctx, const frl_tensor* dh, const frl_tensor* dw, const frl_tensor* dbias,
                 const Dims& dims) {
  if (dh != nullptr) {
    frl::check_context(ctx, dh, "dh");
    frl::check_shape(dh, "dh", {dims.B, dims.S, dims.d});
    frl::check_float_storage(ctx, dh, "dh");
  }
  if (dw != nullptr) check_tensor(ctx, dw, "dw", {dims.d}, {FRL_F32});
  if (dbias != nullptr) check_tensor(ctx, dbias, "dbias", {1}, {FRL_F32});
}

void check_modes(int dh_mode, int dparam_mode) {
  frl::check_grad_mode(dh_mode, "dh_mode");
  frl::check_grad_mode(dparam_mode, "dparam_mode");
}

bool on_cpu(const frl_ctx* ctx) { return ctx->backend->kind() == FRL_BACKEND_CPU; }

#ifndef FACTRL_WITH_CUDA
[[noreturn]] void no_cuda() {
  throw Error(FRL_ERR_UNAVAILABLE, "the CUDA backend is not built into this library");
}
#endif

}  // namespace

extern "C" {

frl_status frl_reward_head_forward(frl_ctx* ctx, const frl_tensor* h, const frl_tensor* end_index,
                                   const frl_tensor* w, const frl_tensor* bias, frl_tensor* scores) {
  return frl::guard("frl_reward_head_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    Dims dims = check_hidden(ctx, h);
    check_head(ctx, w, bias, dims);
    check_tensor(ctx, scores, "scores", {dims.B}, {FRL_F32});
    frl::check_no_alias({{scores, "scores"}}, {{w, "w"}, {bias, "bias"}});
    check_end_index(ctx, end_index, dims);
    if (dims.B == 0) return;
    if (on_cpu(ctx)) {
      frl::cpu::reward_head_forward(frl::data_as<float>(h), frl::data_as<int32_t>(end_index),
                                    frl::data_as<float>(w), frl::data_as<float>(bias)[0],
                                    frl::data_as<float>(scores), dims.B, dims.S, dims.d);
    } else {
#ifdef FACTRL_WITH_CUDA
      frl::cuda::reward_head_forward(ctx, h->dtype, h->data, frl::data_as<int32_t>(end_index),
                                     frl::data_as<float>(w), frl::data_as<float>(bias),
                                     frl::data_as<float>(scores), dims.B, dims.S, dims.d);
#else
      no_cuda();
#endif
    }
  });
}

frl_status frl_reward_head_backward(frl_ctx* ctx, const frl_tensor* h, const frl_tensor* end_index,
                                    const frl_tensor* w, const frl_tensor* dscores, frl_tensor* dh,
                                    frl_tensor* dw, frl_tensor* dbias, int dh_mode, int dparam_mode) {
  return frl::guard("frl_reward_head_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    Dims dims = check_hidden(ctx, h);
    check_tensor(ctx, w, "w", {dims.d}, {FRL_F32});
    check_tensor(ctx, dscores, "dscores", {dims.B}, {FRL_F32});
    check_grads(ctx, dh, dw, dbias, dims);
    frl::check_no_alias({{dh, "dh"}, {dw, "dw"}, {dbias, "dbias"}}, {{h, "h"}, {w, "w"}, {dscores, "dscores"}});
    check_modes(dh_mode, dparam_mode);
    check_end_index(ctx, end_index, dims);
    if (on_cpu(ctx)) {
      frl::cpu::reward_head_backward(frl::data_as<float>(h), frl::data_as<int32_t>(end_index),
                                     frl::data_as<float>(w), frl::data_as<float>(dscores),
                                     frl::data_as<float>(dh), frl::data_as<float>(dw),
                                     frl::data_as<float>(dbias), dims.B, dims.S, dims.d, dh_mode == FRL_GRAD_ACCUMULATE,
                                     dparam_mode == FRL_GRAD_ACCUMULATE);
    } else {
#ifdef FACTRL_WITH_CUDA
      frl::cuda::reward_head_backward(ctx, h->dtype, h->data, frl::data_as<int32_t>(end_index),
                                      frl::data_as<float>(w), frl::data_as<float>(dscores),
                                      dh ? dh->dtype : FRL_F32, dh ? dh->data : nullptr,
                                      frl::data_as<float>(dw), frl::data_as<float>(dbias), dims.B, dims.S,
                                      dims.d, dh_mode == FRL_GRAD_ACCUMULATE, dparam_mode == FRL_GRAD_ACCUMULATE);
#else
      no_cuda();
#endif
    }
  });
}

frl_status frl_value_head_forward(frl_ctx* ctx, const frl_tensor* h, const frl_tensor* mask,
                                  const frl_tensor* w, const frl_tensor* bias, frl_tensor* values) {
  return frl::guard("frl_value_head_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    Dims dims = check_hidden(ctx, h);
    if (mask != nullptr) check_tensor(ctx, mask, "mask", {dims.B, dims.S}, {FRL_I32});
    check_head(ctx, w, bias, dims);
    check_tensor(ctx, values, "values", {dims.B, dims.S}, {FRL_F32});
    frl::check_no_alias({{values, "values"}}, {{w, "w"}, {bias, "bias"}});
    const int64_t N = dims.B * dims.S;
    if (N == 0) return;
    if (on_cpu(ctx)) {
      frl::cpu::value_head_forward(frl::data_as<float>(h), frl::data_as<int32_t>(mask),
                                   frl::data_as<float>(w), frl::data_as<float>(bias)[0],
                                   frl::data_as<float>(values), N, dims.d);
    } else {
#ifdef FACTRL_WITH_CUDA
      frl::cuda::value_head_forward(ctx, h->dtype, h->data, frl::data_as<int32_t>(mask),
                                    frl::data_as<float>(w), frl::data_as<float>(bias),
                                    frl::data_as<float>(values), N, dims.d);
#else
      no_cuda();
#endif
    }
  });
}

frl_status frl_value_head_backward(frl_ctx* ctx, const frl_tensor* h, const frl_tensor* mask,
                                   const frl_tensor* w, const frl_tensor* dvalues, frl_tensor* dh,
                                   frl_tensor* dw, frl_tensor* dbias, int dh_mode, int dparam_mode) {
  return frl::guard("frl_value_head_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    Dims dims = check_hidden(ctx, h);
    if (mask != nullptr) check_tensor(ctx, mask, "mask", {dims.B, dims.S}, {FRL_I32});
    check_tensor(ctx, w, "w", {dims.d}, {FRL_F32});
    check_tensor(ctx, dvalues, "dvalues", {dims.B, dims.S}, {FRL_F32});
    check_grads(ctx, dh, dw, dbias, dims);
    frl::check_no_alias({{dh, "dh"}, {dw, "dw"}, {dbias, "dbias"}}, {{h, "h"}, {w, "w"}, {dvalues, "dvalues"}});
    check_modes(dh_mode, dparam_mode);
    const int64_t N = dims.B * dims.S;
    if (on_cpu(ctx)) {
      frl::cpu::value_head_backward(frl::data_as<float>(h), frl::data_as<int32_t>(mask),
                                    frl::data_as<float>(w), frl::data_as<float>(dvalues),
                                    frl::data_as<float>(dh), frl::data_as<float>(dw),
                                    frl::data_as<float>(dbias), N, dims.d, dh_mode == FRL_GRAD_ACCUMULATE,
                                    dparam_mode == FRL_GRAD_ACCUMULATE);
    } else {
#ifdef FACTRL_WITH_CUDA
      frl::cuda::value_head_backward(ctx, h->dtype, h->data, frl::data_as<int32_t>(mask),
                                     frl::data_as<float>(w), frl::data_as<float>(dvalues),
                                     dh ? dh->dtype : FRL_F32, dh ? dh->data : nullptr,
                                     frl::data_as<float>(dw), frl::data_as<float>(dbias), N, dims.d,
                                     dh_mode == FRL_GRAD_ACCUMULATE, dparam_mode == FRL_GRAD_ACCUMULATE);
#else
      no_cuda();
#endif
    }
  });
}

}  // extern "C"

// C API of multi-head scaled dot-product attention (factrl/attention.h): argument checks naming
// the argument, then the CPU reference or the CUDA launcher (a CUDA context in a build without
// the CUDA backend cannot exist).
#include "factrl/attention.h"

#include <cmath>

#include "cpu/attention_cpu.h"
#include "layer_checks.h"
#ifdef FACTRL_WITH_CUDA
#include "attention.cuh"
#endif

namespace {

using frl::Error;
using frl::format;

struct Dims {
  int64_t B, S, H, D;
};

bool on_cuda(const frl_ctx* ctx) { return ctx->backend->kind() == FRL_BACKEND_CUDA; }

// q's storage: F32 on the CPU, F32 or BF16 on CUDA.
void check_query_dtype(const frl_ctx* ctx, const frl_tensor* q) {
  if (on_cuda(ctx))
    frl::check_dtype(q, "q", {FRL_F32, FRL_BF16});
  else
    frl::check_dtype(q, "q", {FRL_F32});
}

// q [B,S,H,D] of a float storage of ctx's backend; returns the sizes every other tensor is checked against.
Dims check_query(const frl_ctx* ctx, const frl_tensor* q) {
  frl::check_context(ctx, q, "q");
  FRL_REQUIRE(q->ndim == 4, FRL_ERR_SHAPE,
               "argument 'q' has shape %s, expected 4 dimensions [B, S, H, D]",
                      frl::shape_string(q).c_str());
  check_query_dtype(ctx, q);
  return {q->shape[0], q->shape[1], q->shape[2], q->shape[3]};
}

// A tensor laid out like q: [B,S,H,D] of q's dtype — not null, in ctx, shape, dtype, in that order.
void check_like_query(const frl_ctx* ctx, const frl_tensor* t, const char* name, const Dims& dims,
                      const frl_tensor* q) {
  frl::check_context(ctx, t, name);
  frl::check_shape(t, name, {dims.B, dims.S, dims.H, dims.D});
  if (on_cuda(ctx))
    FRL_REQUIRE(t->dtype == q->dtype, FRL_ERR_SHAPE, "argument '%s' has dtype %s, expected %s (the dtype of 'q')",
                name, frl::dtype_name(t->dtype), frl::dtype_name(q->dtype));
  else
    frl::check_dtype(t, name, {FRL_F32});
}

// lse [B,H,S] F32 on both backends.
void check_lse(const frl_ctx* ctx, const frl_tensor* lse, const Dims& dims) {
  frl::check_context(ctx, lse, "lse");
  frl::check_shape(lse, "lse", {dims.B, dims.H, dims.S});
  frl::check_dtype(lse, "lse", {FRL_F32});
}

void check_causal(int causal) {
  FRL_REQUIRE(causal == 0 || causal == 1, FRL_ERR_ARGUMENT,
               "argument 'causal' must be 0 or 1, got %d", causal);
}

void check_scale(float scale) {
  FRL_REQUIRE(std::isfinite(scale) && scale > 0.0f, FRL_ERR_ARGUMENT,
               "argument 'scale' must be finite and > 0, got %g", static_cast<double>(scale));
}

}  // namespace

extern "C" {

frl_status frl_attention_forward(frl_ctx* ctx, const frl_tensor* q, const frl_tensor* k,
                                 const frl_tensor* v, int causal, float scale, frl_tensor* out,
                                 frl_tensor* lse) {
  return frl::guard("frl_attention_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    Dims dims = check_query(ctx, q);
    check_like_query(ctx, k, "k", dims, q);
    check_like_query(ctx, v, "v", dims, q);
    check_like_query(ctx, out, "out", dims, q);
    if (lse != nullptr) check_lse(ctx, lse, dims);
    check_causal(causal);
    check_scale(scale);
    frl::check_no_alias({{out, "out"}, {lse, "lse"}}, {{q, "q"}, {k, "k"}, {v, "v"}});
    if (dims.B * dims.S * dims.H == 0) return;  // no query rows (D = 0 still has an lse per row)
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::attention_forward(ctx, q->dtype, q->data, k->data, v->data, out->data,
                                          frl::data_as<float>(lse), dims.B, dims.S, dims.H, dims.D, causal != 0,
                                          scale);
#endif
    frl::cpu::attention_forward(frl::data_as<float>(q), frl::data_as<float>(k), frl::data_as<float>(v),
                                frl::data_as<float>(out), frl::data_as<float>(lse), dims.B, dims.S,
                                dims.H, dims.D, causal != 0, scale);
  });
}

frl_status frl_attention_backward(frl_ctx* ctx, const frl_tensor* q, const frl_tensor* k,
                                  const frl_tensor* v, const frl_tensor* out, const frl_tensor* lse,
                                  const frl_tensor* dout, int causal, float scale, frl_tensor* dq,
                                  frl_tensor* dk, frl_tensor* dv, int mode) {
  return frl::guard("frl_attention_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    Dims dims = check_query(ctx, q);
    check_like_query(ctx, k, "k", dims, q);
    check_like_query(ctx, v, "v", dims, q);
    check_like_query(ctx, out, "out", dims, q);
    check_lse(ctx, lse, dims);
    check_like_query(ctx, dout, "dout", dims, q);
    if (dq != nullptr) check_like_query(ctx, dq, "dq", dims, q);
    if (dk != nullptr) check_like_query(ctx, dk, "dk", dims, q);
    if (dv != nullptr) check_like_query(ctx, dv, "dv", dims, q);
    check_causal(causal);
    check_scale(scale);
    frl::check_grad_mode(mode, "mode");
    frl::check_no_alias({{dq, "dq"}, {dk, "dk"}, {dv, "dv"}},
                        {{q, "q"}, {k, "k"}, {v, "v"}, {out, "out"}, {lse, "lse"}, {dout, "dout"}});
    if (dims.B * dims.S * dims.H * dims.D == 0) return;  // every gradient is empty
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::attention_backward(ctx, q->dtype, q->data, k->data, v->data, out->data,
                                           frl::data_as<float>(lse), dout->data, dq ? dq->data : nullptr,
                                           dk ? dk->data : nullptr, dv ? dv->data : nullptr, dims.B, dims.S, dims.H,
                                           dims.D, causal != 0, scale, mode == FRL_GRAD_ACCUMULATE);
#endif
    frl::cpu::attention_backward(frl::data_as<float>(q), frl::data_as<float>(k), frl::data_as<float>(v),
                                 frl::data_as<float>(out), frl::data_as<float>(lse),
                                 frl::data_as<float>(dout), frl::data_as<float>(dq),
                                 frl::data_as<float>(dk), frl::data_as<float>(dv), dims.B, dims.S,
                                 dims.H, dims.D, causal != 0, scale, mode == FRL_GRAD_ACCUMULATE);
  });
}

}  // extern "C"

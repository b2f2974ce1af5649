// C API of multi-head scaled dot-product attention (factrl/attention.h): argument checks naming
// the argument, then the CPU reference. There is no CUDA kernel yet: a CUDA context fails with
// FRL_ERR_UNAVAILABLE, in builds with and without the CUDA backend alike.
#include "factrl/attention.h"

#include <cmath>

#include "cpu/attention_cpu.h"
#include "layer_checks.h"

namespace {

using frl::Error;
using frl::format;

struct Dims {
  int64_t B, S, H, D;
};

// Not null, in ctx, of shape dims and F32 — in that order.
void check_tensor(const frl_ctx* ctx, const frl_tensor* t, const char* name,
                  std::initializer_list<int64_t> dims) {
  frl::check_context(ctx, t, name);
  frl::check_shape(t, name, dims);
  frl::check_dtype(t, name, {FRL_F32});
}

// q [B,S,H,D] F32; returns the sizes every other tensor is checked against.
Dims check_query(const frl_ctx* ctx, const frl_tensor* q) {
  frl::check_context(ctx, q, "q");
  frl::require(q->ndim == 4, FRL_ERR_SHAPE,
               format("argument 'q' has shape %s, expected 4 dimensions [B, S, H, D]",
                      frl::shape_string(q).c_str()));
  frl::check_dtype(q, "q", {FRL_F32});
  return {q->shape[0], q->shape[1], q->shape[2], q->shape[3]};
}

// A tensor laid out like q: [B,S,H,D] F32.
void check_like_query(const frl_ctx* ctx, const frl_tensor* t, const char* name, const Dims& dims) {
  check_tensor(ctx, t, name, {dims.B, dims.S, dims.H, dims.D});
}

void check_lse(const frl_ctx* ctx, const frl_tensor* lse, const Dims& dims) {
  check_tensor(ctx, lse, "lse", {dims.B, dims.H, dims.S});
}

void check_causal(int causal) {
  frl::require(causal == 0 || causal == 1, FRL_ERR_ARGUMENT,
               format("argument 'causal' must be 0 or 1, got %d", causal));
}

void check_scale(float scale) {
  frl::require(std::isfinite(scale) && scale > 0.0f, FRL_ERR_ARGUMENT,
               format("argument 'scale' must be finite and > 0, got %g", static_cast<double>(scale)));
}

}  // namespace

extern "C" {

frl_status frl_attention_forward(frl_ctx* ctx, const frl_tensor* q, const frl_tensor* k,
                                 const frl_tensor* v, int causal, float scale, frl_tensor* out,
                                 frl_tensor* lse) {
  return frl::guard("frl_attention_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    Dims dims = check_query(ctx, q);
    check_like_query(ctx, k, "k", dims);
    check_like_query(ctx, v, "v", dims);
    check_like_query(ctx, out, "out", dims);
    if (lse != nullptr) check_lse(ctx, lse, dims);
    check_causal(causal);
    check_scale(scale);
    frl::check_no_alias({{out, "out"}, {lse, "lse"}}, {{q, "q"}, {k, "k"}, {v, "v"}});
    frl::require_cpu_backend(ctx, "attention");
    if (dims.B * dims.S * dims.H == 0) return;  // no query rows (D = 0 still has an lse per row)
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
    check_like_query(ctx, k, "k", dims);
    check_like_query(ctx, v, "v", dims);
    check_like_query(ctx, out, "out", dims);
    check_lse(ctx, lse, dims);
    check_like_query(ctx, dout, "dout", dims);
    if (dq != nullptr) check_like_query(ctx, dq, "dq", dims);
    if (dk != nullptr) check_like_query(ctx, dk, "dk", dims);
    if (dv != nullptr) check_like_query(ctx, dv, "dv", dims);
    check_causal(causal);
    check_scale(scale);
    frl::check_grad_mode(mode, "mode");
    frl::check_no_alias({{dq, "dq"}, {dk, "dk"}, {dv, "dv"}},
                        {{q, "q"}, {k, "k"}, {v, "v"}, {out, "out"}, {lse, "lse"}, {dout, "dout"}});
    frl::require_cpu_backend(ctx, "attention");
    if (dims.B * dims.S * dims.H * dims.D == 0) return;  // every gradient is empty
    frl::cpu::attention_backward(frl::data_as<float>(q), frl::data_as<float>(k), frl::data_as<float>(v),
                                 frl::data_as<float>(out), frl::data_as<float>(lse),
                                 frl::data_as<float>(dout), frl::data_as<float>(dq),
                                 frl::data_as<float>(dk), frl::data_as<float>(dv), dims.B, dims.S,
                                 dims.H, dims.D, causal != 0, scale, mode == FRL_GRAD_ACCUMULATE);
  });
}

}  // extern "C"

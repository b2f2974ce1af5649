// C API of multi-head scaled dot-product attention (factrl/attention.h): argument checks naming
// the argument, then the CPU reference or the CUDA launcher (a CUDA context in a build without
// the CUDA backend cannot exist). The masked entry points (key lengths, query offsets) run on both:
// on CUDA the per-row values are copied to the host for their checks (a sync point), then the
// kernels read them from device memory. The unmasked entry points run the masked kernels with no
// masks (Sq = Sk = S), which take the very steps they took before.
#include "factrl/attention.h"

#include <cmath>
#include <vector>

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

// ---- masked: q [B,Sq,H,D], k and v [B,Sk,H,D], key_lengths and query_offsets I32 [B] or NULL ----

struct MaskedDims {
  Dims q;      // B, Sq, H, D
  int64_t Sk;  // keys per row
};

// A tensor of ctx with these dims (-1: any) of q's dtype (F32 on the CPU; F32 or BF16 on CUDA).
void check_tensor(const frl_ctx* ctx, const frl_tensor* t, const char* name, std::initializer_list<int64_t> dims,
                  const frl_tensor* q) {
  frl::check_context(ctx, t, name);
  frl::check_shape(t, name, dims);
  if (on_cuda(ctx))
    FRL_REQUIRE(t->dtype == q->dtype, FRL_ERR_SHAPE, "argument '%s' has dtype %s, expected %s (the dtype of 'q')",
                name, frl::dtype_name(t->dtype), frl::dtype_name(q->dtype));
  else
    frl::check_dtype(t, name, {FRL_F32});
}

// k [B,Sk,H,D] of q's dtype against q (any Sk), then v of k's shape; returns Sk.
int64_t check_keys(const frl_ctx* ctx, const frl_tensor* q, const frl_tensor* k, const frl_tensor* v, const Dims& d) {
  check_tensor(ctx, k, "k", {d.B, -1, d.H, d.D}, q);
  const int64_t Sk = k->shape[1];
  check_tensor(ctx, v, "v", {d.B, Sk, d.H, d.D}, q);
  return Sk;
}

// An optional per-row I32 [B] tensor.
void check_per_row(const frl_ctx* ctx, const frl_tensor* t, const char* name, int64_t B) {
  if (t == nullptr) return;
  frl::check_context(ctx, t, name);
  frl::check_shape(t, name, {B});
  frl::check_dtype(t, name, {FRL_I32});
}

// The values L_b in [0, Sk], off_b >= 0, naming the row. On CUDA they are read through host copies
// (`host`, a sync point); the returned masks point at the tensors' own memory either way.
frl::cpu::Masks check_mask_values(const frl_ctx* ctx, const frl_tensor* key_lengths, const frl_tensor* query_offsets,
                                  const MaskedDims& dims) {
  const frl::cpu::Masks own{frl::data_as<int32_t>(key_lengths), frl::data_as<int32_t>(query_offsets)};
  std::vector<int32_t> host_len, host_off;
  frl::cpu::Masks m = own;
  if (on_cuda(ctx)) {
    const size_t bytes = sizeof(int32_t) * static_cast<size_t>(dims.q.B);
    if (own.key_len != nullptr) {
      host_len.resize(static_cast<size_t>(dims.q.B));
      ctx->backend->copy_to_host(host_len.data(), own.key_len, bytes);
      m.key_len = host_len.data();
    }
    if (own.q_off != nullptr) {
      host_off.resize(static_cast<size_t>(dims.q.B));
      ctx->backend->copy_to_host(host_off.data(), own.q_off, bytes);
      m.q_off = host_off.data();
    }
  }
  for (int64_t b = 0; b < dims.q.B; b++) {
    if (m.key_len != nullptr) {
      FRL_REQUIRE(m.key_len[b] >= 0 && m.key_len[b] <= dims.Sk, FRL_ERR_ARGUMENT,
                  "argument 'key_lengths' is %d at row %lld, expected a value in [0, %lld] (Sk, the keys of 'k')",
                  m.key_len[b], static_cast<long long>(b), static_cast<long long>(dims.Sk));
    }
    if (m.q_off != nullptr) {
      FRL_REQUIRE(m.q_off[b] >= 0, FRL_ERR_ARGUMENT,
                  "argument 'query_offsets' is %d at row %lld, expected a value >= 0", m.q_off[b],
                  static_cast<long long>(b));
    }
  }
  return own;
}

// The checks both masked entry points share: q, k, v, the masks, causal, scale.
MaskedDims check_masked_inputs(const frl_ctx* ctx, const frl_tensor* q, const frl_tensor* k, const frl_tensor* v,
                               const frl_tensor* key_lengths, const frl_tensor* query_offsets, int causal,
                               float scale) {
  frl::check_not_null(ctx, "ctx");
  MaskedDims dims{check_query(ctx, q), 0};
  dims.Sk = check_keys(ctx, q, k, v, dims.q);
  check_per_row(ctx, key_lengths, "key_lengths", dims.q.B);
  check_per_row(ctx, query_offsets, "query_offsets", dims.q.B);
  check_causal(causal);
  check_scale(scale);
  return dims;
}

// A tensor laid out like k: [B,Sk,H,D] of q's dtype.
void check_like_keys(const frl_ctx* ctx, const frl_tensor* t, const char* name, const MaskedDims& dims,
                     const frl_tensor* q) {
  check_tensor(ctx, t, name, {dims.q.B, dims.Sk, dims.q.H, dims.q.D}, q);
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
                                frl::data_as<float>(out), frl::data_as<float>(lse), frl::cpu::Masks{nullptr, nullptr},
                                dims.B, dims.S, dims.S, dims.H, dims.D, causal != 0, scale);
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
                                 frl::data_as<float>(dk), frl::data_as<float>(dv), frl::cpu::Masks{nullptr, nullptr},
                                 dims.B, dims.S, dims.S, dims.H, dims.D, causal != 0, scale,
                                 mode == FRL_GRAD_ACCUMULATE);
  });
}

frl_status frl_attention_forward_masked(frl_ctx* ctx, const frl_tensor* q, const frl_tensor* k,
                                        const frl_tensor* v, const frl_tensor* key_lengths,
                                        const frl_tensor* query_offsets, int causal, float scale,
                                        frl_tensor* out, frl_tensor* lse) {
  return frl::guard("frl_attention_forward_masked", [&] {
    const MaskedDims dims = check_masked_inputs(ctx, q, k, v, key_lengths, query_offsets, causal, scale);
    const Dims& d = dims.q;
    check_like_query(ctx, out, "out", d, q);
    if (lse != nullptr) check_lse(ctx, lse, d);
    frl::check_no_alias({{out, "out"}, {lse, "lse"}}, {{q, "q"}, {k, "k"}, {v, "v"}, {key_lengths, "key_lengths"},
                                                       {query_offsets, "query_offsets"}});
    const frl::cpu::Masks masks = check_mask_values(ctx, key_lengths, query_offsets, dims);
    if (d.B * d.S * d.H == 0) return;  // no query rows (D = 0 still has an lse per row)
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::attention_forward_masked(ctx, q->dtype, q->data, k->data, v->data, out->data,
                                                 frl::data_as<float>(lse), masks.key_len, masks.q_off, d.B, d.S,
                                                 dims.Sk, d.H, d.D, causal != 0, scale);
#endif
    frl::cpu::attention_forward(frl::data_as<float>(q), frl::data_as<float>(k), frl::data_as<float>(v),
                                frl::data_as<float>(out), frl::data_as<float>(lse), masks, d.B, d.S, dims.Sk, d.H,
                                d.D, causal != 0, scale);
  });
}

frl_status frl_attention_backward_masked(frl_ctx* ctx, const frl_tensor* q, const frl_tensor* k,
                                         const frl_tensor* v, const frl_tensor* key_lengths,
                                         const frl_tensor* query_offsets, const frl_tensor* out,
                                         const frl_tensor* lse, const frl_tensor* dout, int causal,
                                         float scale, frl_tensor* dq, frl_tensor* dk, frl_tensor* dv,
                                         int mode) {
  return frl::guard("frl_attention_backward_masked", [&] {
    const MaskedDims dims = check_masked_inputs(ctx, q, k, v, key_lengths, query_offsets, causal, scale);
    const Dims& d = dims.q;
    check_like_query(ctx, out, "out", d, q);
    check_lse(ctx, lse, d);
    check_like_query(ctx, dout, "dout", d, q);
    if (dq != nullptr) check_like_query(ctx, dq, "dq", d, q);
    if (dk != nullptr) check_like_keys(ctx, dk, "dk", dims, q);
    if (dv != nullptr) check_like_keys(ctx, dv, "dv", dims, q);
    frl::check_grad_mode(mode, "mode");
    frl::check_no_alias({{dq, "dq"}, {dk, "dk"}, {dv, "dv"}},
                        {{q, "q"}, {k, "k"}, {v, "v"}, {key_lengths, "key_lengths"}, {query_offsets, "query_offsets"},
                         {out, "out"}, {lse, "lse"}, {dout, "dout"}});
    const frl::cpu::Masks masks = check_mask_values(ctx, key_lengths, query_offsets, dims);
    // Every gradient is empty; with Sq = 0 or Sk = 0 there is still a zero dk, dv or dq to write.
    if (d.B * d.H * d.D == 0) return;
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::attention_backward_masked(
          ctx, q->dtype, q->data, k->data, v->data, out->data, frl::data_as<float>(lse), dout->data,
          dq ? dq->data : nullptr, dk ? dk->data : nullptr, dv ? dv->data : nullptr, masks.key_len, masks.q_off, d.B,
          d.S, dims.Sk, d.H, d.D, causal != 0, scale, mode == FRL_GRAD_ACCUMULATE);
#endif
    frl::cpu::attention_backward(frl::data_as<float>(q), frl::data_as<float>(k), frl::data_as<float>(v),
                                 frl::data_as<float>(out), frl::data_as<float>(lse), frl::data_as<float>(dout),
                                 frl::data_as<float>(dq), frl::data_as<float>(dk), frl::data_as<float>(dv), masks, d.B,
                                 d.S, dims.Sk, d.H, d.D, causal != 0, scale, mode == FRL_GRAD_ACCUMULATE);
  });
}

}  // extern "C"

// C API of multi-head scaled dot-product attention (factrl/attention.h): argument checks naming
// the argument, then the CPU reference. There is no CUDA kernel yet: a CUDA context fails with
// FRL_ERR_UNAVAILABLE, in builds with and without the CUDA backend alike. The unmasked entry points
// run the masked kernels with no masks (Sq = Sk = S), which take the very steps they took before.
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
  FRL_REQUIRE(q->ndim == 4, FRL_ERR_SHAPE,
               "argument 'q' has shape %s, expected 4 dimensions [B, S, H, D]",
                      frl::shape_string(q).c_str());
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

// k [B,Sk,H,D] F32 against q (any Sk), then v of k's shape; returns Sk.
int64_t check_keys(const frl_ctx* ctx, const frl_tensor* k, const frl_tensor* v, const Dims& q) {
  check_tensor(ctx, k, "k", {q.B, -1, q.H, q.D});
  const int64_t Sk = k->shape[1];
  check_tensor(ctx, v, "v", {q.B, Sk, q.H, q.D});
  return Sk;
}

// An optional per-row I32 [B] tensor.
void check_per_row(const frl_ctx* ctx, const frl_tensor* t, const char* name, int64_t B) {
  if (t == nullptr) return;
  frl::check_context(ctx, t, name);
  frl::check_shape(t, name, {B});
  frl::check_dtype(t, name, {FRL_I32});
}

// The values (host memory: after the backend check): L_b in [0, Sk], off_b >= 0. Naming the row.
frl::cpu::Masks check_mask_values(const frl_tensor* key_lengths, const frl_tensor* query_offsets,
                                  const MaskedDims& dims) {
  const frl::cpu::Masks m{frl::data_as<int32_t>(key_lengths), frl::data_as<int32_t>(query_offsets)};
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
  return m;
}

// The checks both masked entry points share: q, k, v, the masks, causal, scale.
MaskedDims check_masked_inputs(const frl_ctx* ctx, const frl_tensor* q, const frl_tensor* k, const frl_tensor* v,
                               const frl_tensor* key_lengths, const frl_tensor* query_offsets, int causal,
                               float scale) {
  frl::check_not_null(ctx, "ctx");
  MaskedDims dims{check_query(ctx, q), 0};
  dims.Sk = check_keys(ctx, k, v, dims.q);
  check_per_row(ctx, key_lengths, "key_lengths", dims.q.B);
  check_per_row(ctx, query_offsets, "query_offsets", dims.q.B);
  check_causal(causal);
  check_scale(scale);
  return dims;
}

// A tensor laid out like k: [B,Sk,H,D] F32.
void check_like_keys(const frl_ctx* ctx, const frl_tensor* t, const char* name, const MaskedDims& dims) {
  check_tensor(ctx, t, name, {dims.q.B, dims.Sk, dims.q.H, dims.q.D});
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
    check_like_query(ctx, out, "out", d);
    if (lse != nullptr) check_lse(ctx, lse, d);
    frl::check_no_alias({{out, "out"}, {lse, "lse"}}, {{q, "q"}, {k, "k"}, {v, "v"}, {key_lengths, "key_lengths"},
                                                       {query_offsets, "query_offsets"}});
    frl::require_cpu_backend(ctx, "attention");
    const frl::cpu::Masks masks = check_mask_values(key_lengths, query_offsets, dims);
    if (d.B * d.S * d.H == 0) return;  // no query rows (D = 0 still has an lse per row)
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
    check_like_query(ctx, out, "out", d);
    check_lse(ctx, lse, d);
    check_like_query(ctx, dout, "dout", d);
    if (dq != nullptr) check_like_query(ctx, dq, "dq", d);
    if (dk != nullptr) check_like_keys(ctx, dk, "dk", dims);
    if (dv != nullptr) check_like_keys(ctx, dv, "dv", dims);
    frl::check_grad_mode(mode, "mode");
    frl::check_no_alias({{dq, "dq"}, {dk, "dk"}, {dv, "dv"}},
                        {{q, "q"}, {k, "k"}, {v, "v"}, {key_lengths, "key_lengths"}, {query_offsets, "query_offsets"},
                         {out, "out"}, {lse, "lse"}, {dout, "dout"}});
    frl::require_cpu_backend(ctx, "attention");
    const frl::cpu::Masks masks = check_mask_values(key_lengths, query_offsets, dims);
    // Every gradient is empty; with Sq = 0 or Sk = 0 there is still a zero dk, dv or dq to write.
    if (d.B * d.H * d.D == 0) return;
    frl::cpu::attention_backward(frl::data_as<float>(q), frl::data_as<float>(k), frl::data_as<float>(v),
                                 frl::data_as<float>(out), frl::data_as<float>(lse), frl::data_as<float>(dout),
                                 frl::data_as<float>(dq), frl::data_as<float>(dk), frl::data_as<float>(dv), masks, d.B,
                                 d.S, dims.Sk, d.H, d.D, causal != 0, scale, mode == FRL_GRAD_ACCUMULATE);
  });
}

}  // extern "C"

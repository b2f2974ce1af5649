// Prefill and the batched decode step over a KV cache (factrl/generate.h), running the decoder's own
// per-layer code (decoder_layer_qkv / decoder_layer_out / decoder_head of decoder_forward.cpp):
//
//   prefill:  the normal causal forward over the right-padded prompts; for every layer l the hook
//             copies K_l = rope(k(RMS1 x_l)) and V_l of row b's first len_b positions into the cache;
//             last logits of row b = logits[b, len_b − 1].
//   decode:   for each active row b with new token t_b at position p_b = len_b:
//             x = embed(t_b); per layer: q, k, v as in the forward (RoPE at p_b); K_l[b, p_b] = k,
//             V_l[b, p_b] = v; att = softmax(scale · q K_l[b, 0..p_b]ᵀ) V_l[b, 0..p_b] (masked
//             attention with key_lengths = len + 1, query_offsets = len); o, residual, SwiGLU MLP
//             as in the forward; logits = lm_head(RMS_f x); len_b += 1.
// Active rows are compacted for the projections and the MLP (finished rows cost nothing); the
// attention runs over the batch's rows with key length 0 for inactive ones (they read no key).
#include <cmath>
#include <cstring>

#include "cpu/attention_cpu.h"
#include "cpu/embedding_cpu.h"
#include "model/kv_cache.h"
#include "model/model_ops.h"

namespace frl {
namespace model {
namespace {

size_t floats(int64_t n) { return sizeof(float) * static_cast<size_t>(n); }

}  // namespace

void prefill(frl_model* model, const char* adapter, frl_kv_cache* kc, const frl_model_inputs* prompts,
             const frl_tensor* prompt_lengths, float* last_logits) {
  check_not_null(model, "model");
  check_not_null(kc, "cache");
  FRL_REQUIRE(kc->model == model, FRL_ERR_ARGUMENT, "argument 'cache' was created for another model");
  check_not_null(prompts, "prompts");
  const frl_tensor* ids = prompts->input_ids;
  check_not_null(ids, "prompts->input_ids");
  check_context(model->ctx, ids, "prompts->input_ids");
  check_dtype(ids, "prompts->input_ids", {FRL_I32});
  check_shape(ids, "prompts->input_ids", {-1, -1});
  const int64_t B = ids->shape[0], S = ids->shape[1];
  FRL_REQUIRE(B >= 1 && B <= kc->max_batch, FRL_ERR_SHAPE,
              "argument 'prompts->input_ids' has shape %s: B must be in [1, the cache's max_batch = %lld]",
              shape_string(ids).c_str(), static_cast<long long>(kc->max_batch));
  check_not_null(prompt_lengths, "prompt_lengths");
  check_context(model->ctx, prompt_lengths, "prompt_lengths");
  check_dtype(prompt_lengths, "prompt_lengths", {FRL_I32});
  check_shape(prompt_lengths, "prompt_lengths", {B});
  const int32_t* len = static_cast<const int32_t*>(prompt_lengths->data);
  for (int64_t b = 0; b < B; b++) {
    FRL_REQUIRE(len[b] >= 1 && len[b] <= S, FRL_ERR_ARGUMENT,
                "argument 'prompt_lengths': row %lld holds %d, outside [1, S = %lld]", static_cast<long long>(b),
                len[b], static_cast<long long>(S));
    FRL_REQUIRE(len[b] <= kc->max_len, FRL_ERR_SHAPE,
                "argument 'prompt_lengths': row %lld holds %d, more than the cache's max_len %lld",
                static_cast<long long>(b), len[b], static_cast<long long>(kc->max_len));
  }
  const std::vector<int32_t> lens(len, len + B);  // the hook runs after the checks; keep a copy
  const int64_t d = model->dims.d, Lmax = kc->max_len;
  KvHook hook = [&](int64_t l, const float* kr, const float* v) {
    for (int64_t b = 0; b < B; b++) {
      std::memcpy(kc->k[l] + b * Lmax * d, kr + b * S * d, floats(lens[b] * d));
      std::memcpy(kc->v[l] + b * Lmax * d, v + b * S * d, floats(lens[b] * d));
    }
  };
  kc->batch = 0;  // unusable until the prefill completes
  // frl_model_forward's checks and pass, with the hook and the logits of every position.
  model->gen_kv_hook = &hook;
  model->gen_force_logits = true;
  const frl_status st = frl_model_forward(model, adapter, prompts, nullptr, 0);
  model->gen_kv_hook = nullptr;
  model->gen_force_logits = false;
  if (st != FRL_OK) throw Error(st, frl_last_error());
  const int64_t V = model->dims.V;
  for (int64_t b = 0; b < B; b++)
    std::memcpy(last_logits + b * V, model->acts.logits + (b * S + lens[b] - 1) * V, floats(V));
  kc->lengths.assign(lens.begin(), lens.end());
  kc->batch = B;
  kc->has_adapter = adapter != nullptr;
  kc->adapter = adapter ? adapter : "";
}

void decode_step(frl_kv_cache* kc, const int32_t* tokens, const int32_t* active, float* logits) {
  frl_model* model = kc->model;
  // The decoder's layer halves dispatch through model_ops.h (a KV cache exists on CPU contexts only:
  // frl_kv_cache_create refuses CUDA, so this step's own cpu:: calls below are on host memory).
  ExecScope scope(model->ctx);
  const AdapterView ad = adapter_view(
      kc->has_adapter ? find_adapter(model, kc->adapter.c_str(), "the cache's adapter set") : nullptr, nullptr);
  const Dims& D = model->dims;
  const BaseLayout& L = model->layout;
  const Ptrs& w = model->w;
  const frl_model_config& c = model->config;
  frl_kv_decode_scratch& s = kc->s;
  const int64_t B = kc->batch, d = D.d, V = D.V, Lmax = kc->max_len;
  int64_t n = 0;
  for (int64_t b = 0; b < B; b++) {
    const bool on = active == nullptr || active[b] != 0;
    s.key_len[b] = on ? kc->lengths[b] + 1 : 0;
    s.q_off[b] = on ? kc->lengths[b] : 0;
    if (!on) continue;
    s.rows[n] = static_cast<int32_t>(b);
    s.ids[n] = tokens[b];
    s.positions[n] = kc->lengths[b];
    n++;
  }
  if (n == 0) return;
  cpu::embedding_forward(s.ids, w[L.embed], s.x0, n, d);
  const float scale = 1.0f / std::sqrt(static_cast<float>(D.Dh));
  float *in = s.x0, *out = s.x1;
  DecoderLayerActs& x = s.acts;
  for (int64_t l = 0; l < D.L; l++) {
    decoder_layer_qkv(D, L, w, c, ad, l, in, s.positions, s.q_tmp, s.k_tmp, x, n);
    for (int64_t i = 0; i < n; i++) {
      const int64_t b = s.rows[i], at = (b * Lmax + kc->lengths[b]) * d;
      std::memcpy(kc->k[l] + at, x.kr + i * d, floats(d));
      std::memcpy(kc->v[l] + at, x.v + i * d, floats(d));
      std::memcpy(s.q_full + b * d, x.qr + i * d, floats(d));
    }
    cpu::attention_forward(s.q_full, kc->k[l], kc->v[l], s.att_full, nullptr, cpu::Masks{s.key_len, s.q_off}, B, 1,
                           Lmax, D.H_heads, D.Dh, true, scale);
    for (int64_t i = 0; i < n; i++) std::memcpy(x.att + i * d, s.att_full + s.rows[i] * d, floats(d));
    decoder_layer_out(D, L, w, c, ad, l, in, x, out, n);
    std::swap(in, out);
  }
  decoder_head(D, L, w, c, in, s.hidden, s.rstd_f, s.logits, n);
  for (int64_t i = 0; i < n; i++) {
    const int64_t b = s.rows[i];
    std::memcpy(logits + b * V, s.logits + i * V, floats(V));
    kc->lengths[b]++;
  }
}

}  // namespace model
}  // namespace frl

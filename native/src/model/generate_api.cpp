// C API of generation (factrl/generate.h): the KV cache's lifetime, prefill, the decode step and
// frl_model_generate, whose loop is
//
//   logits_b = prefill(prompt_b)                     (the last real prompt position)
//   for t in 0 .. max_new_tokens − 1, for each unfinished row b:
//     y_b,t  = sample(logits_b; temperature, top_p, stream (seed, b))
//     logp   = log_softmax(logits_b)[y_b,t]          (temperature 1, no top-p: PPO's distribution)
//     finished when y_b,t = eos or t = max_new_tokens − 1 (length t + 1)
//   decode_step(the unfinished rows' y_b,t) → their next logits_b
//
// All checks come first (FRL_REQUIRE naming the argument / config field / row), so a failing call
// changes nothing.
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "cpu/kl_cpu.h"
#include "engine.h"
#include "factrl/generate.h"
#include "model/kv_cache.h"
#include "model/sampling.h"
#include "storage.h"

using frl::guard;
namespace fm = frl::model;

namespace {

void check_cache(const frl_kv_cache* cache) { frl::check_not_null(cache, "cache"); }

void check_tensor(frl_ctx* ctx, const frl_tensor* t, const char* name, frl_dtype dtype) {
  frl::check_context(ctx, t, name);
  frl::check_dtype(t, name, {dtype});
}

void check_decode_model(const frl_model* model, const frl_kv_cache* cache) {
  frl::check_not_null(model, "model");
  check_cache(cache);
  FRL_REQUIRE(cache->model == model, FRL_ERR_ARGUMENT, "argument 'cache' was created for another model");
  FRL_REQUIRE(cache->batch > 0, FRL_ERR_ARGUMENT, "argument 'cache' holds no prompts: call frl_model_prefill first");
}

// Row b can take one more position (its next decode step appends at lengths[b]).
void check_room(const frl_kv_cache* cache, int64_t b, const char* arg) {
  FRL_REQUIRE(cache->lengths[b] < cache->max_len, FRL_ERR_SHAPE,
              "argument '%s': row %lld is full (%d cached positions = the cache's max_len %lld)", arg,
              static_cast<long long>(b), cache->lengths[b], static_cast<long long>(cache->max_len));
}

void check_config(const frl_generate_config* g, int32_t V) {
  frl::check_not_null(g, "config");
  FRL_REQUIRE(g->max_new_tokens >= 1, FRL_ERR_ARGUMENT, "argument 'config->max_new_tokens' must be >= 1, got %d",
              g->max_new_tokens);
  FRL_REQUIRE(std::isfinite(g->temperature) && g->temperature >= 0.f, FRL_ERR_ARGUMENT,
              "argument 'config->temperature' must be 0 (greedy) or finite and > 0, got %g",
              static_cast<double>(g->temperature));
  FRL_REQUIRE(g->top_p > 0.f && g->top_p <= 1.f, FRL_ERR_ARGUMENT, "argument 'config->top_p' must be in (0, 1], got %g",
              static_cast<double>(g->top_p));
  FRL_REQUIRE(g->eos_token_id == -1 || (g->eos_token_id >= 0 && g->eos_token_id < V), FRL_ERR_ARGUMENT,
              "argument 'config->eos_token_id' must be in [0, vocab_size = %d) or -1, got %d", V, g->eos_token_id);
  FRL_REQUIRE(g->pad_token_id >= 0 && g->pad_token_id < V, FRL_ERR_ARGUMENT,
              "argument 'config->pad_token_id' must be in [0, vocab_size = %d), got %d", V, g->pad_token_id);
}

}  // namespace

extern "C" {

frl_status frl_kv_cache_create(frl_model* model, int64_t max_batch, int64_t max_len, frl_kv_cache** out_cache) {
  return guard("frl_kv_cache_create", [&] {
    frl::check_not_null(model, "model");
    frl::check_not_null(out_cache, "out_cache");
    *out_cache = nullptr;
    FRL_REQUIRE(model->ctx->backend->kind() == FRL_BACKEND_CPU, FRL_ERR_UNAVAILABLE,
                "generation has no CUDA path yet (the KV cache, the masked decode-step attention over it and "
                "sampling run on host memory only; frl_model_forward / frl_model_backward do run on CUDA): use a "
                "model on a CPU context");
    FRL_REQUIRE(max_batch > 0, FRL_ERR_ARGUMENT, "argument 'max_batch' must be > 0, got %lld",
                static_cast<long long>(max_batch));
    FRL_REQUIRE(max_len > 0 && max_len <= model->config.max_positions, FRL_ERR_ARGUMENT,
                "argument 'max_len' must be in [1, max_positions = %d], got %lld", model->config.max_positions,
                static_cast<long long>(max_len));
    const fm::Dims& D = model->dims;
    const double bound = 4.0 * static_cast<double>(max_batch) *
                         (2.0 * D.L * static_cast<double>(max_len) * D.d + 16.0 * D.d + 3.0 * D.F + 2.0 * D.V + 64.0);
    FRL_REQUIRE(bound < 1.0e15, FRL_ERR_MEMORY, "the cache (max_batch %lld, max_len %lld) needs about %.3g bytes",
                static_cast<long long>(max_batch), static_cast<long long>(max_len), bound);
    auto cache = std::make_unique<frl_kv_cache>();
    const int64_t bytes = fm::carve_kv_cache(D, max_batch, max_len, nullptr, nullptr);
    cache->storage = frl::create_storage(model->ctx, static_cast<size_t>(bytes), FRL_STORAGE_ARENA);
    fm::carve_kv_cache(D, max_batch, max_len, static_cast<char*>(cache->storage->base), cache.get());
    cache->model = model;
    cache->ctx = model->ctx;
    cache->max_batch = max_batch;
    cache->max_len = max_len;
    model->ctx->live_containers++;
    *out_cache = cache.release();
  });
}

frl_status frl_kv_cache_destroy(frl_kv_cache* cache) {
  return guard("frl_kv_cache_destroy", [&] {
    check_cache(cache);
    frl::release_storage(cache->storage, "KV cache");
    cache->ctx->live_containers--;
    delete cache;
  });
}

frl_status frl_kv_cache_bytes(const frl_kv_cache* cache, int64_t* out_bytes) {
  return guard("frl_kv_cache_bytes", [&] {
    check_cache(cache);
    frl::check_not_null(out_bytes, "out_bytes");
    *out_bytes = static_cast<int64_t>(cache->storage->bytes);
  });
}

frl_status frl_kv_cache_lengths(const frl_kv_cache* cache, int32_t* out_lengths, int64_t count) {
  return guard("frl_kv_cache_lengths", [&] {
    check_cache(cache);
    FRL_REQUIRE(count == cache->batch, FRL_ERR_ARGUMENT,
                "argument 'count' is %lld but the cache holds %lld rows (its last prefill's batch)",
                static_cast<long long>(count), static_cast<long long>(cache->batch));
    if (count == 0) return;
    frl::check_not_null(out_lengths, "out_lengths");
    std::memcpy(out_lengths, cache->lengths.data(), sizeof(int32_t) * static_cast<size_t>(count));
  });
}

frl_status frl_model_prefill(frl_model* model, const char* adapter, frl_kv_cache* cache,
                             const frl_model_inputs* prompts, const frl_tensor* prompt_lengths,
                             frl_tensor* last_logits) {
  return guard("frl_model_prefill", [&] {
    frl::check_not_null(model, "model");
    check_cache(cache);
    if (last_logits) {
      frl::check_not_null(prompts, "prompts");
      frl::check_not_null(prompts->input_ids, "prompts->input_ids");
      check_tensor(model->ctx, last_logits, "last_logits", FRL_F32);
      frl::check_shape(last_logits, "last_logits", {prompts->input_ids->shape[0], model->dims.V});
      frl::check_no_alias({{last_logits, "last_logits"}},
                          {{prompts->input_ids, "prompts->input_ids"}, {prompts->images, "prompts->images"},
                           {prompt_lengths, "prompt_lengths"}});
    }
    fm::prefill(model, adapter, cache, prompts, prompt_lengths, cache->last_logits);
    if (last_logits)
      std::memcpy(last_logits->data, cache->last_logits, sizeof(float) * static_cast<size_t>(cache->batch * model->dims.V));
  });
}

frl_status frl_model_decode_step(frl_model* model, frl_kv_cache* cache, const frl_tensor* tokens,
                                 const frl_tensor* active, frl_tensor* logits) {
  return guard("frl_model_decode_step", [&] {
    check_decode_model(model, cache);
    const int64_t B = cache->batch, V = model->dims.V;
    frl::check_not_null(tokens, "tokens");
    check_tensor(model->ctx, tokens, "tokens", FRL_I32);
    frl::check_shape(tokens, "tokens", {B});
    const int32_t* tok = static_cast<const int32_t*>(tokens->data);
    const int32_t* act = nullptr;
    if (active) {
      check_tensor(model->ctx, active, "active", FRL_I32);
      frl::check_shape(active, "active", {B});
      act = static_cast<const int32_t*>(active->data);
    }
    if (logits) {
      check_tensor(model->ctx, logits, "logits", FRL_F32);
      frl::check_shape(logits, "logits", {B, V});
      frl::check_no_alias({{logits, "logits"}}, {{tokens, "tokens"}, {active, "active"}});
    }
    for (int64_t b = 0; b < B; b++) {
      if (act && act[b] == 0) continue;
      FRL_REQUIRE(tok[b] >= 0 && tok[b] < V, FRL_ERR_ARGUMENT,
                  "argument 'tokens': row %lld holds %d, outside [0, vocab_size = %lld)", static_cast<long long>(b),
                  tok[b], static_cast<long long>(V));
      check_room(cache, b, "cache");
    }
    // Logits go to the caller's rows directly (the inactive ones stay as they are).
    float* out = logits ? static_cast<float*>(logits->data) : cache->last_logits;
    fm::decode_step(cache, tok, act, out);
  });
}

frl_status frl_model_generate(frl_model* model, const char* adapter, frl_kv_cache* cache,
                              const frl_model_inputs* prompts, const frl_tensor* prompt_lengths,
                              const frl_generate_config* config, frl_tensor* out_tokens, frl_tensor* out_logp,
                              frl_tensor* out_lengths) {
  return guard("frl_model_generate", [&] {
    frl::check_not_null(model, "model");
    check_cache(cache);
    check_config(config, model->config.vocab_size);
    frl::check_not_null(prompts, "prompts");
    const frl_tensor* ids = prompts->input_ids;
    frl::check_not_null(ids, "prompts->input_ids");
    check_tensor(model->ctx, ids, "prompts->input_ids", FRL_I32);
    frl::check_shape(ids, "prompts->input_ids", {-1, -1});
    const int64_t B = ids->shape[0], T = config->max_new_tokens, V = model->dims.V;
    frl::check_not_null(prompt_lengths, "prompt_lengths");
    check_tensor(model->ctx, prompt_lengths, "prompt_lengths", FRL_I32);
    frl::check_shape(prompt_lengths, "prompt_lengths", {B});
    const int32_t* plen = static_cast<const int32_t*>(prompt_lengths->data);
    // The last sampled token is never fed back, so a row needs prompt + max_new_tokens − 1 positions.
    for (int64_t b = 0; b < B; b++)
      FRL_REQUIRE(static_cast<int64_t>(plen[b]) + T - 1 <= cache->max_len, FRL_ERR_SHAPE,
                  "row %lld: prompt_lengths %d + config->max_new_tokens %d - 1 exceeds the cache's max_len %lld",
                  static_cast<long long>(b), plen[b], config->max_new_tokens, static_cast<long long>(cache->max_len));
    frl::check_not_null(out_tokens, "out_tokens");
    check_tensor(model->ctx, out_tokens, "out_tokens", FRL_I32);
    frl::check_shape(out_tokens, "out_tokens", {B, T});
    if (out_logp) {
      check_tensor(model->ctx, out_logp, "out_logp", FRL_F32);
      frl::check_shape(out_logp, "out_logp", {B, T});
    }
    frl::check_not_null(out_lengths, "out_lengths");
    check_tensor(model->ctx, out_lengths, "out_lengths", FRL_I32);
    frl::check_shape(out_lengths, "out_lengths", {B});
    frl::check_no_alias({{out_tokens, "out_tokens"}, {out_logp, "out_logp"}, {out_lengths, "out_lengths"}},
                        {{ids, "prompts->input_ids"}, {prompts->images, "prompts->images"},
                         {prompt_lengths, "prompt_lengths"}});

    fm::prefill(model, adapter, cache, prompts, prompt_lengths, cache->last_logits);
    int32_t* tok_out = static_cast<int32_t*>(out_tokens->data);
    float* logp_out = out_logp ? static_cast<float*>(out_logp->data) : nullptr;
    int32_t* len_out = static_cast<int32_t*>(out_lengths->data);
    for (int64_t i = 0; i < B * T; i++) tok_out[i] = config->pad_token_id;
    if (logp_out) std::memset(logp_out, 0, sizeof(float) * static_cast<size_t>(B * T));
    std::vector<fm::RowRng> rng;
    rng.reserve(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; b++) rng.emplace_back(config->seed, static_cast<uint64_t>(b));
    std::vector<int32_t> next(static_cast<size_t>(B), 0), active(static_cast<size_t>(B), 1);
    fm::SamplerScratch scratch;
    for (int64_t t = 0; t < T; t++) {
      bool any = false;
      for (int64_t b = 0; b < B; b++) {
        if (!active[b]) continue;
        const float* row = cache->last_logits + b * V;
        const int32_t y = fm::sample_token(row, V, config->temperature, config->top_p, rng[b], scratch);
        tok_out[b * T + t] = y;
        if (logp_out) {  // the same log-softmax kernel as the forward's logp output
          frl::cpu::KlOutputs o;
          o.logp_policy = logp_out + b * T + t;
          frl::cpu::token_logprobs_forward(row, nullptr, &y, nullptr, 1, V, o);
        }
        next[b] = y;
        if (y == config->eos_token_id || t == T - 1) {
          active[b] = 0;
          len_out[b] = static_cast<int32_t>(t + 1);
        } else {
          any = true;
        }
      }
      if (!any) break;
      fm::decode_step(cache, next.data(), active.data(), cache->last_logits);
    }
  });
}

}  // extern "C"

/*
 * FactRL C API: generation with the LLaVA model (factrl/model.h) — a KV cache, prefill, the batched
 * decode step, and whole sampled generations in one native call (DESIGN.md §1: the decode loop
 * lives in C++ because per-op JNI crossings would dominate it).
 *
 * KV cache: for every decoder layer, K (after RoPE) and V of up to max_len positions of up to
 * max_batch rows ([B, max_len, heads, d/heads] each), plus the decode step's scratch. Row b holds
 * lengths[b] cached positions; a decode step appends one.
 *
 * Prefill: prompts input_ids I32 [B, S] (right-padded; prompt_lengths I32 [B] real tokens each,
 * 1..S), images as in frl_model_forward (image tokens count in the prompt's length). Runs the prompt
 * through the model under `adapter` (NULL = base), stores each row's first prompt_lengths[b] K/V
 * positions in the cache, sets lengths[b] = prompt_lengths[b], and writes the logits of each row's
 * last real prompt token, last_logits F32 [B, V]. Padding positions are never cached and never
 * attended. The prefill runs frl_model_forward's pass (so its errors name the prompt fields as
 * inputs->input_ids / inputs->images): the model needs a plan (frl_model_plan) covering [B, S] and
 * the images; B <= max_batch, prompt_lengths[b] <= max_len (FRL_ERR_SHAPE naming the row).
 * last_logits may be NULL. A failed prefill leaves the cache empty (decode steps refuse).
 *
 * Decode step: tokens I32 [B] — one new token per row at position lengths[b] (RoPE position too);
 * attends to the row's cached keys 0..lengths[b] (its own included); appends; writes logits
 * F32 [B, V]. Rows with active[b] = 0 (I32 [B], or NULL = all active) are skipped: nothing appended,
 * their logits row is left as it is; logits may be NULL. Exceeding max_len fails (FRL_ERR_SHAPE)
 * naming the row. A token equal to image_token_id is embedded as its own embedding row (the splice
 * happens only in the prompt).
 * The cache must be used with one adapter set throughout (the one of its prefill).
 *
 * Generate: prefill, then up to max_new_tokens decode steps, sampling each row's next token from
 * softmax(logits / temperature) restricted to the smallest set of most likely tokens whose mass
 * reaches top_p (nucleus; top_p = 1 keeps all), or the argmax when temperature = 0 (ties: lowest id).
 * A row stops after emitting eos_token_id (included in its output) or at max_new_tokens; its later
 * slots hold pad_token_id and logp 0. Outputs: tokens I32 [B, max_new_tokens], logp F32
 * [B, max_new_tokens] or NULL — the log-prob of each emitted token under the model's own
 * distribution log_softmax(logits) (temperature 1, no top-p: the distribution PPO's scoring pass and
 * training forward compute, so old and new log-probs agree), lengths I32 [B] (tokens emitted).
 * Every row needs prompt_lengths[b] + max_new_tokens - 1 <= max_len (the last token is never fed
 * back), checked before any work (FRL_ERR_SHAPE naming the row); out_lengths is required. After the
 * call the cache holds each row's prompt and its emitted tokens but the last.
 * Randomness: row b draws from its own stream seeded by (seed, b), so a row's sample does not depend
 * on the other rows in the batch or on the thread count; same inputs + seed → same tokens.
 *
 * Lifetime: a cache belongs to its model (destroy it first); frl_kv_cache_create counts its bytes in
 * frl_ctx_bytes_in_use and fails with FRL_ERR_UNAVAILABLE on a CUDA context; max_len <=
 * max_positions. frl_kv_cache_lengths: count must equal the last prefill's batch (0 before any).
 *
 * Cached = uncached: the decode step's logits equal those of frl_model_forward over the whole
 * sequence at the same position (the tests check it to a stated tolerance, and the generated tokens
 * exactly under greedy decoding).
 */
#ifndef FACTRL_GENERATE_H
#define FACTRL_GENERATE_H
#include "../factrl.h"
#include "model.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef struct frl_kv_cache frl_kv_cache;

typedef struct frl_generate_config {
  int32_t max_new_tokens;  /* >= 1 */
  float temperature;       /* 0 (greedy) or > 0, finite */
  float top_p;             /* (0, 1] */
  int32_t eos_token_id;    /* in [0, V), or -1: never stop early */
  int32_t pad_token_id;    /* in [0, V) */
  uint64_t seed;
} frl_generate_config;

frl_status frl_kv_cache_create(frl_model* model, int64_t max_batch, int64_t max_len, frl_kv_cache** out_cache);
frl_status frl_kv_cache_destroy(frl_kv_cache* cache);
/* Bytes the cache holds (K, V and scratch): its share of the memory plan. */
frl_status frl_kv_cache_bytes(const frl_kv_cache* cache, int64_t* out_bytes);
/* Copies the cached lengths (I32 [B] of the last prefill's batch) to host memory. */
frl_status frl_kv_cache_lengths(const frl_kv_cache* cache, int32_t* out_lengths, int64_t count);

frl_status frl_model_prefill(frl_model* model, const char* adapter, frl_kv_cache* cache,
                             const frl_model_inputs* prompts, const frl_tensor* prompt_lengths,
                             frl_tensor* last_logits);

frl_status frl_model_decode_step(frl_model* model, frl_kv_cache* cache, const frl_tensor* tokens,
                                 const frl_tensor* active, frl_tensor* logits);

frl_status frl_model_generate(frl_model* model, const char* adapter, frl_kv_cache* cache,
                              const frl_model_inputs* prompts, const frl_tensor* prompt_lengths,
                              const frl_generate_config* config, frl_tensor* out_tokens,
                              frl_tensor* out_logp, frl_tensor* out_lengths);

#ifdef __cplusplus
}
#endif
#endif /* FACTRL_GENERATE_H */

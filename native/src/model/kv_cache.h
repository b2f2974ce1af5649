// The KV cache of factrl/generate.h (engine side): per decoder layer K (after RoPE) and V
// [max_batch, max_len, heads, d/heads], the rows' cached lengths, and the decode step's scratch, all
// carved from one storage (counted in frl_ctx_bytes_in_use like an arena).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine.h"
#include "factrl/generate.h"
#include "model/model_internal.h"
#include "model/sampling.h"

// The decode step's buffers for up to max_batch rows (n: the active rows, compacted).
struct frl_kv_decode_scratch {
  float *x0, *x1;           // residual stream [n, d], ping-pong across layers
  float *q_tmp, *k_tmp;     // pre-RoPE q, k [n, d]
  frl::model::DecoderLayerActs acts;  // one layer's buffers [n, ·] (lse: unused, null)
  float *q_full, *att_full; // q and attention output spread to the batch's rows [B, d]
  float *hidden, *rstd_f;   // final norm [n, d], [n]
  float* logits;            // [n, V]
  int32_t *ids, *positions, *rows;      // [n]: token, RoPE position, cache row
  int32_t *key_len, *q_off;             // [B]: attention masks over the cache
};

struct frl_kv_cache {
  frl_model* model = nullptr;
  frl_ctx* ctx = nullptr;
  int64_t max_batch = 0, max_len = 0;
  frl_storage* storage = nullptr;
  std::vector<float*> k, v;  // per layer [max_batch, max_len, H, Dh]
  frl_kv_decode_scratch s{};
  float* last_logits = nullptr;  // [max_batch, V]: frl_model_generate's logits of each row's last token
  // State of the last prefill (batch 0: none yet).
  int64_t batch = 0;
  std::vector<int32_t> lengths;
  bool has_adapter = false;
  std::string adapter;  // the prefill's adapter set, used by every decode step
};

namespace frl {
namespace model {

// Lays the cache's buffers out from base (null: count only); returns the bytes.
int64_t carve_kv_cache(const Dims& D, int64_t max_batch, int64_t max_len, char* base, frl_kv_cache* cache);

// Prefill (checked; argument names as in frl_model_prefill): runs the prompts, fills the cache and
// its lengths, and writes each row's last real logits to last_logits [B, V] (row stride V).
void prefill(frl_model* model, const char* adapter, frl_kv_cache* cache, const frl_model_inputs* prompts,
             const frl_tensor* prompt_lengths, float* last_logits);

// One decode step over the cache's batch, unchecked: tokens [B], active [B] (null: all); appends
// one position to every active row and writes its logits to logits[b·V ..] (other rows untouched).
// The caller has checked tokens in [0, V) and lengths[b] < max_len for the active rows.
void decode_step(frl_kv_cache* cache, const int32_t* tokens, const int32_t* active, float* logits);

}  // namespace model
}  // namespace frl

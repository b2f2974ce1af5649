/*
 * FactRL C API: the LLaVA model (DESIGN.md §2) — ViT encoder → projector → LLaMA decoder — whose
 * layer sequence runs in C++: forward, backward and the decode step are each one native call
 * (llm.c's gpt2_forward), because per-op JNI crossings would dominate decoding.
 *
 * ---- Structure (config field names in brackets) ---------------------------------------------
 * Vision (CLIP ViT, pre-LN): images [Bi, C, H, W] (already normalised by the caller) →
 *   patch embedding (conv p×p stride p, no bias, as a GEMM over patches) → class token + learned
 *   positions → pre_layrnorm (LayerNorm) → vision_layers blocks of
 *     x += out_proj(attn(q_proj(LN1 x), k_proj(..), v_proj(..)))   (bidirectional, biases on all four)
 *     x += fc2(gelu(fc1(LN2 x)))                                      (GELU erf, biases)
 *   Features: the output of block `vision_feature_layer` (HF hidden_states indexing: 0 is the
 *   embeddings after pre_layrnorm, i the output of block i-1; negative counts from the end, so -1 is
 *   the last block and -2 — LLaVA's choice — the penultimate), class token dropped: [Bi, P, Dv].
 *   Blocks after that layer are held (their names load and save) but never run.
 * Projector: linear_1 (Dv → d, bias) [projector = FRL_PROJECTOR_LINEAR, LLaVA v1 as in the paper],
 *   or linear_2(gelu(linear_1 x)) [FRL_PROJECTOR_MLP2X_GELU, LLaVA 1.5].
 * Decoder (LLaMA): embed_tokens → `layers` blocks of
 *     x += o_proj(attn_causal(rope(q_proj(RMSNorm1 x)), rope(k_proj(..)), v_proj(..)))   (no biases)
 *     x += down_proj(silu(gate_proj(RMSNorm2 x)) * up_proj(RMSNorm2 x))
 *   → norm (RMSNorm) → lm_head (untied, no bias). RoPE: HF rotate_half, theta `rope_theta`,
 *   positions 0..S-1 per row. Multi-head attention, heads of d / heads.
 * Image splice: the caller's token ids already hold P copies of `image_token_id` where the image
 *   goes (the data layer expands `<image>`, as HF LLaVA processors do). A row holds either 0 or
 *   exactly P image tokens (anything else fails naming the row); the image rows, in row order, take
 *   images 0, 1, ... (images must hold exactly as many images as there are image rows). The
 *   embedding of each image token is replaced by the projected feature of its patch, in order.
 *   image_token_id must be < vocab_size; its own embedding row gets no gradient from image positions.
 *
 * ---- Weights: one parameter blob, HF LlavaForConditionalGeneration names -----------------------
 *   vision_tower.vision_model.embeddings.patch_embedding.weight      [Dv, C, p, p]
 *   vision_tower.vision_model.embeddings.class_embedding             [Dv]
 *   vision_tower.vision_model.embeddings.position_embedding.weight   [P + 1, Dv]
 *   vision_tower.vision_model.pre_layrnorm.{weight,bias}             [Dv]
 *   vision_tower.vision_model.encoder.layers.{i}.layer_norm1.{weight,bias}          [Dv]
 *   vision_tower.vision_model.encoder.layers.{i}.self_attn.{q,k,v,out}_proj.weight  [Dv, Dv]
 *   vision_tower.vision_model.encoder.layers.{i}.self_attn.{q,k,v,out}_proj.bias    [Dv]
 *   vision_tower.vision_model.encoder.layers.{i}.layer_norm2.{weight,bias}          [Dv]
 *   vision_tower.vision_model.encoder.layers.{i}.mlp.fc1.{weight [Fv, Dv], bias [Fv]}
 *   vision_tower.vision_model.encoder.layers.{i}.mlp.fc2.{weight [Dv, Fv], bias [Dv]}
 *   multi_modal_projector.linear_1.{weight [d, Dv], bias [d]}
 *   multi_modal_projector.linear_2.{weight [d, d], bias [d]}          (MLP2X_GELU only)
 *   language_model.model.embed_tokens.weight                          [V, d]
 *   language_model.model.layers.{i}.input_layernorm.weight            [d]
 *   language_model.model.layers.{i}.self_attn.{q,k,v,o}_proj.weight   [d, d]
 *   language_model.model.layers.{i}.post_attention_layernorm.weight   [d]
 *   language_model.model.layers.{i}.mlp.{gate,up}_proj.weight         [F, d]
 *   language_model.model.layers.{i}.mlp.down_proj.weight             [d, F]
 *   language_model.model.norm.weight                                  [d]
 *   language_model.lm_head.weight                                     [V, d]
 * in exactly this order (vision, projector, decoder; within a block in the order listed: a vision
 * block's four attention weights q, k, v, out come before their four biases), F32 on the CPU. CLIP's post_layernorm is not held (LLaVA never reads it).
 *
 * ---- Adapter sets -----------------------------------------------------------------------------
 * Any number of named LoRA adapter sets over the one frozen base, each its own blob (PEFT names):
 *   base_model.model.language_model.model.layers.{i}.self_attn.q_proj.lora_A.weight  [r, d]
 *   base_model.model.language_model.model.layers.{i}.self_attn.q_proj.lora_B.weight  [d, r]
 *   ... likewise k_proj, v_proj, o_proj, mlp.gate_proj ([r, d], [F, r]), mlp.up_proj,
 *   mlp.down_proj ([r, F], [d, r]); with FRL_LORA_PROJECTOR also
 *   base_model.model.multi_modal_projector.linear_1.lora_A.weight [r, Dv] / lora_B.weight [d, r]
 *   (and linear_2 for the MLP projector), in layer order, targets in the order q,k,v,o,gate,up,down.
 * Blob order: the projector's pairs first (model order), then each layer's; lora_A before lora_B.
 * LoRA forward per target: y = x Wᵀ (+ b) + (alpha / r) · (x Aᵀ) Bᵀ. A new set has A ~ U(−1/√K, 1/√K)
 * (PEFT's kaiming_uniform(a=√5)) from its seed and B = 0, so it starts as the identity change.
 * Every forward/backward call names the adapter set to apply, or NULL for the base alone (the
 * reference model: no second copy of the weights).
 *
 * ---- Calls ------------------------------------------------------------------------------------
 * frl_model_forward runs one batch. Inputs (frl_model_inputs): input_ids I32 [B, S] (right padding
 * is the convention: the causal mask already keeps real tokens from seeing the padding after them;
 * what padded positions compute is ignored), images F32 [Bi, C, H, W] or NULL when no row has image
 * tokens, and optionally targets I32 [B, S] (the token whose log-prob is read at each position,
 * usually input_ids shifted left by one; any value in [0, V) at ignored positions).
 * Outputs (frl_model_outputs, each NULL when not wanted; tensors the caller owns, contiguous):
 *   logits  F32 [B, S, V]   hidden F32 [B, S, d] (after the final norm: the heads' input)
 *   logp    F32 [B, S]      log softmax(logits)[targets] (requires targets)
 * With `train` = 1 the forward keeps every activation the backward needs in the model's arena
 * (planned by frl_model_plan for the largest batch); frl_model_backward then takes the gradients of
 * the loss with respect to the outputs — d_logp [B, S] and/or d_hidden [B, S, d], either may be
 * NULL — and writes gradients of the trainable parts:
 *   base_grads   a blob made with frl_blob_create_like(frl_model_params(model)) or NULL; only the
 *                groups in base_groups (FRL_GROUP_* bits) are written (the others are left as they
 *                are): full fine-tuning, projector only, ...
 *   adapter_grads a blob like the active adapter set, or NULL.
 *   mode FRL_GRAD_OVERWRITE or FRL_GRAD_ACCUMULATE (micro-batches).
 * The backward must follow a training forward on the same model with no other forward between
 * (FRL_ERR_ARGUMENT otherwise) and uses that forward's adapter set. It may run more than once after
 * one forward (it does not change the saved activations). At least one of d_logp / d_hidden must be
 * given; d_logp needs a forward that had targets.
 * SFT's loss is the mean NLL over assistant tokens: d_logp = −mask / Σmask (frl_cross_entropy
 * computes it); PPO hands in its per-token d_logp; the reward and value heads run on `hidden`
 * (factrl/pooling.h) and hand back d_hidden.
 *
 * Reproducibility: same inputs, same weights → bitwise the same outputs and gradients on the CPU,
 * for any thread count (every kernel reduces in a fixed order).
 * Backends: CPU. On a CUDA context frl_model_create fails with FRL_ERR_UNAVAILABLE ("the model has
 * no CUDA path yet") — the CUDA layer kernels exist for only part of the layers.
 */
#ifndef FACTRL_MODEL_H
#define FACTRL_MODEL_H
#include "../factrl.h"
#include "view.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef struct frl_model frl_model;

enum { FRL_PROJECTOR_LINEAR = 0, FRL_PROJECTOR_MLP2X_GELU = 1 };

/* LoRA targets (bit set). */
enum {
  FRL_LORA_Q = 1, FRL_LORA_K = 2, FRL_LORA_V = 4, FRL_LORA_O = 8,
  FRL_LORA_GATE = 16, FRL_LORA_UP = 32, FRL_LORA_DOWN = 64,
  FRL_LORA_PROJECTOR = 128,
  FRL_LORA_ALL_DECODER = 127
};

/* Parameter groups of the base (bit set) for frl_model_backward's base_groups. */
enum {
  FRL_GROUP_VISION = 1,     /* vision_tower.* */
  FRL_GROUP_PROJECTOR = 2,  /* multi_modal_projector.* */
  FRL_GROUP_DECODER = 4,    /* language_model.* */
  FRL_GROUP_ALL = 7
};

typedef struct frl_model_config {
  /* vision tower */
  int32_t image_size;            /* H = W, a multiple of patch_size */
  int32_t image_channels;        /* C */
  int32_t patch_size;            /* p */
  int32_t vision_hidden;         /* Dv */
  int32_t vision_layers;
  int32_t vision_heads;          /* divides Dv */
  int32_t vision_intermediate;   /* Fv */
  int32_t vision_feature_layer;  /* HF hidden_states index, in [-(vision_layers+1), vision_layers] */
  float vision_layer_norm_eps;   /* > 0 (CLIP: 1e-5) */
  /* projector */
  int32_t projector;             /* FRL_PROJECTOR_* */
  /* language model */
  int32_t vocab_size;            /* V */
  int32_t hidden;                /* d */
  int32_t layers;
  int32_t heads;                 /* divides d; d / heads even (RoPE) */
  int32_t intermediate;          /* F */
  int32_t max_positions;         /* longest sequence S the model accepts */
  float rope_theta;              /* > 0 (LLaMA: 10000) */
  float rms_norm_eps;            /* > 0 (LLaMA: 1e-6 / 1e-5) */
  int32_t image_token_id;        /* in [0, V) */
} frl_model_config;

typedef struct frl_model_inputs {
  const frl_tensor* input_ids;  /* I32 [B, S], required */
  const frl_tensor* images;     /* F32 [Bi, C, H, W] or NULL */
  const frl_tensor* targets;    /* I32 [B, S] or NULL (required for logp) */
} frl_model_inputs;

typedef struct frl_model_outputs {
  frl_tensor* logits;  /* F32 [B, S, V] or NULL */
  frl_tensor* hidden;  /* F32 [B, S, d] or NULL */
  frl_tensor* logp;    /* F32 [B, S] or NULL */
} frl_model_outputs;

/* What the model holds, in bytes (the memory plan). */
typedef struct frl_model_memory {
  int64_t base;          /* the parameter blob */
  int64_t adapters;      /* all adapter sets' blobs together */
  int64_t arena;         /* the activation arena's capacity (0 before frl_model_plan) */
  int64_t workspace;     /* any other scratch the model keeps */
  int64_t total;         /* the sum: what frl_ctx_bytes_in_use grows by while the model lives */
} frl_model_memory;

/* Checks every field (FRL_ERR_ARGUMENT naming the field and its value) and creates the model with
 * zero weights. */
frl_status frl_model_create(frl_ctx* ctx, const frl_model_config* config, frl_model** out_model);
/* Fails while views of its blobs are live (frl_blob_destroy's rule). */
frl_status frl_model_destroy(frl_model* model);
frl_status frl_model_get_config(const frl_model* model, frl_model_config* out_config);
/* The base parameter blob (borrowed: owned by the model). */
frl_status frl_model_params(const frl_model* model, frl_blob** out_blob);
/* Random initialisation of the base from seed (deterministic): linear and conv weights
 * N(0, init_std²), embeddings and positions N(0, init_std²), class embedding N(0, init_std²),
 * biases 0, norm weights 1, norm biases 0. */
frl_status frl_model_init_weights(frl_model* model, uint64_t seed, float init_std);

/* Adds a LoRA adapter set `name` (unique, non-empty) of rank r > 0 over the targets (FRL_LORA_*
 * bits, non-zero), scale alpha / r, initialised from seed (A uniform, B zero). */
frl_status frl_model_add_adapter(frl_model* model, const char* name, int32_t rank, float alpha,
                                 uint32_t targets, uint64_t seed);
frl_status frl_model_remove_adapter(frl_model* model, const char* name);
/* The adapter set's blob (borrowed). Unknown name: FRL_ERR_ARGUMENT quoting it. */
frl_status frl_model_adapter(const frl_model* model, const char* name, frl_blob** out_blob);
frl_status frl_model_adapter_info(const frl_model* model, const char* name, int32_t* out_rank,
                                  float* out_alpha, uint32_t* out_targets);

/* Plans (and allocates) the activation arena for batches of up to max_batch rows of up to max_seq
 * (<= max_positions) tokens with up to max_images (<= max_batch: one image per row) images, for
 * training (activations kept) or not. Replaces an earlier plan. Calls with larger batches fail with
 * FRL_ERR_SHAPE naming the plan; a forward with train = 1 needs a training plan (FRL_ERR_ARGUMENT). */
frl_status frl_model_plan(frl_model* model, int64_t max_batch, int64_t max_seq, int64_t max_images,
                          int train);
frl_status frl_model_memory_plan(const frl_model* model, frl_model_memory* out_memory);

/* One batch forward under adapter set `adapter` (NULL: base only). train = 1 keeps activations
 * for frl_model_backward. outputs may be NULL (nothing copied out). */
frl_status frl_model_forward(frl_model* model, const char* adapter, const frl_model_inputs* inputs,
                             const frl_model_outputs* outputs, int train);

frl_status frl_model_backward(frl_model* model, const frl_tensor* d_logp, const frl_tensor* d_hidden,
                              frl_blob* base_grads, uint32_t base_groups, frl_blob* adapter_grads,
                              int mode);

/* The vision tower alone (vision pretraining with dense per-patch targets, DESIGN.md §2's encoder):
 * images F32 [Bi, C, H, W] (Bi <= the plan's max_images, >= 1) → features F32 [Bi, P, Dv], the
 * output of block vision_feature_layer with the class token dropped — exactly what the projector
 * reads inside frl_model_forward (bitwise the same numbers). Uses the arena of frl_model_plan (any
 * max_batch / max_seq; max_images bounds Bi); train = 1 keeps the activations (a training plan
 * needed) for frl_model_vision_backward. Counts as a forward: a later frl_model_backward fails until
 * the next frl_model_forward, and any frl_model_forward ends what frl_model_vision_backward may use. */
frl_status frl_model_vision_forward(frl_model* model, const frl_tensor* images, frl_tensor* features, int train);

/* The backward of the last frl_model_vision_forward with train = 1 (no other forward in between):
 * given d loss / d features F32 [Bi, P, Dv], writes the gradients of the FRL_GROUP_VISION entries of
 * base_grads (a blob made with frl_blob_create_like(frl_model_params(model))), overwriting or adding
 * per mode (FRL_GRAD_OVERWRITE / FRL_GRAD_ACCUMULATE); every other entry is left as it is. Blocks
 * after the feature layer get no gradient (they never ran). May run more than once per forward. */
frl_status frl_model_vision_backward(frl_model* model, const frl_tensor* d_features, frl_blob* base_grads, int mode);

#ifdef __cplusplus
}
#endif
#endif /* FACTRL_MODEL_H */

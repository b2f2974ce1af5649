/*
 * FactRL C API: the reward-head pooling kernel and the per-token value head (DESIGN.md §3).
 *
 * Both heads are a linear map d -> 1 applied to final hidden states h [B, S, d] (after the final
 * norm, row-major, d contiguous):
 *
 *   reward head  score_b   = w · h[b, e_b, :] + c            scores [B]
 *   value head   v_{b,t}   = w · h[b, t, :]   + c            values [B, S]  (0 where mask == 0)
 *
 * Conventions shared by the four entry points:
 *  - dtypes: w, bias, scores / values and every gradient except dh are F32. h is F32 on the CPU
 *    backend; on CUDA, h and dh may each be F32 or BF16 (storage), all arithmetic is fp32 — the
 *    head weights stay f32 over a bf16 model (mixed precision: a small update is not lost).
 *    end_index and mask are I32.
 *  - end_index [B]: the position of the last real token of row b, in [0, S). The value -1 marks an
 *    empty (all-padding) row: its score is 0 (not the bias), and it contributes no gradient to
 *    dh, w or bias. Any other value (< -1 or >= S) fails with FRL_ERR_ARGUMENT and a message that
 *    names 'end_index' and the row, e.g. "end_index[3] = 9 is outside [-1, 8)". On the CPU this
 *    call fails. On CUDA nothing is read back (no host synchronisation): a device kernel flags the
 *    smallest bad row, the kernels treat it as empty, and the next sync point (frl_ctx_synchronize
 *    or a host read) fails with "frl_reward_head_forward: argument 'end_index': end_index[3] = 9 is
 *    outside [-1, 8) ...".
 *  - mask [B, S] (value head, may be NULL = every position valid): nonzero = valid token. A masked
 *    position gets value 0, its dvalues entry is ignored, and it contributes no gradient.
 *  - Backward outputs dh, dw, dbias may each be NULL (that gradient is not computed). Two modes
 *    (FRL_GRAD_OVERWRITE / FRL_GRAD_ACCUMULATE, factrl.h): dh_mode for dh (the decoder's gradient,
 *    often shared with another head or the LM loss), dparam_mode for dw and dbias (summed over
 *    micro-batches).
 *    OVERWRITE: the output is overwritten (dh is zero everywhere the head gives no gradient:
 *    all non-pooled positions for the reward head, masked positions for the value head).
 *    ACCUMULATE: gradients are added to the output's current contents (positions that get no
 *    gradient are left untouched).
 *  - Reductions (dw, dbias) run in a fixed order on both backends: the same inputs give bitwise
 *    the same gradients from call to call.
 *  - Sizes may be 0 (B, S or d); the result is then empty, or all zeros.
 *  - No output (scores, values, dh, dw, dbias) may be an input or another output (FRL_ERR_ARGUMENT
 *    naming both): there is no in-place form.
 */
#ifndef FACTRL_POOLING_H
#define FACTRL_POOLING_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

/* scores[b] = w · h[b, end_index[b], :] + bias[0], or 0 where end_index[b] == -1.
 * h [B,S,d], end_index [B] i32, w [d], bias [1], scores [B] (overwritten). */
frl_status frl_reward_head_forward(frl_ctx* ctx, const frl_tensor* h, const frl_tensor* end_index,
                                   const frl_tensor* w, const frl_tensor* bias, frl_tensor* scores);

/* With g = dscores [B] and only rows with end_index[b] >= 0:
 *   dh[b, end_index[b], :] (+)= g_b · w      (every other position 0, or untouched if accumulate)
 *   dw    (+)= Σ_b g_b · h[b, end_index[b], :]
 *   dbias (+)= Σ_b g_b
 * dh [B,S,d] or NULL, dw [d] or NULL, dbias [1] or NULL. */
frl_status frl_reward_head_backward(frl_ctx* ctx, const frl_tensor* h, const frl_tensor* end_index,
                                    const frl_tensor* w, const frl_tensor* dscores, frl_tensor* dh,
                                    frl_tensor* dw, frl_tensor* dbias, int dh_mode, int dparam_mode);

/* values[b,t] = w · h[b,t,:] + bias[0] where mask[b,t] != 0 (or mask is NULL), else 0.
 * h [B,S,d], mask [B,S] i32 or NULL, w [d], bias [1], values [B,S] (overwritten). */
frl_status frl_value_head_forward(frl_ctx* ctx, const frl_tensor* h, const frl_tensor* mask,
                                  const frl_tensor* w, const frl_tensor* bias, frl_tensor* values);

/* With g = dvalues [B,S] and only valid (unmasked) positions:
 *   dh[b,t,:] (+)= g_{b,t} · w               (masked positions 0, or untouched if accumulate)
 *   dw    (+)= Σ_{b,t} g_{b,t} · h[b,t,:]
 *   dbias (+)= Σ_{b,t} g_{b,t}
 * dh [B,S,d] or NULL, dw [d] or NULL, dbias [1] or NULL. */
frl_status frl_value_head_backward(frl_ctx* ctx, const frl_tensor* h, const frl_tensor* mask,
                                   const frl_tensor* w, const frl_tensor* dvalues, frl_tensor* dh,
                                   frl_tensor* dw, frl_tensor* dbias, int dh_mode, int dparam_mode);

#ifdef __cplusplus
}
#endif
#endif

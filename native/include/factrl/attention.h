/*
 * FactRL C API: multi-head scaled dot-product attention, forward and backward (DESIGN.md §2): the
 * causal self-attention of the LLaMA decoder and the bidirectional self-attention of the ViT
 * encoder; and the masked form (per-row key lengths and query offsets, queries and keys of
 * different lengths) for padded batches and KV-cache decoding, at the end of this file.
 *
 * q, k, v and out are [B, S, H, D] row-major (D contiguous): exactly the [B·S, H·D] outputs of the
 * q / k / v projections, viewed, so no transpose is needed on either side. For every batch row b,
 * head h and query position i, with q_i = q[b, i, h, :] (and so on) and the visible keys
 * J(i) = { j : j <= i } when causal, { 0 .. S-1 } otherwise:
 *
 *   s_ij   = scale · q_i · k_j                        j in J(i)      (scores)
 *   lse_i  = log Σ_{j in J(i)} exp(s_ij)                             (saved: lse [B, H, S])
 *   P_ij   = exp(s_ij − lse_i)                                       (softmax over J(i); 0 elsewhere)
 *   out_i  = Σ_{j in J(i)} P_ij · v_j
 *
 * The backward recomputes P from q, k and the saved lse (flash-attention style: no [S, S] matrix
 * is kept between the passes). With dO = dout:
 *
 *   dv_j   = Σ_i P_ij · dO_i                          (dV = Pᵀ dO)
 *   dP_ij  = dO_i · v_j                               (dP = dO Vᵀ)
 *   D_i    = dO_i · out_i                             (rowsum(dO ∘ O))
 *   dS_ij  = P_ij · (dP_ij − D_i)
 *   dq_i   = scale · Σ_j dS_ij · k_j                  (dQ = scale · dS K)
 *   dk_j   = scale · Σ_i dS_ij · q_i                  (dK = scale · dSᵀ Q)
 *
 * Conventions shared by the two entry points:
 *  - dtypes: on the CPU every tensor is F32 (the reference computes in fp32); on CUDA q, k, v,
 *    out, dout, dq, dk, dv are F32 or BF16, all of q's dtype (fp32 math, one rounding per stored
 *    element), and lse is F32 on both.
 *  - causal is 0 (bidirectional: every query sees every key) or 1 (query i sees keys j <= i).
 *    Self-attention only: queries and keys share the length S (the masked functions below lift this).
 *  - scale multiplies the scores; the usual value is 1/sqrt(D). It must be finite and > 0.
 *  - Numerically stable for any finite scores: the forward subtracts each row's maximum before
 *    exponentiating, and every row sees at least one key (j = i), so lse is always finite and
 *    large scores give neither overflow nor NaN.
 *  - Backward outputs dq, dk, dv may each be NULL (that gradient is not computed). mode
 *    (FRL_GRAD_OVERWRITE / FRL_GRAD_ACCUMULATE, factrl.h) applies to all three: overwrite them, or
 *    add into what they hold (e.g. one dx buffer shared by a fused projection's pieces). No output
 *    may be an input or another output (FRL_ERR_ARGUMENT naming both).
 *  - Sizes may be 0 (B, S, H or D); the result is then empty, or all zeros (D = 0: out is empty
 *    and lse = log of the number of visible keys, since every score is 0).
 *  - Reductions run in a fixed order that does not depend on the thread count: the same inputs give
 *    bitwise the same outputs from call to call and for any OMP_NUM_THREADS. The CPU kernels have
 *    AVX-512, AVX2 and scalar paths, chosen at run time (FACTRL_CPU_ISA=avx2|scalar lowers the
 *    choice); different paths round differently, all within the tested tolerances.
 *  - Backends: CPU and CUDA. The CUDA kernels (kernels/attention.cu) are a straightforward first
 *    version: a warp per query row with an online softmax for the forward; the backward
 *    recomputes P twice (a warp per query row for dq, a warp per key row for dk and dv), so every
 *    sum has a fixed order and no atomics. No tensor cores yet: correct and reproducible, not
 *    fast. Limits: B·H <= 65535; D up to the device's shared memory (4·2·D floats per block).
 *    Asynchronous on the context's stream.
 */
#ifndef FACTRL_ATTENTION_H
#define FACTRL_ATTENTION_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

/* out = softmax(scale · q kᵀ, masked if causal) v per (batch row, head), and lse of each row.
 * q, k, v [B,S,H,D]; out [B,S,H,D] (overwritten); lse [B,H,S] (overwritten) or NULL (not saved,
 * e.g. inference without a backward). */
frl_status frl_attention_forward(frl_ctx* ctx, const frl_tensor* q, const frl_tensor* k,
                                 const frl_tensor* v, int causal, float scale, frl_tensor* out,
                                 frl_tensor* lse);

/* Gradients of the forward with the same q, k, v, causal and scale, given its out and lse and the
 * upstream gradient dout [B,S,H,D]. dq, dk, dv [B,S,H,D] each or NULL (not computed), overwritten
 * or added into per mode. */
frl_status frl_attention_backward(frl_ctx* ctx, const frl_tensor* q, const frl_tensor* k,
                                  const frl_tensor* v, const frl_tensor* out, const frl_tensor* lse,
                                  const frl_tensor* dout, int causal, float scale, frl_tensor* dq,
                                  frl_tensor* dk, frl_tensor* dv, int mode);

/* ---- masked attention: per-row key lengths and query offsets (batched prompts, KV-cache decode) ----
 *
 * q, out, dout, dq [B, Sq, H, D]; k, v, dk, dv [B, Sk, H, D] (contiguous, Sq and Sk independent);
 * lse [B, H, Sq]; key_lengths and query_offsets I32 [B] or NULL. For batch row b let
 * L_b = key_lengths[b] (NULL: Sk) and off_b = query_offsets[b] (NULL: 0). Query i of row b sits at
 * absolute position off_b + i and sees the keys
 *
 *   J_b(i) = { j : j < L_b and (!causal or j <= off_b + i) }      (always a prefix [0, n_b(i)))
 *
 * and everything above holds with J_b(i) for J(i). The unmasked functions are the special case
 * Sq = Sk, both masks NULL, and give bitwise the same results through either entry point.
 *
 * A query that sees no key (J_b(i) empty: only when L_b = 0, since with L_b >= 1 every query sees
 * key 0) gets out = 0 and lse = −inf in the forward, dq = 0 in the backward, and gives nothing to
 * dk, dv. Keys no query sees (j >= L_b, or after every query when causal) get dk = dv = 0
 * (OVERWRITE) or keep what they hold (ACCUMULATE). Keys at or past L_b are never read: a KV cache
 * may hold anything there (even NaN). No NaN arises from the masks.
 *
 * Uses:
 *  - batched prompts of different lengths, right-padded: L_b = the row's length, off_b = 0,
 *    Sq = Sk. A padding query i >= L_b still sees the row's real keys (out is finite, not 0): its
 *    output is ignored, and a dout of 0 there (the loss masks it) gives it no gradient. Left padding
 *    cannot be expressed (keys are masked only from L_b on): put prompts right-padded and give each
 *    row its own offset.
 *  - KV-cache decode: k, v are the cache [B, Smax, H, D] holding each row's off_b cached tokens and,
 *    at positions off_b .. off_b + Sq − 1, the Sq new ones; q is [B, Sq, H, D] (Sq = 1 for one token);
 *    off_b = tokens cached before this step; L_b = off_b + Sq (or less for a row with fewer new
 *    tokens). The cost is that of the L_b keys, not of Smax. Token by token this gives bitwise the
 *    outputs of the full causal forward over the sequence.
 *  - prefill of a whole prompt: q, k, v of the prompt, off_b = 0, L_b = the prompt's length.
 *
 * Checks (FRL_ERR_ARGUMENT naming the argument and the row): 0 <= key_lengths[b] <= Sk and
 * query_offsets[b] >= 0. off_b + Sq <= Sk is NOT required: keys past L_b are masked anyway, so
 * queries placed past the cache simply see all L_b keys. When causal is 0 the offsets have no effect.
 * On the CPU the values are read from host memory; on CUDA they are copied to the host for these
 * checks (a sync point), and the kernels (the unmasked ones with the masks applied per row, see
 * kernels/attention.cu) read them from device memory. Dtypes as for the unmasked functions: F32 on
 * the CPU; F32 or BF16 (all of q's dtype) on CUDA, lse F32.
 */

/* out and (unless NULL) lse of the masked attention above; both overwritten. */
frl_status frl_attention_forward_masked(frl_ctx* ctx, const frl_tensor* q, const frl_tensor* k,
                                        const frl_tensor* v, const frl_tensor* key_lengths,
                                        const frl_tensor* query_offsets, int causal, float scale,
                                        frl_tensor* out, frl_tensor* lse);

/* Gradients of frl_attention_forward_masked with the same q, k, v, masks, causal and scale, given
 * its out and lse and dout [B,Sq,H,D]. dq [B,Sq,H,D], dk, dv [B,Sk,H,D] each or NULL, overwritten or
 * added into per mode. */
frl_status frl_attention_backward_masked(frl_ctx* ctx, const frl_tensor* q, const frl_tensor* k,
                                         const frl_tensor* v, const frl_tensor* key_lengths,
                                         const frl_tensor* query_offsets, const frl_tensor* out,
                                         const frl_tensor* lse, const frl_tensor* dout, int causal,
                                         float scale, frl_tensor* dq, frl_tensor* dk, frl_tensor* dv,
                                         int mode);

#ifdef __cplusplus
}
#endif
#endif

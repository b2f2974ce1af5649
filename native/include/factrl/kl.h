/* FactRL C API: per-token log-probabilities and KL (DESIGN.md §3).
 *
 * Rows t in [0, T) are flattened (batch × response position). For row t with policy logits
 * zp = policy_logits[t, :], reference logits zr = ref_logits[t, :] (both length V), sampled token
 * a = actions[t] and mask[t] != 0 ("valid"):
 *
 *   lse(z)      = log Σ_v exp(z_v)                       (computed with the running max subtracted)
 *   logp_policy = zp[a] − lse(zp)                        logp_ref = zr[a] − lse(zr)
 *   kl_k1       = logp_policy − logp_ref
 *   kl_k3       = exp(−kl_k1) − 1 + kl_k1                (= exp(logp_ref − logp_policy) − 1 + kl_k1)
 *   kl_full     = Σ_v pp_v (log pp_v − log pr_v)         with pp = softmax(zp), pr = softmax(zr)
 *   entropy     = −Σ_v pp_v log pp_v                     (of the policy)
 *   lse_policy  = lse(zp)                                (to hand to the backward: saves one pass)
 *
 * Every requested output of a masked row (mask[t] == 0) is 0, and a masked row's action is never
 * read or checked. One pass over each logits row (online log-sum-exp).
 *
 * Tensors: policy_logits [T, V] and ref_logits [T, V] (same shape and dtype); actions [T] and
 * mask [T] are I32 (mask: nonzero = valid; a NULL mask means every row is valid); every output is
 * [T] F32 (outputs are overwritten, never accumulated). Logits are F32 on the CPU backend, F32 or
 * BF16 on CUDA (fp32 accumulation, fp32 outputs). V >= 1; T may be 0. Each row needs at least one
 * finite logit; −inf logits (a banned token) are allowed and contribute nothing (kl_full is +inf
 * where the reference bans a token the policy gives mass, as the math says). Every sum is kept
 * relative to the running row maxima, so logits near ±3e38 do not overflow and rows of ~1e30
 * logits keep their O(1) log-probs (differences are taken before the log-sums are added).
 *
 * Errors: a NULL required argument, tensors of another context, shape/dtype mismatches (naming
 * the argument) → FRL_ERR_ARGUMENT / FRL_ERR_SHAPE. An action outside [0, V) on a valid row →
 * FRL_ERR_ARGUMENT "argument 'actions': row t has token a outside [0, V)". On the CPU this is
 * checked before anything is written. On CUDA the call does not synchronise: the kernel flags the
 * smallest bad row in the context's device error record and clamps the action into range (the
 * outputs of such a call are undefined, but no memory outside the tensors is read or written); the
 * next sync point (frl_ctx_synchronize, or any host read of a tensor) then fails with
 * "frl_token_logprobs: argument 'actions': row t has token a outside [0, V) ...".
 */
#ifndef FACTRL_KL_H
#define FACTRL_KL_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

/* Forward. ref_logits may be NULL (policy-only: PPO's ratio, entropy); then logp_ref, kl_k1,
 * kl_k3 and kl_full must be NULL. Any output may be NULL (not computed). */
frl_status frl_token_logprobs(frl_ctx* ctx, const frl_tensor* policy_logits /* [T,V] */,
                              const frl_tensor* ref_logits /* [T,V] or NULL */,
                              const frl_tensor* actions /* [T] i32 */, const frl_tensor* mask /* [T] i32 or NULL */,
                              frl_tensor* logp_policy, frl_tensor* logp_ref, frl_tensor* kl_k1,
                              frl_tensor* kl_k3, frl_tensor* kl_full, frl_tensor* entropy,
                              frl_tensor* lse_policy /* each [T] f32 or NULL */);

/* Backward of logp_policy:  dlogits[t, v] (=|+=) grad_logp[t] · (onehot(a_t)[v] − softmax(zp_t)[v])
 * for valid rows. mode FRL_GRAD_OVERWRITE writes dlogits, masked rows 0; FRL_GRAD_ACCUMULATE adds
 * into it (e.g. onto the LM loss's gradient), masked rows untouched (factrl.h).
 * lse_policy: the forward's lse_policy output for the same logits, or NULL (then recomputed,
 * one more pass over the logits). dlogits [T, V]: F32 (CPU); F32 or BF16 (CUDA). */
frl_status frl_token_logprobs_backward(frl_ctx* ctx, const frl_tensor* policy_logits /* [T,V] */,
                                       const frl_tensor* actions /* [T] i32 */,
                                       const frl_tensor* mask /* [T] i32 or NULL */,
                                       const frl_tensor* grad_logp /* [T] f32 */,
                                       const frl_tensor* lse_policy /* [T] f32 or NULL */,
                                       frl_tensor* dlogits /* [T,V] */, int mode);

#ifdef __cplusplus
}
#endif
#endif

/*
 * FactRL C API: next-token cross-entropy over assistant tokens only (SFT, DESIGN.md §4.1), a thin
 * op over the per-token log-prob kernel (factrl/kl.h) and its backward.
 *
 * Rows t in [0, T) (batch × position, flattened), logits z_t = logits[t, :] of width V, target
 * token a_t = targets[t], mask m_t (nonzero = an assistant token that counts; NULL = every row),
 * n = number of counted rows:
 *
 *   logp_t = z_t[a_t] − logsumexp(z_t)                 (0 on masked rows)
 *   loss   = −(1/n) Σ_{t: m_t ≠ 0} logp_t              (loss = 0 when n = 0, see below)
 *   dlogits[t, :] (=|+=) grad_loss · (−m_t / n) · (onehot(a_t) − softmax(z_t))
 *
 * This is torch.nn.functional.cross_entropy(logits, targets, ignore_index=...) with mean
 * reduction, the masked rows' targets set to the ignore index. One difference on purpose: with no
 * counted row (n = 0; a batch without assistant tokens) torch gives NaN, we give loss 0 and a zero
 * gradient, so one such micro-batch does not poison an accumulated step.
 *
 * Tensors: logits [T, V] (F32 on the CPU; F32 or BF16 on CUDA, fp32 accumulation); targets [T] and
 * mask [T] I32 (a masked row's target is never read or checked); loss [1] F32; logp and lse [T] F32
 * or NULL (lse_t = logsumexp(z_t): hand it to the backward to save one pass over the logits);
 * dlogits [T, V] F32 (CPU) or F32/BF16 (CUDA) with mode FRL_GRAD_OVERWRITE (masked rows 0) or
 * FRL_GRAD_ACCUMULATE (added; masked rows untouched). grad_loss is the upstream gradient of the
 * loss (1 for a plain step, 1/k to average k micro-batches), any finite float.
 *
 * Errors as in factrl/kl.h: a counted row whose target is outside [0, V) fails with
 * FRL_ERR_ARGUMENT naming the row — on the CPU from the call, naming 'targets', before anything
 * is written; on CUDA at the next sync point, by the log-prob kernel's device error record, which
 * names 'actions' (its name for the targets) and frl_token_logprobs(_backward). Asynchronous on CUDA: the loss stays on the
 * device until read; n is counted on the device (no host synchronisation).
 */
#ifndef FACTRL_CROSS_ENTROPY_H
#define FACTRL_CROSS_ENTROPY_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

frl_status frl_cross_entropy_forward(frl_ctx* ctx, const frl_tensor* logits /* [T,V] */,
                                     const frl_tensor* targets /* [T] i32 */,
                                     const frl_tensor* mask /* [T] i32 or NULL */, frl_tensor* loss /* [1] f32 */,
                                     frl_tensor* logp /* [T] f32 or NULL */, frl_tensor* lse /* [T] f32 or NULL */);

frl_status frl_cross_entropy_backward(frl_ctx* ctx, const frl_tensor* logits /* [T,V] */,
                                      const frl_tensor* targets /* [T] i32 */,
                                      const frl_tensor* mask /* [T] i32 or NULL */,
                                      const frl_tensor* lse /* [T] f32 or NULL */, float grad_loss,
                                      frl_tensor* dlogits /* [T,V] */, int mode);

#ifdef __cplusplus
}
#endif
#endif

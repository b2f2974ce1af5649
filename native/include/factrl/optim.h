/*
 * FactRL C API: the optimizer's element-wise update (AdamW, PyTorch semantics) and the sum of
 * squares behind global-norm gradient clipping (DESIGN.md §4: one AdamW over the trainable set,
 * gradient clip 1.0). Both work on any contiguous F32 tensor, so one call covers a whole parameter
 * blob through frl_blob_flat (factrl/view.h): the blob's alignment padding is zero in the
 * parameters, gradients and moments alike, and stays zero under the update.
 *
 * AdamW, one step t >= 1 (torch.optim.AdamW / libtorch's torch::optim::AdamW, amsgrad off):
 *     g  = grad_scale · grad                              (the clipping factor, 1 when off)
 *     p  = p · (1 − lr · weight_decay)                    (decoupled weight decay)
 *     m  = β1 · m + (1 − β1) · g
 *     v  = β2 · v + (1 − β2) · g²
 *     p  = p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)
 * Scalars arrive as double, as PyTorch's hyperparameters are Python floats: the bias corrections,
 * 1 − lr·wd, lr / (1 − β1^t) and √(1 − β2^t) are computed in double, then every per-element
 * operation runs in fp32 with those scalars rounded to fp32 once, in the order written above
 * (the order libtorch's tensor ops take). (Taking β2 as a float instead would move 1 − β2^t by
 * 1.3e-5 relative at t = 1 for β2 = 0.999.)
 *
 * Conventions:
 *  - param, grad, exp_avg (m), exp_avg_sq (v): F32, contiguous, one context, equal numel (shapes
 *    may differ: a flat blob view against a reshaped one). param, m and v are updated in place;
 *    no two of the four may share an element (FRL_ERR_ARGUMENT naming both).
 *  - lr >= 0 (0 is the first step of a warm-up), beta1 and beta2 in [0, 1), eps >= 0,
 *    weight_decay >= 0, all finite; step >= 1 (1-based: the first update is step 1);
 *    grad_scale finite and >= 0. Each failure names the argument and the value.
 *  - The CPU backend and CUDA compute bitwise the same values (the CUDA kernel uses round-to-
 *    nearest intrinsics, no contraction into FMA, correctly rounded sqrt and division).
 *  - Empty tensors do nothing. Asynchronous on CUDA (the context's stream).
 */
#ifndef FACTRL_OPTIM_H
#define FACTRL_OPTIM_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

frl_status frl_adamw_step(frl_ctx* ctx, frl_tensor* param, const frl_tensor* grad, frl_tensor* exp_avg,
                          frl_tensor* exp_avg_sq, double lr, double beta1, double beta2, double eps,
                          double weight_decay, int64_t step, float grad_scale);

/* Elements summed per chunk, and accumulator lanes per chunk, of frl_sum_squares's fixed order. */
#define FRL_SUMSQ_CHUNK 4096
#define FRL_SUMSQ_LANES 256

/* *out = Σ x_i² in double (each x_i² is exact in double), in a fixed order that does not depend on
 * the thread count or the backend, so the result is bitwise reproducible (CPU and CUDA alike):
 *   level 1: x is cut into chunks of FRL_SUMSQ_CHUNK elements (the last may be shorter); in chunk c,
 *            lane l (0 <= l < FRL_SUMSQ_LANES) sums x_i² for i = c·CHUNK + l + k·LANES, k = 0, 1, …
 *            in that order; then lanes are folded as a tree: for s = LANES/2, …, 1: lane[l] += lane[l+s]
 *            (l < s); the chunk's partial is lane[0].
 *   level 2: the same lanes-then-tree sum over the partials (lane l sums partials l, l + LANES, …).
 * x: F32, contiguous, any shape; empty gives 0. Non-finite elements give inf or NaN (no check).
 * out: a host pointer; on CUDA this call waits for the result (a sync point). */
frl_status frl_sum_squares(frl_ctx* ctx, const frl_tensor* x, double* out);

#ifdef __cplusplus
}
#endif
#endif

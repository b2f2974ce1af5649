/*
 * FactRL C API: RMSNorm (LLaMA's pre-norm; DESIGN.md §2), forward and backward.
 *
 * x [..., d] is seen as N = numel / d rows of width d (row-major, d contiguous); w [d] is the
 * learned gain. Per row n:
 *
 *   rstd_n  = 1 / sqrt(mean_j x[n,j]^2 + eps)
 *   y[n,j]  = x[n,j] · rstd_n · w[j]
 *
 * Backward with g = dy, xhat = x · rstd:
 *   dx[n,:] = rstd_n · (g∘w − xhat[n,:] · mean_j (g∘w∘xhat)[n,j])
 *   dw[j]   = Σ_n g[n,j] · xhat[n,j]
 *
 * Conventions:
 *  - Backends: CPU (every tensor F32: the fp32 reference) and CUDA (x, w, y, dy, dx, dw F32 or
 *    BF16, all of x's dtype, fp32 math, one rounding per stored element; asynchronous on the
 *    context's stream). rstd [N] is F32 on both.
 *  - y may be x (in place). rstd [N] is saved by the forward for the backward (may be NULL in the
 *    forward: inference); the backward requires it.
 *  - eps must be finite and > 0. Apart from y = x, no output may be an input or another output
 *    (FRL_ERR_ARGUMENT naming both).
 *  - dx and dw may each be NULL (not computed). dx_mode and dw_mode (FRL_GRAD_OVERWRITE /
 *    FRL_GRAD_ACCUMULATE, factrl.h) each overwrite that output or add to its contents: dx into a
 *    residual-stream gradient, dw over micro-batches.
 *  - dw is summed over rows in a fixed order whatever the thread count: bitwise reproducible (CPU:
 *    ascending rows; CUDA: 32 interleaved row groups, then the groups in order).
 */
#ifndef FACTRL_RMSNORM_H
#define FACTRL_RMSNORM_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

/* x [..., d], w [d], y same shape as x, rstd [N] or NULL. */
frl_status frl_rmsnorm_forward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* w, float eps,
                               frl_tensor* y, frl_tensor* rstd);

/* x [..., d], w [d], rstd [N] (from the forward), dy like x; dx like x or NULL, dw [d] or NULL. */
frl_status frl_rmsnorm_backward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* w,
                                const frl_tensor* rstd, const frl_tensor* dy, frl_tensor* dx,
                                frl_tensor* dw, int dx_mode, int dw_mode);

#ifdef __cplusplus
}
#endif
#endif

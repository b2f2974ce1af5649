/*
 * FactRL C API: LayerNorm (the ViT's norm; DESIGN.md §2), forward and backward.
 *
 * x [..., d] is seen as N = numel / d rows of width d (row-major, d contiguous); w [d] is the
 * learned gain and b [d] the bias. Per row n (two passes: the variance about the mean, not
 * E[x²] − mean², which cancels badly when |mean| ≫ std):
 *
 *   mean_n  = (1/d) Σ_j x[n,j]
 *   rstd_n  = 1 / sqrt((1/d) Σ_j (x[n,j] − mean_n)² + eps)        (biased variance, as PyTorch)
 *   xhat    = (x[n,j] − mean_n) · rstd_n
 *   y[n,j]  = xhat · w[j] + b[j]
 *
 * Backward with g = dy, gw = g∘w:
 *   dx[n,:] = rstd_n · (gw − mean_j gw − xhat · mean_j (gw∘xhat))
 *   dw[j]   = Σ_n g[n,j] · xhat[n,j]
 *   db[j]   = Σ_n g[n,j]
 *
 * Conventions:
 *  - Storage. The CPU backend computes on F32 (the fp32 reference). On CUDA x, w, b, y (forward)
 *    and x, w, dy, dx, dw, db (backward) are F32 or BF16, all of x's dtype, with fp32 math and one
 *    rounding per stored element. mean and rstd [N] are F32 on both backends (statistics stay
 *    exact enough for the backward whatever the storage).
 *  - y may be x (in place). mean and rstd are saved by the forward for the backward; either may be
 *    NULL in the forward (inference); the backward requires both.
 *  - eps must be finite and > 0. Apart from y = x, no output may be an input or another output
 *    (FRL_ERR_ARGUMENT naming both). Every tensor must be contiguous (a view that is not names
 *    the argument).
 *  - dx, dw and db may each be NULL (not computed). dx_mode and dparam_mode (FRL_GRAD_OVERWRITE /
 *    FRL_GRAD_ACCUMULATE, factrl.h) overwrite or add to dx, and to dw and db respectively: dx into
 *    a residual-stream gradient, dw/db over micro-batches.
 *  - dw and db are summed over rows in ascending order whatever the thread count (bitwise
 *    reproducible on the CPU; on CUDA one thread per column, also in ascending rows).
 *  - Asynchronous on CUDA (the context's stream).
 */
#ifndef FACTRL_LAYERNORM_H
#define FACTRL_LAYERNORM_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

/* x [..., d], w [d], b [d], y like x, mean [N] or NULL, rstd [N] or NULL. */
frl_status frl_layernorm_forward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* w, const frl_tensor* b,
                                 float eps, frl_tensor* y, frl_tensor* mean, frl_tensor* rstd);

/* x [..., d], w [d], mean, rstd [N] (from the forward), dy like x; dx like x or NULL, dw, db [d] or NULL. */
frl_status frl_layernorm_backward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* w, const frl_tensor* mean,
                                  const frl_tensor* rstd, const frl_tensor* dy, frl_tensor* dx, frl_tensor* dw,
                                  frl_tensor* db, int dx_mode, int dparam_mode);

#ifdef __cplusplus
}
#endif
#endif

/*
 * FactRL C API: a dense linear layer with a weight gradient (the projector, the ViT's layers, and
 * full fine-tuning; LoRA-adapted layers with a frozen W use factrl/lora.h instead).
 *
 *   y  = x Wᵀ + b              x [..., K], W [M, K] (nn.Linear layout), b [M] or NULL, y [..., M]
 *   dx = g W                   g = dy [..., M]
 *   dW = gᵀ x                  (summed over all N rows of x)
 *   db = Σ_n g[n, :]
 *
 * x and y are seen as N rows (the product of the leading dimensions). In the backward, dx, dW and db may each be NULL (not computed). Two modes (FRL_GRAD_OVERWRITE /
 * FRL_GRAD_ACCUMULATE, factrl.h), because the two kinds of gradient accumulate for different
 * reasons: dx_mode for dx (ACCUMULATE sums the q/k/v or gate/up projections' input gradients, or a
 * residual branch, into one buffer), dparam_mode for dW and db (ACCUMULATE sums over micro-batches;
 * a new step starts with OVERWRITE). db is summed over rows in a fixed order (reproducible; CPU:
 * ascending rows, CUDA: 32 interleaved row groups combined in order). No output may be an input or
 * another output (FRL_ERR_ARGUMENT naming both, or saying the views overlap).
 *
 * Backends: CPU (every tensor F32) and CUDA (every tensor F32 or BF16, all of x's dtype; fp32
 * accumulation; bf16 GEMMs on cuBLASLt where built in, else tensor cores, f32 on an fp32 SIMT
 * kernel; the bias is added after the GEMM, as on the CPU; asynchronous on the context's stream).
 *
 * Views (factrl/view.h): x, W, y, dy, dx and dW may be row-contiguous views — last-dimension
 * stride 1, leading dimensions collapsing to one row stride >= the width — e.g. a column slice
 * [N, K] of an [N, K'] buffer; the GEMMs read them in place. b and db must be contiguous.
 */
#ifndef FACTRL_LINEAR_H
#define FACTRL_LINEAR_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

frl_status frl_linear_forward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* W, const frl_tensor* b,
                              frl_tensor* y);

frl_status frl_linear_backward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* W, const frl_tensor* dy,
                               frl_tensor* dx, frl_tensor* dW, frl_tensor* db, int dx_mode, int dparam_mode);

#ifdef __cplusplus
}
#endif
#endif

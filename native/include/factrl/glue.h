/*
 * FactRL C API: glue ops between the layers (issue 9, item 2) — elementwise arithmetic, fill,
 * f32 <-> bf16 casts and row gather / scatter. The model uses them to add q/k/v or gate/up
 * gradients, scale a loss gradient, splice image features at `<image>` positions, append to a KV
 * cache and take minibatch rows.
 *
 *   frl_add           y = a + b                  (elementwise; y may be a or b)
 *   frl_axpy          y = y + alpha · x          (y may be x)
 *   frl_scale         y = alpha · x              (y may be x: in place)
 *   frl_fill          t = value                  (every element)
 *   frl_cast          dst = src converted        (F32 -> BF16 rounds to nearest, ties to even, NaN
 *                                                 stays NaN, as frl_tensor_write_f32 does; BF16 ->
 *                                                 F32 is exact; the same dtype copies)
 *   frl_gather_rows   dst[i, ...] = src[idx[i], ...]                 i in [0, n)
 *   frl_scatter_rows  dst[idx[i], ...] (=|+=) src[i, ...]            i in [0, n)
 *
 * Conventions:
 *  - dtypes. add / axpy / scale and scatter with FRL_GRAD_ACCUMULATE compute: F32 on the CPU backend
 *    (the fp32 reference), F32 or BF16 on CUDA (math in fp32, one rounding to the storage type per
 *    element). Every tensor of one call shares the dtype (idx aside). fill and cast take F32 or BF16
 *    on both backends (bf16 is storage on the CPU: this is how a bf16 tensor is made and checked
 *    there); fill rejects I32.
 *    Gather and scatter with FRL_GRAD_OVERWRITE move rows of any dtype (F32, BF16, I32), src and dst
 *    alike. Index tensors are I32.
 *  - alpha and value may be any float (inf and NaN propagate as the arithmetic says).
 *  - Shapes: elementwise ops need equal shapes (every dimension). Row ops see a tensor as rows along
 *    its FIRST dimension, [R, ...] (a [B·S, d] embedding view, a [B·S_max, H·D] KV cache view, a
 *    [B, S] batch of token rows); src and dst must have the same dimensions after the first. idx is
 *    1-D: [n] with n = dst.shape[0] (gather) or n = src.shape[0] (scatter).
 *  - Index range. Every idx[i] must lie in [0, R) (R = src.shape[0] for gather, dst.shape[0] for
 *    scatter). On the CPU a bad entry fails with FRL_ERR_ARGUMENT naming 'idx' and the entry
 *    ("argument 'idx': idx[3] = 9 is outside [0, 8)") before anything is written. On CUDA the check
 *    runs inside the kernel, without a host synchronisation: a bad entry's row is skipped (nothing
 *    outside the tensors is read or written) and reported to the context's device error flag
 *    (kernels/device_error.h); the next sync point (frl_ctx_synchronize, any host read) fails with
 *    FRL_ERR_ARGUMENT naming the op, 'idx', the smallest bad entry and the bound. The outputs of
 *    such a call are undefined.
 *  - Repeated indices in a scatter: FRL_GRAD_ACCUMULATE adds every source row, in ascending i, on
 *    both backends (deterministic; with F32 the CPU and CUDA sums are bitwise equal). With
 *    FRL_GRAD_OVERWRITE the CPU keeps the last row (largest i); on CUDA one of them, unspecified.
 *  - Aliasing: gather / scatter may not take dst as src (FRL_ERR_ARGUMENT naming both); elementwise
 *    ops allow the aliases listed above (each element is read before it is written).
 *  - Empty tensors (n = 0, a zero dimension) are allowed and do nothing.
 *  - Asynchronous on CUDA (the context's stream); nothing synchronises the host.
 */
#ifndef FACTRL_GLUE_H
#define FACTRL_GLUE_H

#include "../factrl.h"

#ifdef __cplusplus
extern "C" {
#endif

frl_status frl_add(frl_ctx* ctx, const frl_tensor* a, const frl_tensor* b, frl_tensor* y);
frl_status frl_axpy(frl_ctx* ctx, float alpha, const frl_tensor* x, frl_tensor* y);
frl_status frl_scale(frl_ctx* ctx, float alpha, const frl_tensor* x, frl_tensor* y);
frl_status frl_fill(frl_ctx* ctx, frl_tensor* t, float value);
frl_status frl_cast(frl_ctx* ctx, const frl_tensor* src, frl_tensor* dst);
frl_status frl_gather_rows(frl_ctx* ctx, const frl_tensor* src, const frl_tensor* idx, frl_tensor* dst);
/* mode: FRL_GRAD_OVERWRITE (0) copies rows, FRL_GRAD_ACCUMULATE (1) adds them. */
frl_status frl_scatter_rows(frl_ctx* ctx, const frl_tensor* src, const frl_tensor* idx, frl_tensor* dst, int mode);

#ifdef __cplusplus
}
#endif

#endif /* FACTRL_GLUE_H */

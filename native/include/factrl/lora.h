/* FactRL C API: the fused LoRA matmul (DESIGN.md §3).
 *
 * Notation: tokens N, input width K, output width M, rank r, scale s (= alpha / r).
 * All tensors are row-major and live in the context `ctx`; they are contiguous, except that on the
 * CPU x, y, dy and dx may be row-contiguous views (last-dimension stride 1, a row stride >= the
 * width, e.g. a column slice of a wider buffer; factrl/view.h):
 *   x [N, K]   input activations          W [M, K]  frozen base weight (nn.Linear layout)
 *   A [r, K]   LoRA down-projection       B [M, r]  LoRA up-projection
 *   y [N, M]   output                     u [N, r]  saved adapter activation u = x A^T
 *
 * Forward   y = x W^T + s * u B^T  with  u = x A^T      (use_adapter = 1)
 *           y = x W^T                                    (use_adapter = 0: A, B, u ignored, may be NULL)
 *           u may be NULL with use_adapter = 1 (inference): a workspace holds it then.
 * Backward  with g = dy [N, M] and v = g B [N, r] (an internal workspace):
 *           dx = g W + s * v A        ([N, K]; dx may be NULL when not needed)
 *           dA = s * v^T x            ([r, K])
 *           dB = s * g^T u            ([M, r])
 *           accumulate = 0 overwrites every requested gradient (dx, dA, dB); accumulate = 1 adds
 *           into them (dx into a shared input gradient: q/k/v or gate/up projections of one x;
 *           dA/dB over micro-batches), like the linear layer and RMSNorm.
 *           W gets no gradient. With use_adapter = 0 only dx = g W is computed (A, B, u, dA, dB
 *           ignored, may be NULL). dA and dB may each be NULL (that gradient is skipped); u is
 *           required when dB is requested.
 *
 * Dtypes. CPU backend: every tensor F32. CUDA backend: x, W, y, u, dy, dx share one dtype, F32
 * (exact SIMT kernels) or BF16 (storage; cuBLASLt where built in, else tensor-core kernels; fp32
 * accumulation). A and B share one dtype: that same dtype, or F32 over a BF16 base (mixed precision:
 * f32 master weights, cast to bf16 for the products per call, as autocast does — a 3e-5 update is
 * lost in bf16 weights). dA and dB may each be F32 or the activation dtype (F32 is the usual choice:
 * the adapter's dtype, and accumulation over micro-batches).
 * scale must be finite. No output (y, u, dx, dA, dB) may be an input or another output
 * (FRL_ERR_ARGUMENT naming both): there is no in-place form. The CUDA backward takes an N*r
 * workspace from the context's stream-ordered pool; everything is asynchronous on the context's
 * stream (no host synchronisation).
 *
 * The forward is one K-augmented GEMM, y = [x | s*u] . [W | B]^T, whose k loop runs over x/W for
 * the first K and u/B for the last r columns (no packing), after the small GEMM u = x A^T. The
 * backward is dx = [g | s*v] . [W ; A] the same way, after v = g B; dA and dB are reductions over N.
 */
#ifndef FACTRL_LORA_H
#define FACTRL_LORA_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

frl_status frl_lora_forward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* W, const frl_tensor* A,
                            const frl_tensor* B, float scale, int use_adapter, frl_tensor* y, frl_tensor* u);

frl_status frl_lora_backward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* W, const frl_tensor* A,
                             const frl_tensor* B, float scale, int use_adapter, const frl_tensor* dy,
                             const frl_tensor* u, frl_tensor* dx, frl_tensor* dA, frl_tensor* dB,
                             int accumulate);

#ifdef __cplusplus
}
#endif
#endif

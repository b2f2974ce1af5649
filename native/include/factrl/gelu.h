/*
 * FactRL C API: GELU (the ViT's MLP activation and the projector's), forward and backward,
 * elementwise, in the exact erf form or PyTorch's tanh approximation.
 *
 *   FRL_GELU_ERF:   y = x · Φ(x) = ½ x (1 + erf(x / √2))
 *                   y' = Φ(x) + x · φ(x),            φ(x) = exp(−x²/2) / √(2π)
 *   FRL_GELU_TANH:  u = √(2/π) (x + 0.044715 x³),    y = ½ x (1 + tanh u)
 *                   y' = ½ (1 + tanh u) + ½ x (1 − tanh² u) · √(2/π) (1 + 3·0.044715 x²)
 *
 * Backward: dx = dy ∘ y'(x).
 *
 * Conventions:
 *  - approximation is FRL_GELU_ERF (0, PyTorch's approximate='none', CLIP's ViT) or FRL_GELU_TANH
 *    (1, approximate='tanh'); anything else fails naming 'approximation'.
 *  - Storage: F32 on the CPU backend; F32 or BF16 on CUDA (every tensor of a call of x's dtype, math
 *    in fp32). Shapes: every tensor has x's shape; contiguous.
 *  - y may be x (in place). In the backward dx may not be x or dy (FRL_ERR_ARGUMENT naming both).
 *  - mode (FRL_GRAD_OVERWRITE / FRL_GRAD_ACCUMULATE, factrl.h) overwrites dx or adds into it.
 *  - Empty tensors do nothing. Asynchronous on CUDA (the context's stream).
 */
#ifndef FACTRL_GELU_H
#define FACTRL_GELU_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

#define FRL_GELU_ERF 0
#define FRL_GELU_TANH 1

frl_status frl_gelu_forward(frl_ctx* ctx, const frl_tensor* x, int approximation, frl_tensor* y);

frl_status frl_gelu_backward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* dy, int approximation,
                             frl_tensor* dx, int mode);

#ifdef __cplusplus
}
#endif
#endif

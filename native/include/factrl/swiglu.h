/*
 * FactRL C API: the SwiGLU gate of LLaMA's MLP (DESIGN.md §2), forward and backward.
 *
 * The MLP is down( silu(gate(x)) ∘ up(x) ); this is the elementwise middle, on a = gate(x) and
 * b = up(x) (any equal shapes, e.g. [N, F]):
 *
 *   silu(a) = a · σ(a)                 out = silu(a) ∘ b
 *   da = g ∘ b ∘ σ(a) · (1 + a·(1 − σ(a)))      db = g ∘ silu(a)       (g = dout)
 *
 * out may alias a or b. σ is evaluated without overflow for any finite a. da and db may each be
 * NULL (not computed); mode (FRL_GRAD_OVERWRITE / FRL_GRAD_ACCUMULATE, factrl.h) overwrites them
 * or adds into them (gate and up gradients into shared buffers). They may not be an input or each
 * other (FRL_ERR_ARGUMENT naming both).
 *
 * Backends: CPU (every tensor F32) and CUDA (every tensor F32 or BF16, all of a's dtype, fp32
 * math, one rounding per stored element; asynchronous on the context's stream).
 */
#ifndef FACTRL_SWIGLU_H
#define FACTRL_SWIGLU_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

frl_status frl_swiglu_forward(frl_ctx* ctx, const frl_tensor* a, const frl_tensor* b, frl_tensor* out);

frl_status frl_swiglu_backward(frl_ctx* ctx, const frl_tensor* a, const frl_tensor* b, const frl_tensor* dout,
                               frl_tensor* da, frl_tensor* db, int mode);

#ifdef __cplusplus
}
#endif
#endif

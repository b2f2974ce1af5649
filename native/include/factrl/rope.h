/*
 * FactRL C API: rotary position embedding (RoPE) as in LLaMA / Hugging Face (DESIGN.md §2).
 *
 * x [B, S, H, D] (the q or k projection viewed per head, D even), positions [B, S] I32 (>= 0;
 * a row's positions need not start at 0: generation with a KV cache passes the true offsets).
 * HF's "rotate_half" pairing: element i rotates with element i + D/2, i in [0, D/2):
 *
 *   θ_i   = base^(−2i/D)                       (fp32, as HF computes inv_freq)
 *   φ     = p · θ_i                             (fp32), c = cos φ, s = sin φ
 *   y[i]       = x[i] · c − x[i + D/2] · s
 *   y[i + D/2] = x[i + D/2] · c + x[i] · s
 *
 * The map is a rotation, so the backward is the rotation by −φ: dx = rope(dy, −positions). One
 * entry point does both (inverse = 1 for the backward). y may be x (in place). mode
 * (FRL_GRAD_OVERWRITE / FRL_GRAD_ACCUMULATE, factrl.h) writes y or adds the rotation into it (the
 * backward into a gradient other pieces also add to); the forward passes FRL_GRAD_OVERWRITE.
 * base must be finite and > 0. A position < 0 fails with FRL_ERR_ARGUMENT naming 'positions' and
 * the entry: on the CPU before anything is written; on CUDA (positions live on the device) the
 * kernel flags it and the next sync point (frl_ctx_synchronize, a host read) fails naming the first
 * bad entry, that token skipped and the call's outputs undefined. y may not be positions.
 *
 * Backends: CPU (float tensors F32) and CUDA (x, y F32 or BF16 of one dtype, fp32 math, one
 * rounding per stored element; θ, φ, cos and sin rounded as the CPU's, so f32 agrees to an ulp or
 * two; asynchronous on the context's stream).
 */
#ifndef FACTRL_ROPE_H
#define FACTRL_ROPE_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

frl_status frl_rope(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* positions, float base, int inverse,
                    frl_tensor* y, int mode);

#ifdef __cplusplus
}
#endif
#endif

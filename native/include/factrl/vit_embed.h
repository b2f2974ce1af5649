/*
 * FactRL C API: the ViT's patch embedding (DESIGN.md §2), as two ops around the dense linear layer.
 *
 * 1. Patchify (im2col for a convolution with kernel = stride = p). image [B, C, H, W] with H and W
 *    multiples of p; Hp = H/p, Wp = W/p, P = Hp·Wp patches in row-major patch order
 *    i = py·Wp + px, F = C·p·p features per patch in the conv weight's order f = (c·p + ky)·p + kx:
 *
 *      patches[b, i, f] = image[b, c, py·p + ky, px·p + kx]
 *
 *    so conv2d(image, Wc [D, C, p, p], bc, stride p) flattened to [B, P, D] is
 *    frl_linear_forward(patches, Wc viewed as [D, F], bc): the conv is one GEMM over patches.
 *    Backward (the inverse scatter; each pixel belongs to exactly one patch):
 *      dimage[b, c, y, x] (=|+=) dpatches[b, i, f]      for the (i, f) holding pixel (c, y, x)
 *
 * 2. Assemble (class token + learned positions), with proj = the linear's output [B, P, D],
 *    cls [D], pos [P+1, D], out [B, P+1, D]:
 *
 *      out[b, 0, :]   = cls + pos[0, :]
 *      out[b, 1+i, :] = proj[b, i, :] + pos[1+i, :]
 *    Backward with g = dout:
 *      dproj[b, i, :] = g[b, 1+i, :]      dcls = Σ_b g[b, 0, :]      dpos[j, :] = Σ_b g[b, j, :]
 *
 *    One op rather than "concat" + "broadcast add": the forward reads proj once and writes out once,
 *    and the backward produces all three gradients in one pass over g; two ops would need an
 *    intermediate [B, P+1, D] buffer and a second full pass. proj cannot simply be written into a
 *    view of out either: out[:, 1:, :] is not row-contiguous (its rows skip the class slot of each
 *    image), which the linear layer's leading-dimension views cannot express.
 *
 * Conventions:
 *  - dtypes: F32 on the CPU backend (the fp32 reference); on CUDA each float tensor is F32 or BF16
 *    (storage; math in fp32, one rounding per stored value), independently of the others.
 *  - Views: `image` may be any view (strides read as given: a channel or batch slice, a permuted
 *    layout); every other tensor must be contiguous. Outputs are contiguous.
 *  - Gradient outputs may be NULL (not computed). Each has a mode (FRL_GRAD_OVERWRITE /
 *    FRL_GRAD_ACCUMULATE, factrl.h): dimage's `mode`; the assemble backward's dproj_mode for dproj
 *    and dparam_mode for dcls and dpos (summed over micro-batches).
 *  - dcls and dpos sum over b in ascending order on both backends (reproducible; with F32 the CPU
 *    and CUDA sums are bitwise equal).
 *  - No output may be an input or another output (FRL_ERR_ARGUMENT naming both).
 *  - patch >= 1; B, C, H, W, D may be 0 (nothing to do). Asynchronous on CUDA.
 */
#ifndef FACTRL_VIT_EMBED_H
#define FACTRL_VIT_EMBED_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

/* image [B, C, H, W] (any view), patches [B, P, C·patch·patch]. */
frl_status frl_patchify(frl_ctx* ctx, const frl_tensor* image, int patch, frl_tensor* patches);

/* dpatches [B, P, C·patch·patch], dimage [B, C, H, W] (contiguous). */
frl_status frl_patchify_backward(frl_ctx* ctx, const frl_tensor* dpatches, int patch, frl_tensor* dimage, int mode);

/* proj [B, P, D], cls [D], pos [P+1, D], out [B, P+1, D]. */
frl_status frl_vit_embed_assemble_forward(frl_ctx* ctx, const frl_tensor* proj, const frl_tensor* cls,
                                          const frl_tensor* pos, frl_tensor* out);

/* dout [B, P+1, D]; dproj [B, P, D], dcls [D], dpos [P+1, D], each or NULL. */
frl_status frl_vit_embed_assemble_backward(frl_ctx* ctx, const frl_tensor* dout, frl_tensor* dproj, frl_tensor* dcls,
                                           frl_tensor* dpos, int dproj_mode, int dparam_mode);

#ifdef __cplusplus
}
#endif
#endif

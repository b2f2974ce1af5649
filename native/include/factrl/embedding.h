/*
 * FactRL C API: token embedding lookup (DESIGN.md §2), forward and backward.
 *
 *   out[n, :] = table[ids[n], :]               ids [...] I32 in [0, V), table [V, d]
 *   dtable[v, :] (+)= Σ_{n : ids[n] = v} dout[n, :]
 *
 * out and dout have the shape of ids with d appended (ids [B, S] -> out [B, S, d]). A token id
 * outside [0, V) fails with FRL_ERR_ARGUMENT naming 'ids' and the entry, before anything is
 * written. The backward sums each row's contributions in ascending n, whatever the thread count
 * (bitwise reproducible); mode FRL_GRAD_OVERWRITE overwrites dtable (rows of unused ids
 * become 0), FRL_GRAD_ACCUMULATE adds into it (factrl.h). Float tensors are F32. This layer has no CUDA kernel yet: on a CUDA
 * context both calls fail with FRL_ERR_UNAVAILABLE. out may not be table, nor dtable dout.
 */
#ifndef FACTRL_EMBEDDING_H
#define FACTRL_EMBEDDING_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

frl_status frl_embedding_forward(frl_ctx* ctx, const frl_tensor* ids, const frl_tensor* table, frl_tensor* out);

frl_status frl_embedding_backward(frl_ctx* ctx, const frl_tensor* ids, const frl_tensor* dout, frl_tensor* dtable,
                                  int mode);

#ifdef __cplusplus
}
#endif
#endif

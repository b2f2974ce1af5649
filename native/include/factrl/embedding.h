/*
 * FactRL C API: token embedding lookup (DESIGN.md §2), forward and backward.
 *
 *   out[n, :] = table[ids[n], :]               ids [...] I32 in [0, V), table [V, d]
 *   dtable[v, :] (+)= Σ_{n : ids[n] = v} dout[n, :]
 *
 * out and dout have the shape of ids with d appended (ids [B, S] -> out [B, S, d]). A token id
 * outside [0, V) fails with FRL_ERR_ARGUMENT naming 'ids' and the entry: on the CPU before
 * anything is written; on CUDA (ids live on the device) the kernel flags it and the next sync
 * point (frl_ctx_synchronize, a host read) fails naming 'ids' and the first bad entry, that row
 * skipped and the call's outputs undefined. The backward sums each row's contributions in
 * ascending n, whatever the thread count (bitwise reproducible; on CUDA a stable sort of the ids
 * gives each vocabulary row one owner, no atomics); mode FRL_GRAD_OVERWRITE overwrites dtable
 * (rows of unused ids become 0), FRL_GRAD_ACCUMULATE adds into it (factrl.h).
 *
 * Backends: CPU (F32) and CUDA (table, out, dout, dtable F32 or BF16, all one dtype; sums in
 * fp32, one rounding per stored element; asynchronous on the context's stream). out may not be
 * table or ids, nor dtable dout or ids.
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

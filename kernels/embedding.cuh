// Host launchers of the token embedding's CUDA kernels (kernels/embedding.cu). Plain C++ so that
// native/src/embedding_api.cpp (compiled by the host compiler) can include it. The C API has checked
// shapes and dtypes; ids live on the device, so their range is checked by the kernels (the device
// error flag, read at the next sync). Work is queued on the context's stream; nothing here
// synchronises the host.
#pragma once

#include <cstdint>

#include "engine.h"

namespace frl {
namespace cuda {

// out[n, :] = table[ids[n], :]; dtype (FRL_F32 or FRL_BF16) of table and out. An id outside
// [0, V) is flagged (kOpEmbeddingForward) and its row left unwritten.
void embedding_forward(const frl_ctx* ctx, frl_dtype dtype, const int32_t* ids, const void* table, void* out,
                       int64_t N, int64_t V, int64_t d);

// dtable[v, :] (+)= Σ_{ids[n] = v} dout[n, :] in ascending n; dtype of dout and dtable. An id
// outside [0, V) is flagged (kOpEmbeddingBackward) and its rows skipped.
void embedding_backward(const frl_ctx* ctx, frl_dtype dtype, const int32_t* ids, const void* dout, void* dtable,
                        int64_t N, int64_t V, int64_t d, bool accumulate);

}  // namespace cuda
}  // namespace frl

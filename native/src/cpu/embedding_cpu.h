// CPU reference of the token embedding (fp32, OpenMP). Conventions: factrl/embedding.h.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// out[n, :] = table[ids[n], :] for N ids (already checked to lie in [0, V)).
void embedding_forward(const int32_t* ids, const float* table, float* out, int64_t N, int64_t d);

// dtable[v, :] (+)= Σ_{ids[n] = v} dout[n, :], summed in ascending n.
void embedding_backward(const int32_t* ids, const float* dout, float* dtable, int64_t N, int64_t V, int64_t d,
                        bool accumulate);

}  // namespace cpu
}  // namespace frl

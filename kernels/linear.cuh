// Host launchers of the dense linear layer on CUDA (kernels/linear.cu). Plain C++ so that
// native/src/linear_api.cpp (compiled by the host compiler) can include it. The C API has checked
// shapes, dtypes and views; work is queued on the context's stream, nothing synchronises the host.
#pragma once

#include <cstdint>

#include "engine.h"

namespace frl {
namespace cuda {

// Row strides (elements) of x/dx [N, K], W/dW [M, K], y/dy [N, M], as cpu::LinearLd.
struct LinearStrides {
  int64_t x, W, y, dx, dW;
};

// y = x Wᵀ (+ b); dtype (FRL_F32 or FRL_BF16) of every tensor; b may be null.
void linear_forward(const frl_ctx* ctx, frl_dtype dtype, const void* x, const void* W, const void* b, void* y,
                    int64_t N, int64_t K, int64_t M, const LinearStrides& ld);

// dx (+)= g W, dW (+)= gᵀ x, db (+)= Σ_n g[n]; each output may be null.
void linear_backward(const frl_ctx* ctx, frl_dtype dtype, const void* x, const void* W, const void* dy, void* dx,
                     void* dW, void* db, int64_t N, int64_t K, int64_t M, bool dx_accumulate, bool dparam_accumulate,
                     const LinearStrides& ld);

}  // namespace cuda
}  // namespace frl

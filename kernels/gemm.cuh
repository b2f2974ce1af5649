// One plain GEMM on the CUDA backend, for layers other than LoRA (the dense linear layer): the
// kernels of kernels/lora.cu (cuBLASLt for bf16 where built in, else the WMMA kernel; the fp32 SIMT
// kernel for F32 storage; split-K with a fixed-order reduction for long, narrow products). Plain
// C++ header: the host launchers include it.
#pragma once

#include <cstdint>

#include "engine.h"

namespace frl {
namespace cuda {

// A GEMM operand, in the layouts of kernels/lora.cu: A operand (m, k) is p[m * ld + k] (col =
// false) or p[k * ld + m] (col = true); B operand (k, n) is p[k * ld + n] (col = false) or
// p[n * ld + k] (col = true).
struct GemmOperand {
  const void* p;
  int64_t ld;
  bool col;
};

// C[M x N] (row-major, leading dimension ldc) (+)= A B with fp32 accumulation; every matrix of
// dtype (FRL_F32 or FRL_BF16); "+=" when accumulate. Layouts supported: (A row, B col), (A row,
// B row), (A col, B row) — the three products of a linear layer. Dimensions below 2^31.
void gemm(const frl_ctx* ctx, frl_dtype dtype, int64_t M, int64_t N, int64_t K, GemmOperand a, GemmOperand b,
          void* c, int64_t ldc, bool accumulate);

}  // namespace cuda
}  // namespace frl

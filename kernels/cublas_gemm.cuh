// cuBLASLt for the plain GEMMs of the CUDA backend (bf16 in, fp32 accumulate), where the toolkit has
// it (FACTRL_WITH_CUBLAS; CMake finds cublasLt.h and libcublasLt). Included only under that define.
// Where it is absent, or cuBLASLt finds no algorithm for a shape, the callers use their own kernels
// (the WMMA GEMM of kernels/lora.cu).
#pragma once

#include <cublasLt.h>

#include <map>
#include <tuple>

#include "cuda_common.cuh"

namespace frl {

// The descriptors and the heuristic's algorithm of one GEMM shape, made once and reused: building
// them and asking the heuristic costs tens of microseconds of host time per call.
struct LtPlan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo = {};
  bool found = false;  // false: cuBLASLt has no algorithm for this shape (the caller's kernel runs)
};

// (M, N, K, A col, B col, lda, ldb, ldc, C type, alignments of A, B, C)
using LtKey = std::tuple<int, int, int, bool, bool, int64_t, int64_t, int64_t, int, uint32_t, uint32_t, uint32_t>;

// One per context: the handle, a workspace allocated once (counted by bytes_in_use) and the plans.
struct CublasHandles {
  cublasLtHandle_t lt = nullptr;
  void* workspace = nullptr;
  size_t workspace_bytes = size_t{32} << 20;
  std::map<LtKey, LtPlan> plans;  // a model has a few dozen GEMM shapes; cleared beyond kMaxPlans
  static constexpr size_t kMaxPlans = 512;
  void init(cudaStream_t stream);  // throws Error(FRL_ERR_DEVICE)
  void destroy() noexcept;
  void clear_plans() noexcept;
};

namespace cuda {

// A GEMM operand in the layouts of kernels/lora.cu: A operand (m, k) is a[m * ld + k] (col = false)
// or a[k * ld + m] (col = true); B operand (k, n) is b[k * ld + n] (col = false) or b[n * ld + k]
// (col = true). Storage bf16.
struct LtOperand {
  const void* p;
  int64_t ld;
  bool col;
};

// C[M x N] (row-major, leading dimension ldc, bf16 or f32 as c_type) = alpha * A B + beta * C, on
// the context's stream, fp32 accumulation. Returns false (nothing queued) when cuBLASLt has no
// algorithm for it, so the caller can run its own kernel; throws on a CUDA / cuBLAS failure.
bool cublaslt_gemm(const frl_ctx* ctx, int M, int N, int K, LtOperand a, LtOperand b, cudaDataType_t c_type,
                   void* c, int64_t ldc, float alpha, float beta);

}  // namespace cuda
}  // namespace frl

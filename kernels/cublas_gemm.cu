// cuBLASLt GEMM (see cublas_gemm.cuh). Compiled to nothing without FACTRL_WITH_CUBLAS. Each GEMM
// shape gets its descriptors and heuristic algorithm once (an LtPlan cached per context).
//
// cuBLASLt is column-major; our matrices are row-major. A row-major C [M x N] with leading
// dimension ldc is the column-major C^T [N x M] with the same ld, and C^T = B^T A^T, so the call is
// made with cuBLASLt's A := our B operand and cuBLASLt's B := our A operand, m = N, n = M:
//   our B (k, n) at b[k*ld + n]  = column-major [N x K] = B^T          -> op N
//   our B (k, n) at b[n*ld + k]  = column-major [K x N] = B            -> op T
//   our A (m, k) at a[m*ld + k]  = column-major [K x M] = A^T          -> op N
//   our A (m, k) at a[k*ld + m]  = column-major [M x K] = A            -> op T
#ifdef FACTRL_WITH_CUBLAS
#include "cublas_gemm.cuh"

namespace frl {

namespace {

void lt_check(cublasStatus_t st, const char* what) {
  if (st != CUBLAS_STATUS_SUCCESS)
    throw Error(FRL_ERR_DEVICE, format("cuBLASLt error %d in %s", static_cast<int>(st), what));
}
#define FRL_LT_CHECK(call) lt_check((call), #call)

// The largest power of two (<= 256) that divides the address: cuBLASLt's heuristic assumes 256-byte
// alignment unless told otherwise, and would pick a kernel that faults on a view with an offset.
uint32_t alignment(const void* p) {
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  uint32_t al = 256;
  while (al > 1 && (a % al) != 0) al /= 2;
  return al;
}

void destroy_plan(LtPlan& p) noexcept {
  if (p.c) cublasLtMatrixLayoutDestroy(p.c);
  if (p.b) cublasLtMatrixLayoutDestroy(p.b);
  if (p.a) cublasLtMatrixLayoutDestroy(p.a);
  if (p.op) cublasLtMatmulDescDestroy(p.op);
  p = LtPlan{};
}

}  // namespace

void CublasHandles::init(cudaStream_t) {
  FRL_LT_CHECK(cublasLtCreate(&lt));
  FRL_CUDA_CHECK(cudaMalloc(&workspace, workspace_bytes));
}

void CublasHandles::clear_plans() noexcept {
  for (auto& kv : plans) destroy_plan(kv.second);
  plans.clear();
}

void CublasHandles::destroy() noexcept {
  clear_plans();
  if (workspace) cudaFree(workspace);
  if (lt) cublasLtDestroy(lt);
  workspace = nullptr;
  lt = nullptr;
}

namespace cuda {

namespace {

// Descriptors and algorithm for one shape (see the file comment for the operand mapping). On any
// cuBLASLt error the partial plan is destroyed and the error thrown.
LtPlan make_plan(CublasHandles& h, int M, int N, int K, LtOperand a, LtOperand b, cudaDataType_t c_type,
                 int64_t ldc, uint32_t al_a, uint32_t al_b, uint32_t al_c) {
  LtPlan plan;
  cublasLtMatmulPreference_t pref = nullptr;
  try {
    // cuBLASLt's A = our B operand, [N x K] after op; cuBLASLt's B = our A operand, [K x M] after op.
    const cublasOperation_t opa = b.col ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t opb = a.col ? CUBLAS_OP_T : CUBLAS_OP_N;
    FRL_LT_CHECK(cublasLtMatmulDescCreate(&plan.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    FRL_LT_CHECK(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa));
    FRL_LT_CHECK(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb));
    // Stored shapes (before op), column-major: op N stores [rows x cols] as is, op T transposed.
    FRL_LT_CHECK(cublasLtMatrixLayoutCreate(&plan.a, CUDA_R_16BF, b.col ? K : N, b.col ? N : K, b.ld));
    FRL_LT_CHECK(cublasLtMatrixLayoutCreate(&plan.b, CUDA_R_16BF, a.col ? M : K, a.col ? K : M, a.ld));
    FRL_LT_CHECK(cublasLtMatrixLayoutCreate(&plan.c, c_type, N, M, ldc));
    FRL_LT_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    uint64_t ws = h.workspace_bytes;
    FRL_LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                                      sizeof ws));
    FRL_LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al_a,
                                                      sizeof al_a));
    FRL_LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al_b,
                                                      sizeof al_b));
    FRL_LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al_c,
                                                      sizeof al_c));
    FRL_LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al_c,
                                                      sizeof al_c));
    cublasLtMatmulHeuristicResult_t result = {};
    int found = 0;
    const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(h.lt, plan.op, plan.a, plan.b, plan.c, plan.c, pref,
                                                             1, &result, &found);
    plan.found = st == CUBLAS_STATUS_SUCCESS && found > 0;
    if (plan.found) plan.algo = result.algo;
    cublasLtMatmulPreferenceDestroy(pref);
  } catch (...) {
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    destroy_plan(plan);
    throw;
  }
  return plan;
}

}  // namespace

bool cublaslt_gemm(const frl_ctx* ctx, int M, int N, int K, LtOperand a, LtOperand b, cudaDataType_t c_type,
                   void* c, int64_t ldc, float alpha, float beta) {
  if (M <= 0 || N <= 0) return true;
  if (K <= 0) return false;  // C = beta C: the caller's kernel does it
  CublasHandles& h = cublas_handles(ctx);
  const uint32_t al_a = alignment(b.p), al_b = alignment(a.p), al_c = alignment(c);
  const LtKey key{M, N, K, a.col, b.col, a.ld, b.ld, ldc, static_cast<int>(c_type), al_a, al_b, al_c};
  auto it = h.plans.find(key);
  if (it == h.plans.end()) {
    if (h.plans.size() >= CublasHandles::kMaxPlans) h.clear_plans();
    it = h.plans.emplace(key, make_plan(h, M, N, K, a, b, c_type, ldc, al_a, al_b, al_c)).first;
  }
  const LtPlan& plan = it->second;
  if (!plan.found) return false;
  FRL_LT_CHECK(cublasLtMatmul(h.lt, plan.op, &alpha, b.p, plan.a, a.p, plan.b, &beta, c, plan.c, c, plan.c,
                              &plan.algo, h.workspace, h.workspace_bytes, cuda_stream(ctx)));
  return true;
}

}  // namespace cuda
}  // namespace frl
#endif  // FACTRL_WITH_CUBLAS

// The model's per-backend layer calls (model_ops.h). CPU: the CPU kernels, called exactly as the
// passes called them before this file existed. CUDA: the launchers of kernels/ with F32 storage.
#include "model/model_ops.h"

#include <cstring>
#include <vector>

#include "cpu/attention_cpu.h"
#include "cpu/embedding_cpu.h"
#include "cpu/gelu_cpu.h"
#include "cpu/gemm.h"
#include "cpu/glue_cpu.h"
#include "cpu/layernorm_cpu.h"
#include "cpu/linear_cpu.h"
#include "cpu/lora_cpu.h"
#include "cpu/rmsnorm_cpu.h"
#include "cpu/rope_cpu.h"
#include "cpu/swiglu_cpu.h"
#ifdef FACTRL_WITH_CUDA
#include "attention.cuh"
#include "embedding.cuh"
#include "gelu.cuh"
#include "gemm.cuh"
#include "glue.cuh"
#include "kl.cuh"
#include "layernorm.cuh"
#include "linear.cuh"
#include "rmsnorm.cuh"
#include "rope.cuh"
#include "swiglu.cuh"
#include "vit_embed.cuh"
namespace frl {
// kernels/backend_cuda.cu: stream-ordered scratch from the context's pool (cuda_common.cuh, which
// only nvcc can include).
void* cuda_pool_alloc(const frl_ctx* ctx, size_t bytes);
void cuda_pool_free(const frl_ctx* ctx, void* ptr) noexcept;
}  // namespace frl
#endif

namespace frl {
namespace model {
namespace {

thread_local frl_ctx* g_exec = nullptr;

#ifdef FACTRL_WITH_CUDA
// Device scratch for the duration of one op (released in stream order).
class DeviceScratch {
 public:
  DeviceScratch(const frl_ctx* ctx, size_t floats) : ctx_(ctx) {
    if (floats > 0) p_ = static_cast<float*>(cuda_pool_alloc(ctx, floats * sizeof(float)));
  }
  ~DeviceScratch() {
    if (p_) cuda_pool_free(ctx_, p_);
  }
  DeviceScratch(const DeviceScratch&) = delete;
  DeviceScratch& operator=(const DeviceScratch&) = delete;
  float* get() const { return p_; }

 private:
  const frl_ctx* ctx_;
  float* p_ = nullptr;
};

using cuda::GemmOperand;
// Row-major matrix p [rows, ld] as an A operand (m = row) or a B operand (k = row): col = false.
GemmOperand rowm(const float* p, int64_t ld) { return {p, ld, false}; }
// Its transpose: the A operand (m, k) = p[k·ld + m], the B operand (k, n) = p[n·ld + k].
GemmOperand colm(const float* p, int64_t ld) { return {p, ld, true}; }
#endif

}  // namespace

ExecScope::ExecScope(frl_ctx* ctx) : prev_(g_exec) { g_exec = ctx; }
ExecScope::~ExecScope() { g_exec = prev_; }

namespace ops {

frl_ctx* ctx() {
  FRL_REQUIRE(g_exec != nullptr, FRL_ERR_INTERNAL, "a model pass ran outside a model call (no ExecScope)");
  return g_exec;
}

bool on_cuda() { return ctx()->backend->kind() == FRL_BACKEND_CUDA; }

#ifdef FACTRL_WITH_CUDA
#define FRL_MODEL_CUDA(call) \
  do {                       \
    if (on_cuda()) {         \
      call;                  \
      return;                \
    }                        \
  } while (0)
#else
#define FRL_MODEL_CUDA(call) \
  do {                       \
  } while (0)
#endif

void zero(void* p, size_t bytes) {
  if (bytes == 0) return;
  FRL_MODEL_CUDA(ctx()->backend->zero(p, bytes));
  std::memset(p, 0, bytes);
}

void copy(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  FRL_MODEL_CUDA(ctx()->backend->copy_on_device(dst, src, bytes));
  std::memcpy(dst, src, bytes);
}

void to_device(void* dst, const void* host_src, size_t bytes) {
  if (bytes == 0) return;
  FRL_MODEL_CUDA(ctx()->backend->copy_to_device(dst, host_src, bytes));
  std::memcpy(dst, host_src, bytes);
}

void to_host(void* host_dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  FRL_MODEL_CUDA(ctx()->backend->copy_to_host(host_dst, src, bytes));
  std::memcpy(host_dst, src, bytes);
}

void add(const float* a, const float* b, float* y, int64_t n) {
  FRL_MODEL_CUDA(cuda::add(ctx(), FRL_F32, a, b, y, n));
  cpu::add(a, b, y, n);
}

void gather_rows(const float* src, const int32_t* idx, float* dst, int64_t n, int64_t src_rows, int64_t width) {
  FRL_MODEL_CUDA(cuda::gather_rows(ctx(), sizeof(float), src, idx, dst, n, src_rows, width));
  cpu::gather_rows(src, idx, dst, n, sizeof(float) * static_cast<size_t>(width));
}

void scatter_rows(const float* src, const int32_t* idx, float* dst, int64_t n, int64_t dst_rows, int64_t width) {
  FRL_MODEL_CUDA(cuda::scatter_rows(ctx(), sizeof(float), src, idx, dst, n, dst_rows, width));
  cpu::scatter_rows(src, idx, dst, n, sizeof(float) * static_cast<size_t>(width));
}

void embedding_forward(const int32_t* ids, const float* table, float* out, int64_t N, int64_t V, int64_t d) {
  FRL_MODEL_CUDA(cuda::embedding_forward(ctx(), FRL_F32, ids, table, out, N, V, d));
  cpu::embedding_forward(ids, table, out, N, d);
}

void embedding_backward(const int32_t* ids, const float* dout, float* dtable, int64_t N, int64_t V, int64_t d,
                        bool accumulate) {
  FRL_MODEL_CUDA(cuda::embedding_backward(ctx(), FRL_F32, ids, dout, dtable, N, V, d, accumulate));
  cpu::embedding_backward(ids, dout, dtable, N, V, d, accumulate);
}

void rmsnorm_forward(const float* x, const float* w, float eps, float* y, float* rstd, int64_t N, int64_t d) {
  FRL_MODEL_CUDA(cuda::rmsnorm_forward(ctx(), FRL_F32, x, w, eps, y, rstd, N, d));
  cpu::rmsnorm_forward(x, w, eps, y, rstd, N, d);
}

void rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw,
                      int64_t N, int64_t d, bool dx_accumulate, bool dw_accumulate) {
  FRL_MODEL_CUDA(cuda::rmsnorm_backward(ctx(), FRL_F32, x, w, rstd, dy, dx, dw, N, d, dx_accumulate, dw_accumulate));
  cpu::rmsnorm_backward(x, w, rstd, dy, dx, dw, N, d, dx_accumulate, dw_accumulate);
}

void layernorm_forward(const float* x, const float* w, const float* b, float eps, float* y, float* mean, float* rstd,
                       int64_t N, int64_t d) {
  FRL_MODEL_CUDA(cuda::layernorm_forward(ctx(), FRL_F32, x, w, b, eps, y, mean, rstd, N, d));
  cpu::layernorm_forward(x, w, b, eps, y, mean, rstd, N, d);
}

void layernorm_backward(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                        float* dx, float* dw, float* db, int64_t N, int64_t d, bool dx_accumulate,
                        bool dparam_accumulate) {
  FRL_MODEL_CUDA(cuda::layernorm_backward(ctx(), FRL_F32, x, w, mean, rstd, dy, dx, dw, db, N, d, dx_accumulate,
                                          dparam_accumulate));
  cpu::layernorm_backward(x, w, mean, rstd, dy, dx, dw, db, N, d, dx_accumulate, dparam_accumulate);
}

void linear_forward(const float* x, const float* W, const float* b, float* y, int64_t N, int64_t K, int64_t M) {
  FRL_MODEL_CUDA(cuda::linear_forward(ctx(), FRL_F32, x, W, b, y, N, K, M, cuda::LinearStrides{K, K, M, K, K}));
  cpu::linear_forward(x, W, b, y, N, K, M);
}

void linear_backward(const float* x, const float* W, const float* dy, float* dx, float* dW, float* db, int64_t N,
                     int64_t K, int64_t M, bool dx_accumulate, bool dparam_accumulate) {
  FRL_MODEL_CUDA(cuda::linear_backward(ctx(), FRL_F32, x, W, dy, dx, dW, db, N, K, M, dx_accumulate,
                                       dparam_accumulate, cuda::LinearStrides{K, K, M, K, K}));
  cpu::linear_backward(x, W, dy, dx, dW, db, N, K, M, dx_accumulate, dparam_accumulate);
}

#ifdef FACTRL_WITH_CUDA
namespace {

// CUDA LoRA from GEMMs: u = x Aᵀ [N, r]; us = s·u; y = x Wᵀ (+ b) then y += us Bᵀ.
void lora_forward_cuda(const float* x, const float* W, const float* b, const float* A, const float* B, float s,
                       int64_t N, int64_t K, int64_t M, int64_t r, float* y) {
  frl_ctx* c = ctx();
  cuda::linear_forward(c, FRL_F32, x, W, b, y, N, K, M, cuda::LinearStrides{K, K, M, K, K});
  DeviceScratch u(c, static_cast<size_t>(N * r));
  cuda::gemm(c, FRL_F32, N, r, K, rowm(x, K), colm(A, K), u.get(), r, false);
  cuda::scale(c, FRL_F32, s, u.get(), u.get(), N * r);
  cuda::gemm(c, FRL_F32, N, M, r, rowm(u.get(), r), colm(B, r), y, M, true);
}

// t = s·(dy B) [N, r]: dx (+)= dy W + t A; dA += tᵀ x; dB += dyᵀ (s·x Aᵀ).
void lora_backward_cuda(const float* x, const float* W, const float* A, const float* B, float s, const float* dy,
                        int64_t N, int64_t K, int64_t M, int64_t r, float* dx, bool dx_accumulate, float* dA,
                        float* dB) {
  frl_ctx* c = ctx();
  if (dx != nullptr)
    cuda::linear_backward(c, FRL_F32, x, W, dy, dx, nullptr, nullptr, N, K, M, dx_accumulate, true,
                          cuda::LinearStrides{K, K, M, K, K});
  if (dx != nullptr || dA != nullptr) {
    DeviceScratch t(c, static_cast<size_t>(N * r));
    cuda::gemm(c, FRL_F32, N, r, M, rowm(dy, M), rowm(B, r), t.get(), r, false);
    cuda::scale(c, FRL_F32, s, t.get(), t.get(), N * r);
    if (dx != nullptr) cuda::gemm(c, FRL_F32, N, K, r, rowm(t.get(), r), rowm(A, K), dx, K, true);
    if (dA != nullptr) cuda::gemm(c, FRL_F32, r, K, N, colm(t.get(), r), rowm(x, K), dA, K, true);
  }
  if (dB != nullptr) {
    DeviceScratch u(c, static_cast<size_t>(N * r));
    cuda::gemm(c, FRL_F32, N, r, K, rowm(x, K), colm(A, K), u.get(), r, false);
    cuda::scale(c, FRL_F32, s, u.get(), u.get(), N * r);
    cuda::gemm(c, FRL_F32, M, r, N, colm(dy, M), rowm(u.get(), r), dB, r, true);
  }
}

}  // namespace
#endif

void lora_forward(const float* x, const float* W, const float* b, const float* A, const float* B, float s, int64_t N,
                  int64_t K, int64_t M, int64_t r, float* y) {
  FRL_MODEL_CUDA(lora_forward_cuda(x, W, b, A, B, s, N, K, M, r, y));
  cpu::lora_forward(x, W, A, B, s, true, N, K, M, r, y, nullptr);
  if (b != nullptr)
    for (int64_t n = 0; n < N; n++) {
      float* yn = y + n * M;
      for (int64_t m = 0; m < M; m++) yn[m] += b[m];
    }
}

void lora_backward(const float* x, const float* W, const float* A, const float* B, float s, const float* dy,
                   int64_t N, int64_t K, int64_t M, int64_t r, float* dx, bool dx_accumulate, float* dA, float* dB) {
  FRL_MODEL_CUDA(lora_backward_cuda(x, W, A, B, s, dy, N, K, M, r, dx, dx_accumulate, dA, dB));
  // lora_backward has one accumulate flag for dx, dA and dB: parameter gradients always add, so
  // an overwritten dx is zeroed first.
  if (dx != nullptr && !dx_accumulate) std::memset(dx, 0, sizeof(float) * static_cast<size_t>(N * K));
  // u = x Aᵀ is not kept by the forward (its rank is the adapter's, not the plan's): recomputed
  // here into a per-thread scratch that grows once (a step allocates nothing after the first).
  static thread_local std::vector<float> u;
  if (dB != nullptr) {
    if (u.size() < static_cast<size_t>(N * r)) u.resize(static_cast<size_t>(N * r));
    cpu::GemmSegment seg{{x, K, 1}, {A, 1, K}, K, 1.0f};
    cpu::gemm(N, r, &seg, 1, u.data(), r, false);
  }
  cpu::lora_backward(x, W, A, B, s, true, dy, dB != nullptr ? u.data() : nullptr, N, K, M, r, dx, dA, dB, true);
}

void rope(const float* x, const int32_t* positions, float base, bool inverse, float* y, int64_t T, int64_t H,
          int64_t D) {
  FRL_MODEL_CUDA(cuda::rope(ctx(), FRL_F32, x, positions, base, inverse, y, 1, T, H, D, false));
  cpu::rope(x, positions, base, inverse, y, T, H, D, false);
}

void swiglu_forward(const float* a, const float* b, float* out, int64_t n) {
  FRL_MODEL_CUDA(cuda::swiglu_forward(ctx(), FRL_F32, a, b, out, n));
  cpu::swiglu_forward(a, b, out, n);
}

void swiglu_backward(const float* a, const float* b, const float* dout, float* da, float* db, int64_t n) {
  FRL_MODEL_CUDA(cuda::swiglu_backward(ctx(), FRL_F32, a, b, dout, da, db, n, false));
  cpu::swiglu_backward(a, b, dout, da, db, n, false);
}

void gelu_forward(const float* x, float* y, int64_t n) {
  FRL_MODEL_CUDA(cuda::gelu_forward(ctx(), FRL_F32, x, y, n, false));
  cpu::gelu_forward(x, y, n, false);
}

void gelu_backward(const float* x, const float* dy, float* dx, int64_t n) {
  FRL_MODEL_CUDA(cuda::gelu_backward(ctx(), FRL_F32, x, dy, dx, n, false, false));
  cpu::gelu_backward(x, dy, dx, n, false, false);
}

void attention_forward(const float* q, const float* k, const float* v, float* out, float* lse, int64_t B, int64_t S,
                       int64_t H, int64_t D, bool causal, float scale) {
  FRL_MODEL_CUDA(cuda::attention_forward(ctx(), FRL_F32, q, k, v, out, lse, B, S, H, D, causal, scale));
  cpu::attention_forward(q, k, v, out, lse, cpu::Masks{nullptr, nullptr}, B, S, S, H, D, causal, scale);
}

void attention_backward(const float* q, const float* k, const float* v, const float* out, const float* lse,
                        const float* dout, float* dq, float* dk, float* dv, int64_t B, int64_t S, int64_t H,
                        int64_t D, bool causal, float scale) {
  FRL_MODEL_CUDA(cuda::attention_backward(ctx(), FRL_F32, q, k, v, out, lse, dout, dq, dk, dv, B, S, H, D, causal,
                                          scale, false));
  cpu::attention_backward(q, k, v, out, lse, dout, dq, dk, dv, cpu::Masks{nullptr, nullptr}, B, S, S, H, D, causal,
                          scale, false);
}

void patchify(const float* image, const cpu::PatchGeometry& g, float* patches) {
  FRL_MODEL_CUDA(cuda::patchify(ctx(), FRL_F32, image, g, FRL_F32, patches));
  cpu::patchify(image, g, patches);
}

void vit_embed_assemble_forward(const float* proj, const float* cls, const float* pos, float* out, int64_t B,
                                int64_t P, int64_t D) {
  FRL_MODEL_CUDA(
      cuda::vit_embed_assemble_forward(ctx(), FRL_F32, proj, FRL_F32, cls, FRL_F32, pos, FRL_F32, out, B, P, D));
  cpu::vit_embed_assemble_forward(proj, cls, pos, out, B, P, D);
}

void vit_embed_assemble_backward(const float* dout, float* dproj, float* dcls, float* dpos, int64_t B, int64_t P,
                                 int64_t D) {
  FRL_MODEL_CUDA(cuda::vit_embed_assemble_backward(
      ctx(), FRL_F32, dout, cuda::AssembleGrads{FRL_F32, dproj, FRL_F32, dcls, FRL_F32, dpos}, B, P, D, false, true));
  cpu::vit_embed_assemble_backward(dout, dproj, dcls, dpos, B, P, D, false, true);
}

void token_logprobs_forward(const float* logits, const int32_t* targets, int64_t T, int64_t V, float* logp,
                            float* lse) {
  cpu::KlOutputs out;
  out.logp_policy = logp;
  out.lse_policy = lse;
  FRL_MODEL_CUDA(cuda::token_logprobs_forward(ctx(), FRL_F32, logits, nullptr, targets, nullptr, T, V, out));
  cpu::token_logprobs_forward(logits, nullptr, targets, nullptr, T, V, out);
}

void token_logprobs_backward(const float* logits, const int32_t* targets, const float* d_logp, const float* lse,
                             float* dlogits, int64_t T, int64_t V) {
  FRL_MODEL_CUDA(cuda::token_logprobs_backward(ctx(), FRL_F32, logits, targets, nullptr, d_logp, lse, FRL_F32,
                                               dlogits, T, V, false));
  cpu::token_logprobs_backward(logits, targets, nullptr, d_logp, lse, dlogits, T, V, false);
}

}  // namespace ops
}  // namespace model
}  // namespace frl

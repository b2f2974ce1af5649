// The model's layer calls, dispatched per backend: every pass of native/src/model (vision tower,
// projector, decoder, decode step) calls these instead of the CPU kernels, so one layer sequence
// serves both backends, as the layer C API files do (native/src/*_api.cpp: CPU reference or CUDA
// launcher). On the CPU each op is exactly the CPU kernel call the passes made before (bitwise the
// same results); on CUDA it is the launcher of kernels/ on device pointers, F32 storage, queued on
// the context's stream.
//
// Which backend: the context of the model call in progress (ExecScope, set by each C API entry point
// of the model for the duration of the call), so the pass signatures need not carry it. A pass run
// with no scope is a programming error (FRL_ERR_INTERNAL).
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/kl_cpu.h"
#include "cpu/vit_embed_cpu.h"
#include "engine.h"

namespace frl {
namespace model {

// The context of the model call in progress on this thread (RAII; nests).
class ExecScope {
 public:
  explicit ExecScope(frl_ctx* ctx);
  ~ExecScope();
  ExecScope(const ExecScope&) = delete;
  ExecScope& operator=(const ExecScope&) = delete;

 private:
  frl_ctx* prev_;
};

namespace ops {

frl_ctx* ctx();        // the scope's context
bool on_cuda();        // whether it is a CUDA one

// ---- memory (within the backend: host memory on the CPU, device memory on CUDA) ----
void zero(void* p, size_t bytes);
void copy(void* dst, const void* src, size_t bytes);
void to_device(void* dst, const void* host_src, size_t bytes);  // a plain memcpy on the CPU
void to_host(void* host_dst, const void* src, size_t bytes);    // a sync point on CUDA

// ---- elementwise / rows ----
void add(const float* a, const float* b, float* y, int64_t n);
void gather_rows(const float* src, const int32_t* idx, float* dst, int64_t n, int64_t src_rows, int64_t width);
void scatter_rows(const float* src, const int32_t* idx, float* dst, int64_t n, int64_t dst_rows, int64_t width);

// ---- layers (argument meanings: the CPU headers of native/src/cpu) ----
void embedding_forward(const int32_t* ids, const float* table, float* out, int64_t N, int64_t V, int64_t d);
void embedding_backward(const int32_t* ids, const float* dout, float* dtable, int64_t N, int64_t V, int64_t d,
                        bool accumulate);
void rmsnorm_forward(const float* x, const float* w, float eps, float* y, float* rstd, int64_t N, int64_t d);
void rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw,
                      int64_t N, int64_t d, bool dx_accumulate, bool dw_accumulate);
void layernorm_forward(const float* x, const float* w, const float* b, float eps, float* y, float* mean, float* rstd,
                       int64_t N, int64_t d);
void layernorm_backward(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                        float* dx, float* dw, float* db, int64_t N, int64_t d, bool dx_accumulate,
                        bool dparam_accumulate);
void linear_forward(const float* x, const float* W, const float* b, float* y, int64_t N, int64_t K, int64_t M);
void linear_backward(const float* x, const float* W, const float* dy, float* dx, float* dW, float* db, int64_t N,
                     int64_t K, int64_t M, bool dx_accumulate, bool dparam_accumulate);
// y = x Wᵀ + s (x Aᵀ) Bᵀ (+ b): LoRA with its optional bias.
void lora_forward(const float* x, const float* W, const float* b, const float* A, const float* B, float s, int64_t N,
                  int64_t K, int64_t M, int64_t r, float* y);
// dx (+)= dy W + s (dy B) A (dx may be null); dA += s (dy B)ᵀ x, dB += s dyᵀ (x Aᵀ) (each may be null).
void lora_backward(const float* x, const float* W, const float* A, const float* B, float s, const float* dy,
                   int64_t N, int64_t K, int64_t M, int64_t r, float* dx, bool dx_accumulate, float* dA, float* dB);
void rope(const float* x, const int32_t* positions, float base, bool inverse, float* y, int64_t T, int64_t H,
          int64_t D);
void swiglu_forward(const float* a, const float* b, float* out, int64_t n);
void swiglu_backward(const float* a, const float* b, const float* dout, float* da, float* db, int64_t n);
void gelu_forward(const float* x, float* y, int64_t n);
void gelu_backward(const float* x, const float* dy, float* dx, int64_t n);
// Self-attention, no masks (Sq = Sk = S).
void attention_forward(const float* q, const float* k, const float* v, float* out, float* lse, int64_t B, int64_t S,
                       int64_t H, int64_t D, bool causal, float scale);
void attention_backward(const float* q, const float* k, const float* v, const float* out, const float* lse,
                        const float* dout, float* dq, float* dk, float* dv, int64_t B, int64_t S, int64_t H,
                        int64_t D, bool causal, float scale);
void patchify(const float* image, const cpu::PatchGeometry& g, float* patches);
void vit_embed_assemble_forward(const float* proj, const float* cls, const float* pos, float* out, int64_t B,
                                int64_t P, int64_t D);
void vit_embed_assemble_backward(const float* dout, float* dproj, float* dcls, float* dpos, int64_t B, int64_t P,
                                 int64_t D);
// logp (and lse) of targets under logits [T, V].
void token_logprobs_forward(const float* logits, const int32_t* targets, int64_t T, int64_t V, float* logp,
                            float* lse);
void token_logprobs_backward(const float* logits, const int32_t* targets, const float* d_logp, const float* lse,
                             float* dlogits, int64_t T, int64_t V);

}  // namespace ops
}  // namespace model
}  // namespace frl

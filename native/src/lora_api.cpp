// C API of the fused LoRA matmul: argument checks, then dispatch to the CPU reference or CUDA.
#include <cmath>

#include "cpu/lora_cpu.h"
#include "engine.h"
#ifdef FACTRL_WITH_CUDA
#include "lora.cuh"
#endif

using frl::Error;
using frl::format;

namespace {

// Shapes and dtypes of the base operands; returns the activation dtype.
struct Dims {
  int64_t N, K, M, r;
};

void check_tensor(const frl_ctx* ctx, const frl_tensor* t, const char* name, frl_dtype dtype,
                  std::initializer_list<int64_t> dims) {
  frl::check_shape(t, name, dims);
  frl::check_context(ctx, t, name);
  frl::check_dtype(t, name, {dtype});
}

// Gradients of the adapter: F32, or the activation dtype (CUDA only allows BF16 at all).
void check_grad(const frl_ctx* ctx, const frl_tensor* t, const char* name, frl_dtype act,
                std::initializer_list<int64_t> dims) {
  frl::check_shape(t, name, dims);
  frl::check_context(ctx, t, name);
  if (act == FRL_F32) frl::check_dtype(t, name, {FRL_F32});
  else frl::check_dtype(t, name, {FRL_F32, act});
}

// x, y, dy and dx may be row-contiguous views (a leading dimension) on the CPU, whose GEMM takes
// one; the CUDA kernels read them densely, so there they must be contiguous. Returns the row stride.
int64_t check_rows_tensor(const frl_ctx* ctx, const frl_tensor* t, const char* name, frl_dtype dtype,
                          std::initializer_list<int64_t> dims) {
  frl::check_shape(t, name, dims);
  if (ctx->backend->kind() != FRL_BACKEND_CPU) frl::check_context(ctx, t, name);
  frl::check_view(ctx, t, name);
  frl::check_dtype(t, name, {dtype});
  return frl::row_stride(t, name);
}

frl_dtype activation_dtype(const frl_ctx* ctx, const frl_tensor* x) {
  frl::check_view(ctx, x, "x");
  if (ctx->backend->kind() == FRL_BACKEND_CPU) frl::check_dtype(x, "x", {FRL_F32});
  else frl::check_dtype(x, "x", {FRL_F32, FRL_BF16});
  return x->dtype;
}

Dims check_base(const frl_ctx* ctx, const frl_tensor* x, const frl_tensor* W, frl_dtype dt, int64_t* ldx) {
  frl::check_shape(x, "x", {-1, -1});
  *ldx = check_rows_tensor(ctx, x, "x", dt, {-1, -1});
  frl::check_not_null(W, "W");
  frl::check_shape(W, "W", {-1, x->shape[1]});
  frl::check_context(ctx, W, "W");
  frl::check_dtype(W, "W", {dt});
  return {x->shape[0], x->shape[1], W->shape[0], 0};
}

// The adapter A [r, K], B [M, r]: F32 (the only dtype on the CPU; f32 master weights over a bf16 base
// on CUDA) or the activation dtype; A and B share one dtype.
int64_t check_adapter(const frl_ctx* ctx, const frl_tensor* A, const frl_tensor* B, frl_dtype dt, const Dims& d) {
  frl::check_not_null(A, "A");
  frl::check_shape(A, "A", {-1, d.K});
  int64_t r = A->shape[0];
  frl::require(r >= 1, FRL_ERR_SHAPE, format("argument 'A' has rank r = %lld, expected r >= 1",
                                             static_cast<long long>(r)));
  frl::check_context(ctx, A, "A");
  if (dt == FRL_F32) frl::check_dtype(A, "A", {FRL_F32});
  else frl::check_dtype(A, "A", {FRL_F32, dt});
  check_tensor(ctx, B, "B", A->dtype, {d.M, r});
  return r;
}

void check_scale(float scale) {
  frl::require(std::isfinite(scale), FRL_ERR_ARGUMENT,
               format("argument 'scale' must be finite, got %g", static_cast<double>(scale)));
}

}  // namespace

extern "C" {

frl_status frl_lora_forward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* W, const frl_tensor* A,
                            const frl_tensor* B, float scale, int use_adapter, frl_tensor* y, frl_tensor* u) {
  return frl::guard("frl_lora_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    const frl_dtype dt = activation_dtype(ctx, x);
    int64_t ldx;
    Dims d = check_base(ctx, x, W, dt, &ldx);
    check_scale(scale);
    const int64_t ldy = check_rows_tensor(ctx, y, "y", dt, {d.N, d.M});
    if (use_adapter) {
      d.r = check_adapter(ctx, A, B, dt, d);
      if (u) check_tensor(ctx, u, "u", dt, {d.N, d.r});
    }
    const bool adapter = use_adapter != 0;
    if (adapter) frl::check_no_alias({{y, "y"}, {u, "u"}}, {{x, "x"}, {W, "W"}, {A, "A"}, {B, "B"}});
    else frl::check_no_alias({{y, "y"}}, {{x, "x"}, {W, "W"}});
    if (ctx->backend->kind() == FRL_BACKEND_CPU) {
      frl::cpu::lora_forward(frl::data_as<float>(x), frl::data_as<float>(W),
                             adapter ? frl::data_as<float>(A) : nullptr, adapter ? frl::data_as<float>(B) : nullptr,
                             scale, adapter, d.N, d.K, d.M, d.r, frl::data_as<float>(y),
                             adapter ? frl::data_as<float>(u) : nullptr, ldx, ldy);
    } else {
#ifdef FACTRL_WITH_CUDA
      frl::cuda::lora_forward(ctx, x, W, adapter ? A : nullptr, adapter ? B : nullptr, scale, adapter, d.N,
                              d.K, d.M, d.r, y, adapter ? u : nullptr);
#else
      throw Error(FRL_ERR_UNAVAILABLE, "the CUDA backend is not built into this library");
#endif
    }
  });
}

frl_status frl_lora_backward(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* W, const frl_tensor* A,
                             const frl_tensor* B, float scale, int use_adapter, const frl_tensor* dy,
                             const frl_tensor* u, frl_tensor* dx, frl_tensor* dA, frl_tensor* dB,
                             int accumulate) {
  return frl::guard("frl_lora_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    const frl_dtype dt = activation_dtype(ctx, x);
    int64_t ldx, lddx = -1;
    Dims d = check_base(ctx, x, W, dt, &ldx);
    check_scale(scale);
    frl::require(accumulate == 0 || accumulate == 1, FRL_ERR_ARGUMENT,
                 format("argument 'accumulate' must be 0 or 1, got %d", accumulate));
    const int64_t ldg = check_rows_tensor(ctx, dy, "dy", dt, {d.N, d.M});
    if (dx) lddx = check_rows_tensor(ctx, dx, "dx", dt, {d.N, d.K});
    const bool adapter = use_adapter != 0;
    if (adapter) {
      d.r = check_adapter(ctx, A, B, dt, d);
      if (dA) check_grad(ctx, dA, "dA", dt, {d.r, d.K});
      if (dB) {
        check_grad(ctx, dB, "dB", dt, {d.M, d.r});
        frl::check_not_null(u, "u");
      }
      if (u) check_tensor(ctx, u, "u", dt, {d.N, d.r});
    } else {
      frl::check_not_null(dx, "dx");
    }
    if (!adapter) {
      A = B = u = nullptr;
      dA = dB = nullptr;
    }
    frl::check_no_alias({{dx, "dx"}, {dA, "dA"}, {dB, "dB"}},
                        {{x, "x"}, {W, "W"}, {A, "A"}, {B, "B"}, {dy, "dy"}, {u, "u"}});
    if (ctx->backend->kind() == FRL_BACKEND_CPU) {
      frl::cpu::lora_backward(frl::data_as<float>(x), frl::data_as<float>(W), frl::data_as<float>(A),
                              frl::data_as<float>(B), scale, adapter, frl::data_as<float>(dy),
                              frl::data_as<float>(u), d.N, d.K, d.M, d.r, frl::data_as<float>(dx),
                              frl::data_as<float>(dA), frl::data_as<float>(dB), accumulate != 0, ldx, ldg, lddx);
    } else {
#ifdef FACTRL_WITH_CUDA
      frl::cuda::lora_backward(ctx, x, W, A, B, scale, adapter, dy, u, d.N, d.K, d.M, d.r, dx, dA, dB,
                               accumulate != 0);
#else
      throw Error(FRL_ERR_UNAVAILABLE, "the CUDA backend is not built into this library");
#endif
    }
  });
}

}  // extern "C"

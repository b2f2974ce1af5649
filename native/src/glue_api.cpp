// C API of the glue ops (factrl/glue.h): argument checks naming the argument, then the CPU
// reference or the CUDA launcher.
#include "factrl/glue.h"

#include <cstring>

#include "cpu/glue_cpu.h"
#include "engine.h"
#ifdef FACTRL_WITH_CUDA
#include "glue.cuh"
#endif

using frl::format;

namespace {

bool on_cuda(const frl_ctx* ctx) { return ctx->backend->kind() == FRL_BACKEND_CUDA; }

// t has exactly the shape of ref (an elementwise operand).
void check_same_shape(const frl_tensor* t, const char* name, const frl_tensor* ref, const char* ref_name) {
  bool same = t->ndim == ref->ndim;
  for (int i = 0; same && i < t->ndim; i++) same = t->shape[i] == ref->shape[i];
  frl::require(same, FRL_ERR_SHAPE,
               format("argument '%s' has shape %s, expected %s (the shape of '%s')", name,
                      frl::shape_string(t).c_str(), frl::shape_string(ref).c_str(), ref_name));
}

void check_same_dtype(const frl_tensor* t, const char* name, const frl_tensor* ref, const char* ref_name) {
  frl::require(t->dtype == ref->dtype, FRL_ERR_SHAPE,
               format("argument '%s' has dtype %s, expected %s (the dtype of '%s')", name, frl::dtype_name(t->dtype),
                      frl::dtype_name(ref->dtype), ref_name));
}

// A float operand of an elementwise op: in ctx, a compute dtype of its backend, shaped and typed like ref.
void check_operand(const frl_ctx* ctx, const frl_tensor* t, const char* name, const frl_tensor* ref,
                   const char* ref_name) {
  frl::check_float_storage(ctx, t, name);
  check_same_shape(t, name, ref, ref_name);
  check_same_dtype(t, name, ref, ref_name);
}

void check_mode(int mode) {
  frl::require(mode == FRL_GRAD_OVERWRITE || mode == FRL_GRAD_ACCUMULATE, FRL_ERR_ARGUMENT,
               format("argument 'mode' must be FRL_GRAD_OVERWRITE (0) or FRL_GRAD_ACCUMULATE (1), got %d", mode));
}

// A row tensor [R, ...]: at least one dimension. Returns the elements per row.
int64_t row_width(const frl_tensor* t, const char* name) {
  frl::require(t->ndim >= 1, FRL_ERR_SHAPE,
               format("argument '%s' has shape %s, expected rows [R, ...] (at least one dimension)", name,
                      frl::shape_string(t).c_str()));
  int64_t w = 1;
  for (int i = 1; i < t->ndim; i++) w *= t->shape[i];
  return w;
}

// src and dst are row tensors with the same dimensions after the first.
void check_same_rows(const frl_tensor* src, const frl_tensor* dst) {
  row_width(src, "src");
  row_width(dst, "dst");
  bool same = src->ndim == dst->ndim;
  for (int i = 1; same && i < src->ndim; i++) same = src->shape[i] == dst->shape[i];
  frl::require(same, FRL_ERR_SHAPE,
               format("argument 'dst' has shape %s, expected rows shaped like those of 'src' %s (every dimension after "
                      "the first equal)",
                      frl::shape_string(dst).c_str(), frl::shape_string(src).c_str()));
}

// idx [n] I32 in ctx; on the CPU every entry in [0, R) (on CUDA the kernel checks, see glue.h).
void check_idx(const frl_ctx* ctx, const frl_tensor* idx, int64_t n, int64_t R) {
  frl::check_context(ctx, idx, "idx");
  frl::check_dtype(idx, "idx", {FRL_I32});
  frl::check_shape(idx, "idx", {n});
  if (on_cuda(ctx)) return;
  const int32_t* v = frl::data_as<int32_t>(idx);
  for (int64_t i = 0; i < n; i++)
    if (v[i] < 0 || v[i] >= R)
      throw frl::Error(FRL_ERR_ARGUMENT, format("argument 'idx': idx[%lld] = %d is outside [0, %lld)",
                                                static_cast<long long>(i), v[i], static_cast<long long>(R)));
}

// The bit pattern of value in dtype (bf16: rounded to nearest even, as every bf16 write).
uint32_t fill_bits(frl_dtype dtype, float value) {
  if (dtype == FRL_BF16) return frl::f32_to_bf16(value);
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}

}  // namespace

extern "C" {

frl_status frl_add(frl_ctx* ctx, const frl_tensor* a, const frl_tensor* b, frl_tensor* y) {
  return frl::guard("frl_add", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_float_storage(ctx, a, "a");
    check_operand(ctx, b, "b", a, "a");
    check_operand(ctx, y, "y", a, "a");
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx)) return frl::cuda::add(ctx, a->dtype, a->data, b->data, y->data, a->numel);
#endif
    frl::cpu::add(frl::data_as<float>(a), frl::data_as<float>(b), frl::data_as<float>(y), a->numel);
  });
}

frl_status frl_axpy(frl_ctx* ctx, float alpha, const frl_tensor* x, frl_tensor* y) {
  return frl::guard("frl_axpy", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_float_storage(ctx, x, "x");
    check_operand(ctx, y, "y", x, "x");
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx)) return frl::cuda::axpy(ctx, x->dtype, alpha, x->data, y->data, x->numel);
#endif
    frl::cpu::axpy(alpha, frl::data_as<float>(x), frl::data_as<float>(y), x->numel);
  });
}

frl_status frl_scale(frl_ctx* ctx, float alpha, const frl_tensor* x, frl_tensor* y) {
  return frl::guard("frl_scale", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_float_storage(ctx, x, "x");
    check_operand(ctx, y, "y", x, "x");
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx)) return frl::cuda::scale(ctx, x->dtype, alpha, x->data, y->data, x->numel);
#endif
    frl::cpu::scale(alpha, frl::data_as<float>(x), frl::data_as<float>(y), x->numel);
  });
}

frl_status frl_fill(frl_ctx* ctx, frl_tensor* t, float value) {
  return frl::guard("frl_fill", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_context(ctx, t, "t");
    frl::check_dtype(t, "t", {FRL_F32, FRL_BF16});
    const uint32_t bits = fill_bits(t->dtype, value);
    const size_t elem = frl::dtype_size(t->dtype);
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx)) return frl::cuda::fill(ctx, t->data, bits, elem, t->numel);
#endif
    frl::cpu::fill(t->data, bits, elem, t->numel);
  });
}

frl_status frl_cast(frl_ctx* ctx, const frl_tensor* src, frl_tensor* dst) {
  return frl::guard("frl_cast", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_context(ctx, src, "src");
    frl::check_dtype(src, "src", {FRL_F32, FRL_BF16});
    frl::check_context(ctx, dst, "dst");
    frl::check_dtype(dst, "dst", {FRL_F32, FRL_BF16});
    check_same_shape(dst, "dst", src, "src");
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx)) return frl::cuda::cast(ctx, src->dtype, src->data, dst->dtype, dst->data, src->numel);
#endif
    if (src->dtype == dst->dtype) {
      if (src != dst) std::memmove(dst->data, src->data, static_cast<size_t>(src->numel) * frl::dtype_size(src->dtype));
    } else if (src->dtype == FRL_F32) {
      frl::cpu::cast_f32_to_bf16(frl::data_as<float>(src), frl::data_as<uint16_t>(dst), src->numel);
    } else {
      frl::cpu::cast_bf16_to_f32(frl::data_as<uint16_t>(src), frl::data_as<float>(dst), src->numel);
    }
  });
}

frl_status frl_gather_rows(frl_ctx* ctx, const frl_tensor* src, const frl_tensor* idx, frl_tensor* dst) {
  return frl::guard("frl_gather_rows", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_context(ctx, src, "src");
    frl::check_context(ctx, dst, "dst");
    check_same_rows(src, dst);
    check_same_dtype(dst, "dst", src, "src");
    frl::check_no_alias({{dst, "dst"}}, {{src, "src"}, {idx, "idx"}});
    const int64_t n = dst->shape[0], R = src->shape[0], width = row_width(src, "src");
    check_idx(ctx, idx, n, R);
    const size_t elem = frl::dtype_size(src->dtype);
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::gather_rows(ctx, elem, src->data, frl::data_as<int32_t>(idx), dst->data, n, R, width);
#endif
    frl::cpu::gather_rows(src->data, frl::data_as<int32_t>(idx), dst->data, n, static_cast<size_t>(width) * elem);
  });
}

frl_status frl_scatter_rows(frl_ctx* ctx, const frl_tensor* src, const frl_tensor* idx, frl_tensor* dst, int mode) {
  return frl::guard("frl_scatter_rows", [&] {
    frl::check_not_null(ctx, "ctx");
    check_mode(mode);
    frl::check_context(ctx, src, "src");
    frl::check_context(ctx, dst, "dst");
    if (mode == FRL_GRAD_ACCUMULATE) {  // adds: a compute dtype of the backend
      frl::check_float_storage(ctx, src, "src");
      frl::check_float_storage(ctx, dst, "dst");
    }
    check_same_rows(src, dst);
    check_same_dtype(dst, "dst", src, "src");
    frl::check_no_alias({{dst, "dst"}}, {{src, "src"}, {idx, "idx"}});
    const int64_t n = src->shape[0], R = dst->shape[0], width = row_width(src, "src");
    check_idx(ctx, idx, n, R);
    const size_t elem = frl::dtype_size(src->dtype);
    const int32_t* ix = frl::data_as<int32_t>(idx);
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx)) {
      if (mode == FRL_GRAD_ACCUMULATE) return frl::cuda::scatter_add_rows(ctx, src->dtype, src->data, ix, dst->data, n, R, width);
      return frl::cuda::scatter_rows(ctx, elem, src->data, ix, dst->data, n, R, width);
    }
#endif
    if (mode == FRL_GRAD_ACCUMULATE)
      frl::cpu::scatter_add_rows(frl::data_as<float>(src), ix, frl::data_as<float>(dst), n, width);
    else
      frl::cpu::scatter_rows(src->data, ix, dst->data, n, static_cast<size_t>(width) * elem);
  });
}

}  // extern "C"

// Argument checks shared by the model layers' C API files.
#include "layer_checks.h"

namespace frl {

void check_f32(const frl_ctx* ctx, const frl_tensor* t, const char* name) {
  check_context(ctx, t, name);
  check_dtype(t, name, {FRL_F32});
}

int64_t check_f32_rows_view(const frl_ctx* ctx, const frl_tensor* t, const char* name) {
  check_view(ctx, t, name);
  check_dtype(t, name, {FRL_F32});
  return row_stride(t, name);
}

void check_same_shape(const frl_tensor* t, const char* name, const frl_tensor* ref, const char* ref_name) {
  check_not_null(t, name);
  bool same = t->ndim == ref->ndim;
  for (int i = 0; same && i < t->ndim; i++) same = t->shape[i] == ref->shape[i];
  require(same, FRL_ERR_SHAPE,
          format("argument '%s' has shape %s, expected %s (the shape of '%s')", name, shape_string(t).c_str(),
                 shape_string(ref).c_str(), ref_name));
}

Rows check_rows(const frl_tensor* t, const char* name) {
  check_not_null(t, name);
  require(t->ndim >= 1, FRL_ERR_SHAPE,
          format("argument '%s' has shape %s, expected at least one dimension [..., d]", name,
                 shape_string(t).c_str()));
  const int64_t d = t->shape[t->ndim - 1];
  return {d > 0 ? t->numel / d : 0, d};
}

void require_cpu_backend(const frl_ctx* ctx, const char* layer) {
  require(ctx->backend->kind() == FRL_BACKEND_CPU, FRL_ERR_UNAVAILABLE,
          format("%s is not implemented on the CUDA backend yet (use a CPU context)", layer));
}

void check_grad_mode(int mode, const char* name) {
  if (mode == FRL_GRAD_OVERWRITE || mode == FRL_GRAD_ACCUMULATE) return;
  throw Error(FRL_ERR_ARGUMENT, format("argument '%s' must be FRL_GRAD_OVERWRITE (0) or FRL_GRAD_ACCUMULATE (1), got %d",
                                       name, mode));
}

}  // namespace frl

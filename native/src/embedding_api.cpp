// C API of the token embedding (factrl/embedding.h): argument checks naming the argument, then the
// CPU reference (every id range-checked before anything is written) or the CUDA launcher (ids live
// on the device: the kernels flag a bad id, reported at the next sync).
#include "factrl/embedding.h"

#include "cpu/embedding_cpu.h"
#include "layer_checks.h"
#ifdef FACTRL_WITH_CUDA
#include "embedding.cuh"
#endif

namespace {

using frl::format;

bool on_cuda(const frl_ctx* ctx) { return ctx->backend->kind() == FRL_BACKEND_CUDA; }

void check_ids(const frl_ctx* ctx, const frl_tensor* ids, int64_t V) {
  frl::check_context(ctx, ids, "ids");
  frl::check_dtype(ids, "ids", {FRL_I32});
  FRL_REQUIRE(ids->ndim <= FRL_MAX_DIMS - 1, FRL_ERR_SHAPE,
               "argument 'ids' has shape %s, at most %d dimensions (out appends d)",
                      frl::shape_string(ids).c_str(), FRL_MAX_DIMS - 1);
  if (on_cuda(ctx)) return;  // device memory: the kernels check the range (device error flag)
  const int32_t* id = frl::data_as<int32_t>(ids);
  for (int64_t n = 0; n < ids->numel; n++)
    FRL_REQUIRE(id[n] >= 0 && id[n] < V, FRL_ERR_ARGUMENT,
                 "ids[%lld] (flat index) = %d is outside the vocabulary [0, %lld)",
                        static_cast<long long>(n), id[n], static_cast<long long>(V));
}

// A [V, d] table (or its gradient) of a float storage of ctx's backend (F32 on the CPU).
void check_table(const frl_ctx* ctx, const frl_tensor* t, const char* name) {
  frl::check_float_storage(ctx, t, name);
  frl::check_shape(t, name, {-1, -1});
}

// t has the shape of ids with d appended, and the table's dtype.
void check_rows_of_ids(const frl_ctx* ctx, const frl_tensor* t, const char* name, const frl_tensor* ids,
                       int64_t d, const frl_tensor* table, const char* table_name) {
  frl::check_float_storage(ctx, t, name);
  FRL_REQUIRE(t->dtype == table->dtype, FRL_ERR_SHAPE, "argument '%s' has dtype %s, expected %s (the dtype of '%s')",
              name, frl::dtype_name(t->dtype), frl::dtype_name(table->dtype), table_name);
  bool ok = t->ndim == ids->ndim + 1 && t->shape[ids->ndim] == d;
  for (int i = 0; ok && i < ids->ndim; i++) ok = t->shape[i] == ids->shape[i];
  FRL_REQUIRE(ok, FRL_ERR_SHAPE,
               "argument '%s' has shape %s, expected the shape of 'ids' %s with d = %lld appended", name,
                      frl::shape_string(t).c_str(), frl::shape_string(ids).c_str(), static_cast<long long>(d));
}

}  // namespace

extern "C" {

frl_status frl_embedding_forward(frl_ctx* ctx, const frl_tensor* ids, const frl_tensor* table, frl_tensor* out) {
  return frl::guard("frl_embedding_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    check_table(ctx, table, "table");
    check_ids(ctx, ids, table->shape[0]);
    check_rows_of_ids(ctx, out, "out", ids, table->shape[1], table, "table");
    frl::check_no_alias({{out, "out"}}, {{table, "table"}, {ids, "ids"}});
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::embedding_forward(ctx, table->dtype, frl::data_as<int32_t>(ids), table->data, out->data,
                                          ids->numel, table->shape[0], table->shape[1]);
#endif
    frl::cpu::embedding_forward(frl::data_as<int32_t>(ids), frl::data_as<float>(table), frl::data_as<float>(out),
                                ids->numel, table->shape[1]);
  });
}

frl_status frl_embedding_backward(frl_ctx* ctx, const frl_tensor* ids, const frl_tensor* dout, frl_tensor* dtable,
                                  int mode) {
  return frl::guard("frl_embedding_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    check_table(ctx, dtable, "dtable");
    frl::check_grad_mode(mode, "mode");
    check_ids(ctx, ids, dtable->shape[0]);
    check_rows_of_ids(ctx, dout, "dout", ids, dtable->shape[1], dtable, "dtable");
    frl::check_no_alias({{dtable, "dtable"}}, {{dout, "dout"}, {ids, "ids"}});
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::embedding_backward(ctx, dtable->dtype, frl::data_as<int32_t>(ids), dout->data, dtable->data,
                                           ids->numel, dtable->shape[0], dtable->shape[1],
                                           mode == FRL_GRAD_ACCUMULATE);
#endif
    frl::cpu::embedding_backward(frl::data_as<int32_t>(ids), frl::data_as<float>(dout), frl::data_as<float>(dtable),
                                 ids->numel, dtable->shape[0], dtable->shape[1], mode == FRL_GRAD_ACCUMULATE);
  });
}

}  // extern "C"

// C API of the token embedding (factrl/embedding.h): argument checks naming the argument (every
// id is range-checked before anything is written), then the CPU reference.
#include "factrl/embedding.h"

#include "cpu/embedding_cpu.h"
#include "layer_checks.h"

namespace {

using frl::format;

void check_ids(const frl_ctx* ctx, const frl_tensor* ids, int64_t V) {
  frl::check_context(ctx, ids, "ids");
  frl::check_dtype(ids, "ids", {FRL_I32});
  frl::require(ids->ndim <= FRL_MAX_DIMS - 1, FRL_ERR_SHAPE,
               format("argument 'ids' has shape %s, at most %d dimensions (out appends d)",
                      frl::shape_string(ids).c_str(), FRL_MAX_DIMS - 1));
  const int32_t* id = frl::data_as<int32_t>(ids);
  for (int64_t n = 0; n < ids->numel; n++)
    frl::require(id[n] >= 0 && id[n] < V, FRL_ERR_ARGUMENT,
                 format("ids[%lld] (flat index) = %d is outside the vocabulary [0, %lld)",
                        static_cast<long long>(n), id[n], static_cast<long long>(V)));
}

// t has the shape of ids with d appended.
void check_rows_of_ids(const frl_ctx* ctx, const frl_tensor* t, const char* name, const frl_tensor* ids,
                       int64_t d) {
  frl::check_f32(ctx, t, name);
  bool ok = t->ndim == ids->ndim + 1 && t->shape[ids->ndim] == d;
  for (int i = 0; ok && i < ids->ndim; i++) ok = t->shape[i] == ids->shape[i];
  frl::require(ok, FRL_ERR_SHAPE,
               format("argument '%s' has shape %s, expected the shape of 'ids' %s with d = %lld appended", name,
                      frl::shape_string(t).c_str(), frl::shape_string(ids).c_str(), static_cast<long long>(d)));
}

}  // namespace

extern "C" {

frl_status frl_embedding_forward(frl_ctx* ctx, const frl_tensor* ids, const frl_tensor* table, frl_tensor* out) {
  return frl::guard("frl_embedding_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_f32(ctx, table, "table");
    frl::check_shape(table, "table", {-1, -1});
    frl::require_cpu_backend(ctx, "embedding");
    check_ids(ctx, ids, table->shape[0]);
    check_rows_of_ids(ctx, out, "out", ids, table->shape[1]);
    frl::check_no_alias({{out, "out"}}, {{table, "table"}});
    frl::cpu::embedding_forward(frl::data_as<int32_t>(ids), frl::data_as<float>(table), frl::data_as<float>(out),
                                ids->numel, table->shape[1]);
  });
}

frl_status frl_embedding_backward(frl_ctx* ctx, const frl_tensor* ids, const frl_tensor* dout, frl_tensor* dtable,
                                  int mode) {
  return frl::guard("frl_embedding_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_f32(ctx, dtable, "dtable");
    frl::check_shape(dtable, "dtable", {-1, -1});
    frl::check_grad_mode(mode, "mode");
    frl::require_cpu_backend(ctx, "embedding");
    check_ids(ctx, ids, dtable->shape[0]);
    check_rows_of_ids(ctx, dout, "dout", ids, dtable->shape[1]);
    frl::check_no_alias({{dtable, "dtable"}}, {{dout, "dout"}});
    frl::cpu::embedding_backward(frl::data_as<int32_t>(ids), frl::data_as<float>(dout), frl::data_as<float>(dtable),
                                 ids->numel, dtable->shape[0], dtable->shape[1], mode == FRL_GRAD_ACCUMULATE);
  });
}

}  // extern "C"

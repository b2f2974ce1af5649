// Storages and views: allocation, accounting and bounds (see storage.h and factrl/view.h).
#include "storage.h"

namespace frl {

int64_t checked_numel(int ndim, const int64_t* shape) {
  require(ndim >= 0 && ndim <= FRL_MAX_DIMS, FRL_ERR_ARGUMENT,
          format("ndim must be in [0, %d], got %d", FRL_MAX_DIMS, ndim));
  if (ndim > 0) check_not_null(shape, "shape");
  int64_t numel = 1;
  for (int i = 0; i < ndim; i++) {
    require(shape[i] >= 0, FRL_ERR_ARGUMENT,
            format("shape[%d] must be >= 0, got %lld", i, static_cast<long long>(shape[i])));
    require(shape[i] == 0 || numel <= INT64_MAX / 8 / shape[i], FRL_ERR_ARGUMENT, "shape too large");
    numel *= shape[i];
  }
  return numel;
}

frl_storage* create_storage(frl_ctx* ctx, size_t bytes, frl_storage_kind kind) {
  auto s = std::make_unique<frl_storage>();
  s->ctx = ctx;
  s->bytes = bytes;
  s->kind = kind;
  s->base = ctx->backend->allocate(bytes);
  ctx->bytes_in_use += static_cast<int64_t>(bytes);
  return s.release();
}

void release_storage(frl_storage* s, const char* what) {
  require(s->views == 0, FRL_ERR_ARGUMENT,
          format("%s has %lld live views; close them first", what, static_cast<long long>(s->views)));
  frl_ctx* ctx = s->ctx;
  ctx->backend->release(s->base);  // stream-ordered on CUDA: no sync, queued kernels still see it
  ctx->bytes_in_use -= static_cast<int64_t>(s->bytes);
  delete s;
}

void check_in_bounds(const frl_storage* s, frl_dtype dtype, int ndim, const int64_t* shape, const int64_t* strides,
                     int64_t offset) {
  int64_t numel = 1, last = 0;
  for (int i = 0; i < ndim; i++) {
    require(strides[i] >= 0, FRL_ERR_ARGUMENT,
            format("strides[%d] must be >= 0, got %lld", i, static_cast<long long>(strides[i])));
    numel *= shape[i];
  }
  if (numel == 0) {
    require(offset >= 0, FRL_ERR_ARGUMENT, format("offset must be >= 0, got %lld", static_cast<long long>(offset)));
    return;
  }
  for (int i = 0; i < ndim; i++) {
    require(shape[i] - 1 <= (INT64_MAX / 2 - last) / (strides[i] ? strides[i] : 1), FRL_ERR_ARGUMENT,
            "view extent too large");
    last += (shape[i] - 1) * strides[i];
  }
  const int64_t elems = static_cast<int64_t>(s->bytes / dtype_size(dtype));
  require(offset >= 0 && last < elems && offset <= elems - 1 - last, FRL_ERR_ARGUMENT,
          format("view reaches elements [%lld, %lld] of a storage of %lld %s elements", static_cast<long long>(offset),
                 static_cast<long long>(offset + last), static_cast<long long>(elems), dtype_name(dtype)));
}

frl_tensor* make_view(frl_storage* storage, frl_dtype dtype, int ndim, const int64_t* shape, const int64_t* strides,
                      int64_t offset, bool counted) {
  auto t = std::make_unique<frl_tensor>();
  t->ctx = storage->ctx;
  t->dtype = dtype;
  t->ndim = ndim;
  int64_t numel = 1;
  for (int i = 0; i < ndim; i++) {
    t->shape[i] = shape[i];
    t->strides[i] = strides[i];
    numel *= shape[i];
  }
  t->numel = numel;
  t->offset = offset;
  t->storage = storage;
  t->generation = storage->generation;
  t->data = static_cast<char*>(storage->base) + offset * static_cast<int64_t>(dtype_size(dtype));
  t->contiguous = strides_contiguous(ndim, t->shape, t->strides);
  if (counted) {
    storage->views++;
    storage->ctx->live_tensors++;
  }
  return t.release();
}

}  // namespace frl

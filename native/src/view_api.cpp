// C API of views (factrl/view.h): view, reshape, narrow and layout queries. No data moves here.
#include "factrl/view.h"

#include "engine.h"
#include "storage.h"

using frl::Error;
using frl::format;
using frl::guard;

namespace {

void check_source(const frl_tensor* src) {
  frl::check_not_null(src, "src");
  frl::check_not_stale(src, "src");
}

}  // namespace

extern "C" {

frl_status frl_tensor_view(const frl_tensor* src, int64_t elem_offset, int ndim, const int64_t* shape,
                           const int64_t* strides, frl_tensor** out_view) {
  return guard("frl_tensor_view", [&] {
    frl::check_not_null(out_view, "out_view");
    *out_view = nullptr;
    check_source(src);
    frl::checked_numel(ndim, shape);
    if (ndim > 0) frl::check_not_null(strides, "strides");
    frl::require(elem_offset >= -src->offset && elem_offset <= INT64_MAX / 2, FRL_ERR_ARGUMENT,
                 format("elem_offset %lld starts before the storage (src is at element %lld of it)",
                        static_cast<long long>(elem_offset), static_cast<long long>(src->offset)));
    const int64_t offset = src->offset + elem_offset;
    frl::check_in_bounds(src->storage, src->dtype, ndim, shape, strides, offset);
    *out_view = frl::make_view(src->storage, src->dtype, ndim, shape, strides, offset, true);
  });
}

frl_status frl_tensor_reshape(const frl_tensor* src, int ndim, const int64_t* shape, frl_tensor** out_view) {
  return guard("frl_tensor_reshape", [&] {
    frl::check_not_null(out_view, "out_view");
    *out_view = nullptr;
    check_source(src);
    frl::require(src->contiguous, FRL_ERR_SHAPE,
                 format("argument 'src' is a non-contiguous view (shape %s, strides %s); only contiguous "
                        "tensors can be reshaped without a copy",
                        frl::shape_string(src).c_str(), frl::strides_string(src).c_str()));
    frl::require(ndim >= 0 && ndim <= FRL_MAX_DIMS, FRL_ERR_ARGUMENT,
                 format("ndim must be in [0, %d], got %d", FRL_MAX_DIMS, ndim));
    if (ndim > 0) frl::check_not_null(shape, "shape");
    int64_t dims[FRL_MAX_DIMS] = {0, 0, 0, 0};
    int inferred = -1;
    int64_t known = 1;
    for (int i = 0; i < ndim; i++) {
      dims[i] = shape[i];
      if (shape[i] == -1) {
        frl::require(inferred < 0, FRL_ERR_ARGUMENT, "argument 'shape' has more than one -1");
        inferred = i;
        continue;
      }
      frl::require(shape[i] >= 0, FRL_ERR_ARGUMENT,
                   format("shape[%d] must be >= 0 or -1, got %lld", i, static_cast<long long>(shape[i])));
      frl::require(shape[i] == 0 || known <= INT64_MAX / 8 / shape[i], FRL_ERR_ARGUMENT, "shape too large");
      known *= shape[i];
    }
    if (inferred >= 0) {
      frl::require(known > 0 && src->numel % known == 0, FRL_ERR_SHAPE,
                   format("cannot infer dimension %d: %lld elements do not split into %s with -1", inferred,
                          static_cast<long long>(src->numel), frl::shape_string(src).c_str()));
      dims[inferred] = src->numel / known;
      known *= dims[inferred];
    }
    frl::require(known == src->numel, FRL_ERR_SHAPE,
                 format("cannot reshape %s (%lld elements) into a shape of %lld elements",
                        frl::shape_string(src).c_str(), static_cast<long long>(src->numel),
                        static_cast<long long>(known)));
    int64_t strides[FRL_MAX_DIMS];
    frl::contiguous_strides(ndim, dims, strides);
    *out_view = frl::make_view(src->storage, src->dtype, ndim, dims, strides, src->offset, true);
  });
}

frl_status frl_tensor_narrow(const frl_tensor* src, int dim, int64_t start, int64_t length, frl_tensor** out_view) {
  return guard("frl_tensor_narrow", [&] {
    frl::check_not_null(out_view, "out_view");
    *out_view = nullptr;
    check_source(src);
    frl::require(dim >= 0 && dim < src->ndim, FRL_ERR_ARGUMENT,
                 format("argument 'dim' must be in [0, %d) for src of shape %s, got %d", src->ndim,
                        frl::shape_string(src).c_str(), dim));
    const int64_t size = src->shape[dim];
    frl::require(start >= 0 && length >= 0 && start <= size && length <= size - start, FRL_ERR_ARGUMENT,
                 format("range [%lld, %lld) is outside dimension %d of src (size %lld)", static_cast<long long>(start),
                        static_cast<long long>(start + length), dim, static_cast<long long>(size)));
    int64_t dims[FRL_MAX_DIMS];
    for (int i = 0; i < FRL_MAX_DIMS; i++) dims[i] = src->shape[i];
    dims[dim] = length;
    const int64_t offset = length == 0 ? src->offset : src->offset + start * src->strides[dim];
    *out_view = frl::make_view(src->storage, src->dtype, src->ndim, dims, src->strides, offset, true);
  });
}

frl_status frl_tensor_strides(const frl_tensor* t, int64_t* out_strides) {
  return guard("frl_tensor_strides", [&] {
    frl::check_not_null(t, "tensor");
    frl::check_not_null(out_strides, "out_strides");
    for (int i = 0; i < FRL_MAX_DIMS; i++) out_strides[i] = i < t->ndim ? t->strides[i] : 0;
  });
}

frl_status frl_tensor_offset(const frl_tensor* t, int64_t* out_offset) {
  return guard("frl_tensor_offset", [&] {
    frl::check_not_null(t, "tensor");
    frl::check_not_null(out_offset, "out_offset");
    *out_offset = t->offset;
  });
}

frl_status frl_tensor_is_contiguous(const frl_tensor* t, int* out_contiguous) {
  return guard("frl_tensor_is_contiguous", [&] {
    frl::check_not_null(t, "tensor");
    frl::check_not_null(out_contiguous, "out_contiguous");
    *out_contiguous = t->contiguous ? 1 : 0;
  });
}

frl_status frl_tensor_live_views(const frl_tensor* t, int64_t* out_views) {
  return guard("frl_tensor_live_views", [&] {
    frl::check_not_null(t, "tensor");
    frl::check_not_null(out_views, "out_views");
    *out_views = t->storage->views.load();
  });
}

}  // extern "C"

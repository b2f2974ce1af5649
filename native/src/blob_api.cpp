// C API of parameter blobs (factrl/view.h): many named tensors in one aligned allocation, so a
// model's weights, gradients and optimizer moments are each one block (one copy, one
// zero-fill, one all-reduce) with the same layout.
#include <string>
#include <unordered_map>
#include <vector>

#include "factrl/view.h"

#include "engine.h"
#include "storage.h"

using frl::Error;
using frl::format;
using frl::guard;

struct frl_blob {
  frl_ctx* ctx = nullptr;
  frl_storage* storage = nullptr;
  std::vector<std::string> names;
  std::vector<int64_t> byte_offsets;
  std::vector<frl_tensor*> tensors;  // borrowed views, one per entry, in layout order
  std::unordered_map<std::string, int64_t> index;
};

namespace {

// The blob's storage plus its named tensors at the given byte offsets (layout already checked).
frl_blob* build(frl_ctx* ctx, const std::vector<std::string>& names, const std::vector<frl_dtype>& dtypes,
                const std::vector<int>& ndims, const std::vector<int64_t>& shapes, const std::vector<int64_t>& offsets,
                int64_t total) {
  auto blob = std::make_unique<frl_blob>();
  blob->ctx = ctx;
  blob->names = names;
  blob->byte_offsets = offsets;
  for (size_t i = 0; i < names.size(); i++) blob->index.emplace(names[i], static_cast<int64_t>(i));
  blob->storage = frl::create_storage(ctx, static_cast<size_t>(total), FRL_STORAGE_BLOB);
  for (size_t i = 0; i < names.size(); i++) {
    const int64_t* shape = shapes.data() + i * FRL_MAX_DIMS;
    int64_t strides[FRL_MAX_DIMS];
    frl::contiguous_strides(ndims[i], shape, strides);
    const int64_t elem = static_cast<int64_t>(frl::dtype_size(dtypes[i]));
    frl_tensor* t = frl::make_view(blob->storage, dtypes[i], ndims[i], shape, strides, offsets[i] / elem, false);
    t->borrowed = true;
    blob->tensors.push_back(t);
  }
  ctx->live_containers++;
  return blob.release();
}

void check_blob(const frl_blob* blob) { frl::check_not_null(blob, "blob"); }

int64_t check_index(const frl_blob* blob, int64_t index) {
  const int64_t n = static_cast<int64_t>(blob->names.size());
  frl::require(index >= 0 && index < n, FRL_ERR_ARGUMENT,
               format("argument 'index' must be in [0, %lld), got %lld", static_cast<long long>(n),
                      static_cast<long long>(index)));
  return index;
}

}  // namespace

extern "C" {

frl_status frl_blob_create(frl_ctx* ctx, int64_t count, const char* const* names, const frl_dtype* dtypes,
                           const int* ndims, const int64_t* shapes, frl_blob** out_blob) {
  return guard("frl_blob_create", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_not_null(out_blob, "out_blob");
    *out_blob = nullptr;
    frl::require(count >= 0, FRL_ERR_ARGUMENT,
                 format("argument 'count' must be >= 0, got %lld", static_cast<long long>(count)));
    if (count > 0) {
      frl::check_not_null(names, "names");
      frl::check_not_null(dtypes, "dtypes");
      frl::check_not_null(ndims, "ndims");
      frl::check_not_null(shapes, "shapes");
    }
    std::vector<std::string> name_list;
    std::vector<frl_dtype> dtype_list;
    std::vector<int> ndim_list;
    std::vector<int64_t> shape_list(static_cast<size_t>(count) * FRL_MAX_DIMS, 0);
    std::vector<int64_t> offsets;
    std::unordered_map<std::string, int64_t> seen;
    int64_t total = 0;
    for (int64_t i = 0; i < count; i++) {
      frl::require(names[i] != nullptr && names[i][0] != '\0', FRL_ERR_ARGUMENT,
                   format("names[%lld] is null or empty", static_cast<long long>(i)));
      std::string name(names[i]);
      auto dup = seen.emplace(name, i);
      frl::require(dup.second, FRL_ERR_ARGUMENT,
                   format("names[%lld] '%s' repeats names[%lld]", static_cast<long long>(i), name.c_str(),
                          static_cast<long long>(dup.first->second)));
      const size_t elem = frl::dtype_size(dtypes[i]);  // throws on an unknown dtype
      int64_t numel;
      try {
        numel = frl::checked_numel(ndims[i], shapes + i * FRL_MAX_DIMS);
      } catch (const Error& e) {
        throw Error(e.status(), format("entry '%s': %s", name.c_str(), e.what()));
      }
      for (int d = 0; d < ndims[i]; d++) shape_list[i * FRL_MAX_DIMS + d] = shapes[i * FRL_MAX_DIMS + d];
      const int64_t bytes = numel * static_cast<int64_t>(elem);
      frl::require(bytes <= INT64_MAX / 4 - total, FRL_ERR_ARGUMENT, "blob too large");
      offsets.push_back(total);
      total += frl::align_up(bytes);
      name_list.push_back(std::move(name));
      dtype_list.push_back(dtypes[i]);
      ndim_list.push_back(ndims[i]);
    }
    *out_blob = build(ctx, name_list, dtype_list, ndim_list, shape_list, offsets, total);
  });
}

frl_status frl_blob_create_like(const frl_blob* like, frl_blob** out_blob) {
  return guard("frl_blob_create_like", [&] {
    frl::check_not_null(like, "like");
    frl::check_not_null(out_blob, "out_blob");
    *out_blob = nullptr;
    std::vector<frl_dtype> dtypes;
    std::vector<int> ndims;
    std::vector<int64_t> shapes(like->tensors.size() * FRL_MAX_DIMS, 0);
    for (size_t i = 0; i < like->tensors.size(); i++) {
      const frl_tensor* t = like->tensors[i];
      dtypes.push_back(t->dtype);
      ndims.push_back(t->ndim);
      for (int d = 0; d < t->ndim; d++) shapes[i * FRL_MAX_DIMS + d] = t->shape[d];
    }
    *out_blob = build(like->ctx, like->names, dtypes, ndims, shapes, like->byte_offsets,
                      static_cast<int64_t>(like->storage->bytes));
  });
}

frl_status frl_blob_destroy(frl_blob* blob) {
  return guard("frl_blob_destroy", [&] {
    check_blob(blob);
    frl::release_storage(blob->storage, "parameter blob");  // refuses while views are live
    for (frl_tensor* t : blob->tensors) delete t;
    blob->ctx->live_containers--;
    delete blob;
  });
}

frl_status frl_blob_count(const frl_blob* blob, int64_t* out_count) {
  return guard("frl_blob_count", [&] {
    check_blob(blob);
    frl::check_not_null(out_count, "out_count");
    *out_count = static_cast<int64_t>(blob->names.size());
  });
}

frl_status frl_blob_bytes(const frl_blob* blob, int64_t* out_bytes) {
  return guard("frl_blob_bytes", [&] {
    check_blob(blob);
    frl::check_not_null(out_bytes, "out_bytes");
    *out_bytes = static_cast<int64_t>(blob->storage->bytes);
  });
}

frl_status frl_blob_name(const frl_blob* blob, int64_t index, const char** out_name) {
  return guard("frl_blob_name", [&] {
    check_blob(blob);
    frl::check_not_null(out_name, "out_name");
    *out_name = blob->names[check_index(blob, index)].c_str();
  });
}

frl_status frl_blob_entry_offset(const frl_blob* blob, int64_t index, int64_t* out_byte_offset) {
  return guard("frl_blob_entry_offset", [&] {
    check_blob(blob);
    frl::check_not_null(out_byte_offset, "out_byte_offset");
    *out_byte_offset = blob->byte_offsets[check_index(blob, index)];
  });
}

frl_status frl_blob_tensor(const frl_blob* blob, const char* name, frl_tensor** out_tensor) {
  return guard("frl_blob_tensor", [&] {
    check_blob(blob);
    frl::check_not_null(name, "name");
    frl::check_not_null(out_tensor, "out_tensor");
    *out_tensor = nullptr;
    auto it = blob->index.find(name);
    frl::require(it != blob->index.end(), FRL_ERR_ARGUMENT,
                 format("the blob has no tensor named '%s' (%lld entries)", name,
                        static_cast<long long>(blob->names.size())));
    *out_tensor = blob->tensors[it->second];
  });
}

frl_status frl_blob_tensor_at(const frl_blob* blob, int64_t index, frl_tensor** out_tensor) {
  return guard("frl_blob_tensor_at", [&] {
    check_blob(blob);
    frl::check_not_null(out_tensor, "out_tensor");
    *out_tensor = blob->tensors[check_index(blob, index)];
  });
}

frl_status frl_blob_flat(const frl_blob* blob, frl_dtype dtype, frl_tensor** out_view) {
  return guard("frl_blob_flat", [&] {
    check_blob(blob);
    frl::check_not_null(out_view, "out_view");
    *out_view = nullptr;
    const int64_t elems = static_cast<int64_t>(blob->storage->bytes / frl::dtype_size(dtype));
    const int64_t stride = 1;
    *out_view = frl::make_view(blob->storage, dtype, 1, &elems, &stride, 0, true);
  });
}

}  // extern "C"

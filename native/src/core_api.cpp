// C API: build info, contexts and tensors.
#include <cstring>
#include <vector>

#include "engine.h"
#include "storage.h"

using frl::Error;
using frl::format;
using frl::guard;

extern "C" {

const char* frl_version(void) { return "0.1.0"; }

int frl_built_with_cuda(void) {
#ifdef FACTRL_WITH_CUDA
  return 1;
#else
  return 0;
#endif
}

int frl_built_with_cublas(void) {
#ifdef FACTRL_WITH_CUBLAS
  return 1;
#else
  return 0;
#endif
}

frl_status frl_cuda_device_count(int* out_count) {
  return guard("frl_cuda_device_count", [&] {
    frl::check_not_null(out_count, "out_count");
#ifdef FACTRL_WITH_CUDA
    *out_count = frl::cuda_device_count();
#else
    *out_count = 0;
#endif
  });
}

frl_status frl_ctx_create(frl_backend backend, int device, frl_ctx** out_ctx) {
  return guard("frl_ctx_create", [&] {
    frl::check_not_null(out_ctx, "out_ctx");
    *out_ctx = nullptr;
    auto ctx = std::make_unique<frl_ctx>();
    if (backend == FRL_BACKEND_CPU) {
      frl::require(device == 0, FRL_ERR_ARGUMENT, format("CPU backend has only device 0, got %d", device));
      ctx->backend = frl::make_cpu_backend();
    } else if (backend == FRL_BACKEND_CUDA) {
#ifdef FACTRL_WITH_CUDA
      ctx->backend = frl::make_cuda_backend(device);
#else
      throw Error(FRL_ERR_UNAVAILABLE,
                  "the CUDA backend is not built into this library (nvcc was not found at build time)");
#endif
    } else {
      throw Error(FRL_ERR_ARGUMENT, format("unknown backend %d", static_cast<int>(backend)));
    }
    *out_ctx = ctx.release();
  });
}

frl_status frl_ctx_destroy(frl_ctx* ctx) {
  return guard("frl_ctx_destroy", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::require(ctx->live_tensors.load() == 0, FRL_ERR_ARGUMENT,
                 format("context still owns %lld live tensors; destroy them first",
                        static_cast<long long>(ctx->live_tensors.load())));
    frl::require(ctx->live_containers.load() == 0, FRL_ERR_ARGUMENT,
                 format("context still owns %lld live parameter blobs or activation arenas; destroy them first",
                        static_cast<long long>(ctx->live_containers.load())));
    delete ctx;  // the backend's destructor waits for queued work (and reports no device error)
  });
}

frl_status frl_ctx_backend(const frl_ctx* ctx, frl_backend* out_backend) {
  return guard("frl_ctx_backend", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_not_null(out_backend, "out_backend");
    *out_backend = ctx->backend->kind();
  });
}

frl_status frl_ctx_device_name(const frl_ctx* ctx, const char** out_name) {
  return guard("frl_ctx_device_name", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_not_null(out_name, "out_name");
    *out_name = ctx->backend->device_name().c_str();
  });
}

frl_status frl_ctx_synchronize(frl_ctx* ctx) {
  return guard("frl_ctx_synchronize", [&] {
    frl::check_not_null(ctx, "ctx");
    ctx->backend->synchronize();
  });
}

frl_status frl_ctx_bytes_in_use(const frl_ctx* ctx, int64_t* out_bytes) {
  return guard("frl_ctx_bytes_in_use", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_not_null(out_bytes, "out_bytes");
    *out_bytes = ctx->bytes_in_use.load() + static_cast<int64_t>(ctx->backend->pool_bytes());
  });
}

frl_status frl_tensor_create(frl_ctx* ctx, frl_dtype dtype, int ndim, const int64_t* shape,
                             frl_tensor** out_tensor) {
  return guard("frl_tensor_create", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_not_null(out_tensor, "out_tensor");
    *out_tensor = nullptr;
    const int64_t numel = frl::checked_numel(ndim, shape);
    const size_t elem = frl::dtype_size(dtype);
    int64_t strides[FRL_MAX_DIMS];
    frl::contiguous_strides(ndim, shape, strides);
    frl_storage* s = frl::create_storage(ctx, static_cast<size_t>(numel) * elem, FRL_STORAGE_TENSOR);
    frl_tensor* t = frl::make_view(s, dtype, ndim, shape, strides, 0, false);
    t->owns_storage = true;
    ctx->live_tensors++;
    *out_tensor = t;
  });
}

frl_status frl_tensor_destroy(frl_tensor* t) {
  return guard("frl_tensor_destroy", [&] {
    frl::check_not_null(t, "tensor");
    frl::require(!t->borrowed, FRL_ERR_ARGUMENT,
                 "tensor belongs to a parameter blob (frl_blob_tensor); destroy the blob instead");
    frl_ctx* ctx = t->ctx;
    if (t->owns_storage) {
      frl::release_storage(t->storage, "tensor");  // refuses while views are live
    } else {
      t->storage->views--;  // a view: its storage stays with its owner
    }
    ctx->live_tensors--;
    delete t;
  });
}

frl_status frl_tensor_dtype(const frl_tensor* t, frl_dtype* out) {
  return guard("frl_tensor_dtype", [&] {
    frl::check_not_null(t, "tensor");
    frl::check_not_null(out, "out_dtype");
    *out = t->dtype;
  });
}

frl_status frl_tensor_ndim(const frl_tensor* t, int* out) {
  return guard("frl_tensor_ndim", [&] {
    frl::check_not_null(t, "tensor");
    frl::check_not_null(out, "out_ndim");
    *out = t->ndim;
  });
}

frl_status frl_tensor_shape(const frl_tensor* t, int64_t* out) {
  return guard("frl_tensor_shape", [&] {
    frl::check_not_null(t, "tensor");
    frl::check_not_null(out, "out_shape");
    for (int i = 0; i < FRL_MAX_DIMS; i++) out[i] = i < t->ndim ? t->shape[i] : 0;
  });
}

frl_status frl_tensor_numel(const frl_tensor* t, int64_t* out) {
  return guard("frl_tensor_numel", [&] {
    frl::check_not_null(t, "tensor");
    frl::check_not_null(out, "out_numel");
    *out = t->numel;
  });
}

static void check_range(const frl_tensor* t, int64_t offset, int64_t count) {
  frl::check_not_stale(t, "tensor");
  frl::require(offset >= 0 && count >= 0 && offset <= t->numel && count <= t->numel - offset,
               FRL_ERR_ARGUMENT,
               format("range [%lld, %lld) is outside the tensor's %lld elements",
                      static_cast<long long>(offset), static_cast<long long>(offset + count),
                      static_cast<long long>(t->numel)));
}

namespace {

// Host bytes <-> the view's logical elements [offset, offset + count) (row-major order), one copy
// per contiguous run: a single copy for a contiguous view.
void write_elements(frl_tensor* t, int64_t offset, const void* host, int64_t count) {
  const size_t elem = frl::dtype_size(t->dtype);
  frl::Backend& be = *t->ctx->backend;
  const char* src = static_cast<const char*>(host);
  char* base = static_cast<char*>(t->data);
  frl::for_each_run(t, offset, count, [&](int64_t at, int64_t n) {
    be.copy_to_device(base + at * elem, src, n * elem);
    src += n * elem;
  });
}

void read_elements(const frl_tensor* t, int64_t offset, void* host, int64_t count) {
  const size_t elem = frl::dtype_size(t->dtype);
  frl::Backend& be = *t->ctx->backend;
  char* dst = static_cast<char*>(host);
  const char* base = static_cast<const char*>(t->data);
  frl::for_each_run(t, offset, count, [&](int64_t at, int64_t n) {
    be.copy_to_host(dst, base + at * elem, n * elem);
    dst += n * elem;
  });
}

}  // namespace

frl_status frl_tensor_write_f32(frl_tensor* t, int64_t offset, const float* src, int64_t count) {
  return guard("frl_tensor_write_f32", [&] {
    frl::check_not_null(t, "tensor");
    check_range(t, offset, count);
    if (count == 0) return;
    frl::check_not_null(src, "src");
    if (t->dtype == FRL_F32) {
      write_elements(t, offset, src, count);
    } else if (t->dtype == FRL_BF16) {
      std::vector<uint16_t> tmp(count);
      for (int64_t i = 0; i < count; i++) tmp[i] = frl::f32_to_bf16(src[i]);
      write_elements(t, offset, tmp.data(), count);
    } else {
      throw Error(FRL_ERR_SHAPE, "tensor has dtype i32; use frl_tensor_write_i32");
    }
  });
}

frl_status frl_tensor_read_f32(const frl_tensor* t, int64_t offset, float* dst, int64_t count) {
  return guard("frl_tensor_read_f32", [&] {
    frl::check_not_null(t, "tensor");
    check_range(t, offset, count);
    if (count == 0) return;
    frl::check_not_null(dst, "dst");
    if (t->dtype == FRL_F32) {
      read_elements(t, offset, dst, count);
    } else if (t->dtype == FRL_BF16) {
      std::vector<uint16_t> tmp(count);
      read_elements(t, offset, tmp.data(), count);
      for (int64_t i = 0; i < count; i++) dst[i] = frl::bf16_to_f32(tmp[i]);
    } else {
      throw Error(FRL_ERR_SHAPE, "tensor has dtype i32; use frl_tensor_read_i32");
    }
  });
}

frl_status frl_tensor_write_i32(frl_tensor* t, int64_t offset, const int32_t* src, int64_t count) {
  return guard("frl_tensor_write_i32", [&] {
    frl::check_not_null(t, "tensor");
    frl::check_dtype(t, "tensor", {FRL_I32});
    check_range(t, offset, count);
    if (count == 0) return;
    frl::check_not_null(src, "src");
    write_elements(t, offset, src, count);
  });
}

frl_status frl_tensor_read_i32(const frl_tensor* t, int64_t offset, int32_t* dst, int64_t count) {
  return guard("frl_tensor_read_i32", [&] {
    frl::check_not_null(t, "tensor");
    frl::check_dtype(t, "tensor", {FRL_I32});
    check_range(t, offset, count);
    if (count == 0) return;
    frl::check_not_null(dst, "dst");
    read_elements(t, offset, dst, count);
  });
}

frl_status frl_tensor_fill_zero(frl_tensor* t) {
  return guard("frl_tensor_fill_zero", [&] {
    frl::check_not_null(t, "tensor");
    frl::check_not_stale(t, "tensor");
    const size_t elem = frl::dtype_size(t->dtype);
    char* base = static_cast<char*>(t->data);
    frl::Backend& be = *t->ctx->backend;
    frl::for_each_run(t, 0, t->numel, [&](int64_t at, int64_t n) { be.zero(base + at * elem, n * elem); });
  });
}

frl_status frl_tensor_copy(frl_tensor* dst, const frl_tensor* src) {
  return guard("frl_tensor_copy", [&] {
    frl::check_not_null(dst, "dst");
    frl::check_not_null(src, "src");
    frl::check_not_stale(dst, "dst");
    frl::check_not_stale(src, "src");
    frl::require(dst->dtype == src->dtype, FRL_ERR_SHAPE,
                 format("dtype mismatch: dst is %s, src is %s", frl::dtype_name(dst->dtype),
                        frl::dtype_name(src->dtype)));
    frl::require(dst->numel == src->numel, FRL_ERR_SHAPE,
                 format("element count mismatch: dst has %lld, src has %lld",
                        static_cast<long long>(dst->numel), static_cast<long long>(src->numel)));
    size_t bytes = dst->numel * frl::dtype_size(dst->dtype);
    if (bytes == 0) return;
    frl::Backend& db = *dst->ctx->backend;
    frl::Backend& sb = *src->ctx->backend;
    if (!dst->contiguous || !src->contiguous) {
      // Strided views: gather src to the host in logical order, scatter into dst.
      std::vector<char> staging(bytes);
      read_elements(src, 0, staging.data(), src->numel);
      write_elements(dst, 0, staging.data(), dst->numel);
    } else if (dst->ctx == src->ctx) {
      db.copy_on_device(dst->data, src->data, bytes);
    } else if (sb.kind() == FRL_BACKEND_CPU) {
      db.copy_to_device(dst->data, src->data, bytes);
    } else if (db.kind() == FRL_BACKEND_CPU) {
      sb.copy_to_host(dst->data, src->data, bytes);
    } else {
      std::vector<char> staging(bytes);
      sb.copy_to_host(staging.data(), src->data, bytes);
      db.copy_to_device(dst->data, staging.data(), bytes);
    }
  });
}

}  // extern "C"

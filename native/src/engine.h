// Engine internals shared by the C API files, the CPU kernels and the CUDA kernels.
// Not part of the public API: Java only sees factrl.h.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>

#include "factrl.h"

namespace frl {

// An engine failure on its way to becoming a status code plus frl_last_error().
class Error : public std::runtime_error {
 public:
  Error(frl_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  frl_status status() const { return status_; }

 private:
  frl_status status_;
};

// printf-style message builder for errors.
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Where a backend keeps memory and orders work. Kernels dispatch on kind(): each kernel's C API
// file calls its CPU reference (native/src/cpu) or its CUDA launcher (kernels/), llm.c style.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual frl_backend kind() const = 0;
  virtual const std::string& device_name() const = 0;
  virtual void* allocate(size_t bytes) = 0;  // zero-filled; throws Error on failure
  virtual void release(void* ptr) noexcept = 0;
  virtual void copy_to_device(void* dst, const void* host_src, size_t bytes) = 0;
  virtual void copy_to_host(void* host_dst, const void* src, size_t bytes) = 0;
  virtual void copy_on_device(void* dst, const void* src, size_t bytes) = 0;
  virtual void zero(void* ptr, size_t bytes) = 0;
  // Waits for queued work. On CUDA also the point where device-side errors (bad indices flagged by
  // kernels) are reported: it throws Error(FRL_ERR_ARGUMENT) naming the op and the argument.
  // copy_to_host is a sync point too. Nothing else synchronises the host.
  virtual void synchronize() = 0;
  // Device memory the backend keeps beyond live tensors (cached pool blocks, workspaces); counted by
  // frl_ctx_bytes_in_use. 0 on the CPU.
  virtual size_t pool_bytes() const { return 0; }
};

std::unique_ptr<Backend> make_cpu_backend();
#ifdef FACTRL_WITH_CUDA
std::unique_ptr<Backend> make_cuda_backend(int device);  // kernels/backend_cuda.cu
int cuda_device_count();                                  // 0 when no driver or no GPU
#endif

size_t dtype_size(frl_dtype dtype);
const char* dtype_name(frl_dtype dtype);

// Round-to-nearest-even fp32 -> bf16 and back (host side; used for tensor I/O).
uint16_t f32_to_bf16(float x);
float bf16_to_f32(uint16_t x);

}  // namespace frl

struct frl_ctx {
  std::unique_ptr<frl::Backend> backend;
  std::atomic<int64_t> bytes_in_use{0};    // every live storage once (its full size), views add nothing
  std::atomic<int64_t> live_tensors{0};    // frl_tensor handles the caller owns (storages and views)
  std::atomic<int64_t> live_containers{0}; // parameter blobs and activation arenas
};

// What owns a storage's memory (factrl/view.h).
enum frl_storage_kind { FRL_STORAGE_TENSOR = 0, FRL_STORAGE_BLOB = 1, FRL_STORAGE_ARENA = 2 };

// One allocation seen by any number of tensors (views). Owned by exactly one thing — the tensor
// that created it (frl_tensor_create), a parameter blob, or an activation arena — and freed only by
// that owner, which refuses while `views` > 0 (llm.c style: a view keeps nothing alive, and closing
// storage under a live view is an error, never a dangling pointer).
struct frl_storage {
  frl_ctx* ctx = nullptr;
  void* base = nullptr;  // host memory on CPU, device memory on CUDA
  size_t bytes = 0;
  frl_storage_kind kind = FRL_STORAGE_TENSOR;
  std::atomic<int64_t> views{0};  // live frl_tensor views created from it (not its owner's own tensors)
  uint64_t generation = 0;  // an arena's reset count: views from an older generation are stale
};

// A tensor is a view: storage + offset + shape + strides. `data` always points at the view's first
// element (storage base + offset * element size), so a kernel that reads `data` densely is right
// for every contiguous view; kernels that take a leading dimension read `strides`.
struct frl_tensor {
  frl_ctx* ctx = nullptr;
  frl_dtype dtype = FRL_F32;
  int ndim = 0;
  int64_t shape[FRL_MAX_DIMS] = {0, 0, 0, 0};
  int64_t numel = 0;
  void* data = nullptr;  // the first element: host memory on CPU, device memory on CUDA
  int64_t strides[FRL_MAX_DIMS] = {0, 0, 0, 0};  // in elements
  int64_t offset = 0;                            // of the first element from storage->base, in elements
  frl_storage* storage = nullptr;
  uint64_t generation = 0;  // storage->generation when the view was made (arena views)
  bool contiguous = true;   // dense row-major (computed once: checks read it on every call)
  bool owns_storage = false;  // frl_tensor_create's tensor: destroying it frees the storage
  bool borrowed = false;      // a parameter blob's named tensor: the blob destroys it
};

namespace frl {

// Runs body, turning any exception into a status and the thread's last error.
// `fn` is the C API function name, prefixed to every message.
template <typename Body>
frl_status guard(const char* fn, Body&& body) noexcept;
frl_status fail(const char* fn, frl_status status, const std::string& message) noexcept;
void clear_error() noexcept;

// ---- argument checks (throw Error with the argument's name) ---------------------------------
void require(bool ok, frl_status status, const std::string& message);
void check_not_null(const void* ptr, const char* name);
// Checks ndim and each dimension; pass -1 in `dims` for "any size". Names the argument.
void check_shape(const frl_tensor* t, const char* name, std::initializer_list<int64_t> dims);
void check_dtype(const frl_tensor* t, const char* name, std::initializer_list<frl_dtype> allowed);
// t lives in ctx, is not a stale arena view, and is contiguous: every op's default. An op whose
// math allows other views calls check_view instead and checks the layout itself (row_stride).
void check_context(const frl_ctx* ctx, const frl_tensor* t, const char* name);
// t lives in ctx and is not a stale arena view (any layout).
void check_view(const frl_ctx* ctx, const frl_tensor* t, const char* name);
// Not a view of an activation arena that was reset since the view was made.
inline bool is_stale(const frl_tensor* t) { return t->storage && t->generation != t->storage->generation; }
void check_not_stale(const frl_tensor* t, const char* name);
// The row stride of a row-contiguous view (last dim stride 1, leading dims collapse to one row
// stride >= the width): the leading dimension a GEMM takes. Throws naming the argument otherwise.
int64_t row_stride(const frl_tensor* t, const char* name);
// Dense row-major strides of a shape; whether strides are those (size-1 dims ignored).
void contiguous_strides(int ndim, const int64_t* shape, int64_t* strides);
bool strides_contiguous(int ndim, const int64_t* shape, const int64_t* strides);
// A float tensor of ctx in a storage type its backend computes on: F32 on the CPU (the fp32
// reference); F32 or BF16 on CUDA (bf16 storage, fp32 accumulation).
void check_float_storage(const frl_ctx* ctx, const frl_tensor* t, const char* name);
std::string shape_string(const frl_tensor* t);
std::string strides_string(const frl_tensor* t);
// A tensor argument with its name; t may be null (an optional argument not given).
struct Named {
  const frl_tensor* t;
  const char* name;
};
// No output is an input or another output: kernels read their inputs while writing outputs (there
// is no in-place form), so an aliased call gives wrong values silently. Null entries are skipped.
// Views of one storage count as aliases when they may share an element (column slices of one
// buffer with disjoint columns do not).
void check_no_alias(std::initializer_list<Named> outputs, std::initializer_list<Named> inputs);

template <typename T>
inline T* data_as(frl_tensor* t) { return t ? static_cast<T*>(t->data) : nullptr; }
template <typename T>
inline const T* data_as(const frl_tensor* t) { return t ? static_cast<const T*>(t->data) : nullptr; }

// ---- template definition ---------------------------------------------------------------------
template <typename Body>
frl_status guard(const char* fn, Body&& body) noexcept {
  try {
    body();
    return FRL_OK;
  } catch (const Error& e) {
    return fail(fn, e.status(), e.what());
  } catch (const std::bad_alloc&) {
    return fail(fn, FRL_ERR_MEMORY, "out of host memory");
  } catch (const std::exception& e) {
    return fail(fn, FRL_ERR_INTERNAL, e.what());
  } catch (...) {
    return fail(fn, FRL_ERR_INTERNAL, "unknown native exception");
  }
}

}  // namespace frl

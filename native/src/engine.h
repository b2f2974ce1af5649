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
  std::atomic<int64_t> bytes_in_use{0};
  std::atomic<int64_t> live_tensors{0};
};

struct frl_tensor {
  frl_ctx* ctx = nullptr;
  frl_dtype dtype = FRL_F32;
  int ndim = 0;
  int64_t shape[FRL_MAX_DIMS] = {0, 0, 0, 0};
  int64_t numel = 0;
  void* data = nullptr;  // host memory on CPU, device memory on CUDA
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
// All tensors must live in ctx.
void check_context(const frl_ctx* ctx, const frl_tensor* t, const char* name);
// A float tensor of ctx in a storage type its backend computes on: F32 on the CPU (the fp32
// reference); F32 or BF16 on CUDA (bf16 storage, fp32 accumulation).
void check_float_storage(const frl_ctx* ctx, const frl_tensor* t, const char* name);
std::string shape_string(const frl_tensor* t);
// A tensor argument with its name; t may be null (an optional argument not given).
struct Named {
  const frl_tensor* t;
  const char* name;
};
// No output is an input or another output: kernels read their inputs while writing outputs (there
// is no in-place form), so an aliased call gives wrong values silently. Null entries are skipped.
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

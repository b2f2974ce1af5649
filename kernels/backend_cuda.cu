// The CUDA backend: one device, one non-blocking stream, device memory from cudaMalloc.
// Linked against the static CUDA runtime, so a machine with no driver or no GPU gets
// FRL_ERR_UNAVAILABLE from frl_ctx_create instead of a library that fails to load.
#include <cstdio>
#include <cstring>

#include "cuda_common.cuh"

#ifdef FACTRL_WITH_CUBLAS
#include <cublasLt.h>
#include <cublas_v2.h>
#endif

namespace frl {

void cuda_check(cudaError_t err, const char* what, const char* file, int line) {
  if (err == cudaSuccess) return;
  const char* base = std::strrchr(file, '/');
  throw Error(FRL_ERR_DEVICE, format("CUDA error %s (%s) in %s at %s:%d", cudaGetErrorName(err),
                                     cudaGetErrorString(err), what, base ? base + 1 : file, line));
}

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

#ifdef FACTRL_WITH_CUBLAS
struct CublasHandles {
  cublasHandle_t blas = nullptr;
  cublasLtHandle_t lt = nullptr;
  void* workspace = nullptr;
  size_t workspace_bytes = 32u << 20;
};
#endif

namespace {

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device) : device_(device) {
    int count = cuda_device_count();
    if (count == 0)
      throw Error(FRL_ERR_UNAVAILABLE, "no CUDA device is available (no GPU, or no NVIDIA driver)");
    if (device < 0 || device >= count)
      throw Error(FRL_ERR_ARGUMENT, format("CUDA device %d does not exist (%d present)", device, count));
    FRL_CUDA_CHECK(cudaSetDevice(device));
    cudaDeviceProp prop;
    FRL_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    name_ = format("%s (sm_%d%d)", prop.name, prop.major, prop.minor);
    FRL_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
#ifdef FACTRL_WITH_CUBLAS
    // A throwing constructor runs no destructor: release what was made so far by hand.
    try {
      if (cublasCreate(&cublas_.blas) != CUBLAS_STATUS_SUCCESS ||
          cublasLtCreate(&cublas_.lt) != CUBLAS_STATUS_SUCCESS ||
          cublasSetStream(cublas_.blas, stream_) != CUBLAS_STATUS_SUCCESS)
        throw Error(FRL_ERR_DEVICE, "cannot create cuBLAS handles");
      FRL_CUDA_CHECK(cudaMalloc(&cublas_.workspace, cublas_.workspace_bytes));
    } catch (...) {
      release_all();
      throw;
    }
#endif
  }
  ~CudaBackend() override { release_all(); }
  void release_all() noexcept {
    cudaSetDevice(device_);
    if (stream_) cudaStreamSynchronize(stream_);
#ifdef FACTRL_WITH_CUBLAS
    if (cublas_.workspace) cudaFree(cublas_.workspace);
    if (cublas_.lt) cublasLtDestroy(cublas_.lt);
    if (cublas_.blas) cublasDestroy(cublas_.blas);
#endif
    if (stream_) cudaStreamDestroy(stream_);
#ifdef FACTRL_WITH_CUBLAS
    cublas_ = CublasHandles{};
#endif
    stream_ = nullptr;
  }
  frl_backend kind() const override { return FRL_BACKEND_CUDA; }
  const std::string& device_name() const override { return name_; }
  void* allocate(size_t bytes) override {
    FRL_CUDA_CHECK(cudaSetDevice(device_));
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, bytes == 0 ? 256 : bytes);
    if (err != cudaSuccess) {
      cudaGetLastError();
      throw Error(FRL_ERR_MEMORY, format("cannot allocate %zu bytes on %s: %s", bytes, name_.c_str(),
                                         cudaGetErrorString(err)));
    }
    err = cudaMemsetAsync(p, 0, bytes, stream_);
    if (err != cudaSuccess) {
      cudaFree(p);  // not leaked on the error path
      cuda_check(err, "cudaMemsetAsync(p, 0, bytes, stream_)", __FILE__, __LINE__);
    }
    return p;
  }
  void release(void* ptr) noexcept override { cudaFree(ptr); }
  void copy_to_device(void* dst, const void* src, size_t bytes) override {
    FRL_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_));
    FRL_CUDA_CHECK(cudaStreamSynchronize(stream_));  // src is caller memory that may go away
  }
  void copy_to_host(void* dst, const void* src, size_t bytes) override {
    FRL_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_));
    FRL_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  void copy_on_device(void* dst, const void* src, size_t bytes) override {
    FRL_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_));
  }
  void zero(void* ptr, size_t bytes) override { FRL_CUDA_CHECK(cudaMemsetAsync(ptr, 0, bytes, stream_)); }
  void synchronize() override { FRL_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

  cudaStream_t stream() const { return stream_; }
#ifdef FACTRL_WITH_CUBLAS
  CublasHandles& cublas() { return cublas_; }
#endif

 private:
  int device_;
  std::string name_;
  cudaStream_t stream_ = nullptr;
#ifdef FACTRL_WITH_CUBLAS
  CublasHandles cublas_;
#endif
};

CudaBackend& as_cuda(const frl_ctx* ctx) {
  if (ctx == nullptr || ctx->backend->kind() != FRL_BACKEND_CUDA)
    throw Error(FRL_ERR_INTERNAL, "not a CUDA context");
  return static_cast<CudaBackend&>(*ctx->backend);
}

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(int device) { return std::make_unique<CudaBackend>(device); }

cudaStream_t cuda_stream(const frl_ctx* ctx) { return as_cuda(ctx).stream(); }

#ifdef FACTRL_WITH_CUBLAS
CublasHandles& cublas_handles(const frl_ctx* ctx) { return as_cuda(ctx).cublas(); }
#endif

}  // namespace frl

// The CUDA backend: one device, one non-blocking stream, and nothing in it synchronises the host
// except the explicit sync points (synchronize(), copy_to_host()).
//   - Memory: a stream-ordered pool per context (cudaMemPoolCreate, kept warm: release threshold
//     unlimited). Tensors and scratch are taken with cudaMallocFromPoolAsync and given back with
//     cudaFreeAsync on the context's stream, so releasing a tensor needs no sync: a kernel queued
//     earlier that still reads it runs before the memory can be handed out again (stream order).
//   - Uploads: the caller's bytes are copied into a pinned staging ring and queued from there, so the
//     caller's buffer may be reused as soon as the call returns; the host waits only when the ring
//     (kStagingSlots x kSlotBytes) is full of copies still queued behind GPU work.
//   - Device-side errors: kernels flag bad data in a DeviceErrorRecord (cuda_common.cuh), read at the
//     sync points, which then throw naming the op and the argument.
// Linked against the static CUDA runtime, so a machine with no driver or no GPU gets
// FRL_ERR_UNAVAILABLE from frl_ctx_create instead of a library that fails to load.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "cuda_common.cuh"

#ifdef FACTRL_WITH_CUBLAS
#include "cublas_gemm.cuh"
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

namespace {

constexpr int kStagingSlots = 4;
constexpr size_t kSlotBytes = size_t{4} << 20;

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
    // A throwing constructor runs no destructor: release what was made so far by hand.
    try {
      FRL_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
      cudaMemPoolProps props = {};
      props.allocType = cudaMemAllocationTypePinned;
      props.location.type = cudaMemLocationTypeDevice;
      props.location.id = device;
      FRL_CUDA_CHECK(cudaMemPoolCreate(&pool_, &props));
      uint64_t keep_all = UINT64_MAX;  // never hand memory back to the driver at a sync
      FRL_CUDA_CHECK(cudaMemPoolSetAttribute(pool_, cudaMemPoolAttrReleaseThreshold, &keep_all));
      FRL_CUDA_CHECK(cudaMalloc(&errors_, sizeof(DeviceErrorRecord)));
      FRL_CUDA_CHECK(cudaMemset(errors_, 0, sizeof(DeviceErrorRecord)));
      FRL_CUDA_CHECK(cudaMallocHost(&errors_host_, sizeof(DeviceErrorRecord)));
#ifdef FACTRL_WITH_CUBLAS
      cublas_.init(stream_);
#endif
    } catch (...) {
      release_all();
      throw;
    }
  }
  ~CudaBackend() override { release_all(); }
  void release_all() noexcept {
    cudaSetDevice(device_);
    if (stream_) cudaStreamSynchronize(stream_);
#ifdef FACTRL_WITH_CUBLAS
    cublas_.destroy();
#endif
    for (cudaEvent_t& e : staging_done_)
      if (e) cudaEventDestroy(e), e = nullptr;
    if (staging_) cudaFreeHost(staging_), staging_ = nullptr;
    if (errors_host_) cudaFreeHost(errors_host_), errors_host_ = nullptr;
    if (errors_) cudaFree(errors_), errors_ = nullptr;
    if (pool_) cudaMemPoolDestroy(pool_), pool_ = nullptr;  // deferred by CUDA until every block is free
    if (stream_) cudaStreamDestroy(stream_), stream_ = nullptr;
    cudaGetLastError();
  }
  frl_backend kind() const override { return FRL_BACKEND_CUDA; }
  const std::string& device_name() const override { return name_; }
  void* allocate(size_t bytes) override {
    void* p = pool_alloc(bytes);
    cudaError_t err = cudaMemsetAsync(p, 0, bytes, stream_);
    if (err != cudaSuccess) {
      cudaFreeAsync(p, stream_);  // not leaked on the error path
      cuda_check(err, "cudaMemsetAsync(p, 0, bytes, stream_)", __FILE__, __LINE__);
    }
    return p;
  }
  void release(void* ptr) noexcept override {
    if (ptr && cudaFreeAsync(ptr, stream_) != cudaSuccess) cudaGetLastError();
  }
  void* pool_alloc(size_t bytes) {
    FRL_CUDA_CHECK(cudaSetDevice(device_));  // cheap when already current; several GPUs may be in use
    void* p = nullptr;
    cudaError_t err = cudaMallocFromPoolAsync(&p, bytes == 0 ? 256 : bytes, pool_, stream_);
    if (err != cudaSuccess) {
      cudaGetLastError();
      throw Error(FRL_ERR_MEMORY, format("cannot allocate %zu bytes on %s: %s", bytes, name_.c_str(),
                                         cudaGetErrorString(err)));
    }
    return p;
  }
  // Rule: the caller's buffer may be reused or freed as soon as this returns (it is copied into
  // pinned staging memory first); the device copy is ordered before every later op on the stream.
  void copy_to_device(void* dst, const void* src, size_t bytes) override {
    if (bytes == 0) return;
    if (staging_ == nullptr) {
      FRL_CUDA_CHECK(cudaMallocHost(&staging_, kStagingSlots * kSlotBytes));
      for (cudaEvent_t& e : staging_done_) FRL_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    }
    char* d = static_cast<char*>(dst);
    const char* s = static_cast<const char*>(src);
    while (bytes > 0) {
      const size_t n = std::min(bytes, kSlotBytes);
      if (slot_offset_ + n > kSlotBytes) {  // next slot: wait until its last copy has left it
        slot_ = (slot_ + 1) % kStagingSlots;
        FRL_CUDA_CHECK(cudaEventSynchronize(staging_done_[slot_]));
        slot_offset_ = 0;
      }
      char* pinned = staging_ + slot_ * kSlotBytes + slot_offset_;
      std::memcpy(pinned, s, n);
      FRL_CUDA_CHECK(cudaMemcpyAsync(d, pinned, n, cudaMemcpyHostToDevice, stream_));
      FRL_CUDA_CHECK(cudaEventRecord(staging_done_[slot_], stream_));
      slot_offset_ += (n + 255) / 256 * 256;
      d += n;
      s += n;
      bytes -= n;
    }
  }
  // A host read is a sync point: it waits for the stream, then reports any device-side error.
  void copy_to_host(void* dst, const void* src, size_t bytes) override {
    if (bytes > 0) FRL_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_));
    sync_and_check();
  }
  void copy_on_device(void* dst, const void* src, size_t bytes) override {
    FRL_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_));
  }
  void zero(void* ptr, size_t bytes) override { FRL_CUDA_CHECK(cudaMemsetAsync(ptr, 0, bytes, stream_)); }
  void synchronize() override { sync_and_check(); }
  // Device memory the context holds beyond live tensors: the pool's cached (reserved, unused) bytes,
  // the cuBLAS workspace and the error record.
  size_t pool_bytes() const override {
    uint64_t reserved = 0, used = 0;
    if (cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrReservedMemCurrent, &reserved) != cudaSuccess ||
        cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrUsedMemCurrent, &used) != cudaSuccess) {
      cudaGetLastError();
      return 0;
    }
    size_t extra = sizeof(DeviceErrorRecord);
#ifdef FACTRL_WITH_CUBLAS
    extra += cublas_.workspace_bytes;
#endif
    return static_cast<size_t>(reserved > used ? reserved - used : 0) + extra;
  }

  cudaStream_t stream() const { return stream_; }
  DeviceErrorRecord* errors() const { return errors_; }
#ifdef FACTRL_WITH_CUBLAS
  CublasHandles& cublas() { return cublas_; }
#endif

 private:
  // Waits for the stream; if a kernel flagged bad data since the last sync point, clears the record
  // and throws its message.
  void sync_and_check() {
    FRL_CUDA_CHECK(cudaMemcpyAsync(errors_host_, errors_, sizeof(DeviceErrorRecord), cudaMemcpyDeviceToHost,
                                   stream_));
    FRL_CUDA_CHECK(cudaStreamSynchronize(stream_));
    if (errors_host_->op == kOpNone) return;
    const DeviceErrorRecord rec = *errors_host_;
    FRL_CUDA_CHECK(cudaMemsetAsync(errors_, 0, sizeof(DeviceErrorRecord), stream_));
    errors_host_->op = kOpNone;
    throw Error(FRL_ERR_ARGUMENT, describe_device_error(rec));
  }

  int device_;
  std::string name_;
  cudaStream_t stream_ = nullptr;
  cudaMemPool_t pool_ = nullptr;
  DeviceErrorRecord* errors_ = nullptr;
  DeviceErrorRecord* errors_host_ = nullptr;  // pinned
  char* staging_ = nullptr;                   // pinned, kStagingSlots * kSlotBytes, made on first upload
  cudaEvent_t staging_done_[kStagingSlots] = {};
  int slot_ = 0;
  size_t slot_offset_ = 0;
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

void* cuda_pool_alloc(const frl_ctx* ctx, size_t bytes) { return as_cuda(ctx).pool_alloc(bytes); }

void cuda_pool_free(const frl_ctx* ctx, void* ptr) noexcept {
  static_cast<CudaBackend&>(*ctx->backend).release(ptr);  // ctx was checked by the matching alloc
}

DeviceErrorRecord* cuda_error_record(const frl_ctx* ctx) { return as_cuda(ctx).errors(); }

#ifdef FACTRL_WITH_CUBLAS
CublasHandles& cublas_handles(const frl_ctx* ctx) { return as_cuda(ctx).cublas(); }
#endif

}  // namespace frl

// The CPU backend: plain host memory, work runs synchronously on the calling thread (+ OpenMP).
#include <cstdlib>
#include <cstring>
#include <thread>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine.h"

namespace frl {
namespace {

class CpuBackend final : public Backend {
 public:
  CpuBackend() {
#ifdef _OPENMP
    int threads = omp_get_max_threads();
#else
    int threads = 1;
#endif
    name_ = format("cpu (%d threads)", threads);
  }
  frl_backend kind() const override { return FRL_BACKEND_CPU; }
  const std::string& device_name() const override { return name_; }
  void* allocate(size_t bytes) override {
    // 64-byte alignment for vector loads; calloc semantics (tensors start at zero).
    size_t rounded = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
    if (!p) throw Error(FRL_ERR_MEMORY, format("cannot allocate %zu bytes of host memory", bytes));
    std::memset(p, 0, rounded == 0 ? 64 : rounded);
    return p;
  }
  void release(void* ptr) noexcept override { std::free(ptr); }
  void copy_to_device(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void copy_to_host(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void copy_on_device(void* dst, const void* src, size_t bytes) override { std::memmove(dst, src, bytes); }
  void zero(void* ptr, size_t bytes) override { std::memset(ptr, 0, bytes); }
  void synchronize() override {}

 private:
  std::string name_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace frl

// Storages and the views on them (the engine side of factrl/view.h): creating and releasing a
// storage, making a view, and walking a view's elements in row-major order for host-side I/O.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine.h"

namespace frl {

// Byte alignment of every storage, blob entry and arena allocation (one cache line, a full
// AVX-512 vector).
constexpr int64_t kAlign = 64;
inline int64_t align_up(int64_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

// Validates ndim and shape (naming `shape`); returns the element count.
int64_t checked_numel(int ndim, const int64_t* shape);

// A zero-filled storage of `bytes` in ctx, counted in bytes_in_use until release_storage.
frl_storage* create_storage(frl_ctx* ctx, size_t bytes, frl_storage_kind kind);
// Frees it; refuses (FRL_ERR_ARGUMENT, `what` names the owner) while views are live.
void release_storage(frl_storage* s, const char* what);

// A new tensor seeing `storage` from element `offset` with the given shape and strides (already
// bounds-checked). `counted`: a view the caller destroys (adds to storage->views and live_tensors).
frl_tensor* make_view(frl_storage* storage, frl_dtype dtype, int ndim, const int64_t* shape, const int64_t* strides,
                      int64_t offset, bool counted);
// Throws unless every element the view can reach lies inside its storage.
void check_in_bounds(const frl_storage* s, frl_dtype dtype, int ndim, const int64_t* shape, const int64_t* strides,
                     int64_t offset);

// Calls fn(first_element, n) for the storage element offsets (relative to t->data) of the logical
// row-major elements [start, start + count) of t, in order, one call per contiguous run.
template <typename Fn>
void for_each_run(const frl_tensor* t, int64_t start, int64_t count, Fn&& fn) {
  if (count <= 0) return;
  if (t->contiguous) {
    fn(start, count);
    return;
  }
  const int n = t->ndim;
  const int64_t inner = t->shape[n - 1];
  const bool dense_rows = inner <= 1 || t->strides[n - 1] == 1;
  int64_t idx[FRL_MAX_DIMS] = {0, 0, 0, 0};
  int64_t rest = start;
  for (int i = n - 1; i >= 0; i--) {
    idx[i] = rest % t->shape[i];
    rest /= t->shape[i];
  }
  while (count > 0) {
    int64_t off = 0;
    for (int i = 0; i < n; i++) off += idx[i] * t->strides[i];
    int64_t run = dense_rows ? inner - idx[n - 1] : 1;
    if (run > count) run = count;
    fn(off, run);
    count -= run;
    idx[n - 1] += run;
    for (int i = n - 1; i > 0 && idx[i] >= t->shape[i]; i--) {
      idx[i] = 0;
      idx[i - 1]++;
    }
  }
}

}  // namespace frl

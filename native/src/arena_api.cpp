// C API of activation arenas (factrl/view.h), llm.c style: one allocation planned for a step's
// activations, handed out front to back, and taken back whole by a reset (no per-tensor malloc or
// cudaFree in the training loop). A generation counter makes a tensor from before a reset an
// argument error instead of a silent read of someone else's activations.
#include "factrl/view.h"

#include "engine.h"
#include "storage.h"

using frl::format;
using frl::guard;

struct frl_arena {
  frl_ctx* ctx = nullptr;
  frl_storage* storage = nullptr;
  int64_t used = 0;  // bytes handed out since the last reset (a multiple of FRL_ALIGN_BYTES)
};

namespace {

int64_t bytes_for(frl_dtype dtype, int ndim, const int64_t* shape) {
  const size_t elem = frl::dtype_size(dtype);
  const int64_t numel = frl::checked_numel(ndim, shape);
  return frl::align_up(numel * static_cast<int64_t>(elem));
}

}  // namespace

extern "C" {

frl_status frl_arena_create(frl_ctx* ctx, int64_t capacity_bytes, frl_arena** out_arena) {
  return guard("frl_arena_create", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_not_null(out_arena, "out_arena");
    *out_arena = nullptr;
    frl::require(capacity_bytes >= 0, FRL_ERR_ARGUMENT,
                 format("argument 'capacity_bytes' must be >= 0, got %lld", static_cast<long long>(capacity_bytes)));
    auto arena = std::make_unique<frl_arena>();
    arena->ctx = ctx;
    arena->storage = frl::create_storage(ctx, static_cast<size_t>(capacity_bytes), FRL_STORAGE_ARENA);
    ctx->live_containers++;
    *out_arena = arena.release();
  });
}

frl_status frl_arena_destroy(frl_arena* arena) {
  return guard("frl_arena_destroy", [&] {
    frl::check_not_null(arena, "arena");
    frl::release_storage(arena->storage, "activation arena");  // refuses while views are live
    arena->ctx->live_containers--;
    delete arena;
  });
}

frl_status frl_arena_allocate(frl_arena* arena, frl_dtype dtype, int ndim, const int64_t* shape,
                              frl_tensor** out_tensor) {
  return guard("frl_arena_allocate", [&] {
    frl::check_not_null(arena, "arena");
    frl::check_not_null(out_tensor, "out_tensor");
    *out_tensor = nullptr;
    const int64_t need = bytes_for(dtype, ndim, shape);
    const int64_t capacity = static_cast<int64_t>(arena->storage->bytes);
    frl::require(need <= capacity - arena->used, FRL_ERR_MEMORY,
                 format("activation arena is full: %lld of %lld bytes used, %lld more requested for a %s tensor",
                        static_cast<long long>(arena->used), static_cast<long long>(capacity),
                        static_cast<long long>(need), frl::dtype_name(dtype)));
    int64_t strides[FRL_MAX_DIMS];
    frl::contiguous_strides(ndim, shape, strides);
    const int64_t elem = static_cast<int64_t>(frl::dtype_size(dtype));
    *out_tensor = frl::make_view(arena->storage, dtype, ndim, shape, strides, arena->used / elem, true);
    arena->used += need;
  });
}

frl_status frl_arena_reset(frl_arena* arena) {
  return guard("frl_arena_reset", [&] {
    frl::check_not_null(arena, "arena");
    arena->storage->generation++;
    arena->used = 0;
  });
}

frl_status frl_arena_used(const frl_arena* arena, int64_t* out_bytes) {
  return guard("frl_arena_used", [&] {
    frl::check_not_null(arena, "arena");
    frl::check_not_null(out_bytes, "out_bytes");
    *out_bytes = arena->used;
  });
}

frl_status frl_arena_capacity(const frl_arena* arena, int64_t* out_bytes) {
  return guard("frl_arena_capacity", [&] {
    frl::check_not_null(arena, "arena");
    frl::check_not_null(out_bytes, "out_bytes");
    *out_bytes = static_cast<int64_t>(arena->storage->bytes);
  });
}

frl_status frl_arena_generation(const frl_arena* arena, int64_t* out_generation) {
  return guard("frl_arena_generation", [&] {
    frl::check_not_null(arena, "arena");
    frl::check_not_null(out_generation, "out_generation");
    *out_generation = static_cast<int64_t>(arena->storage->generation);
  });
}

frl_status frl_arena_bytes_for(frl_dtype dtype, int ndim, const int64_t* shape, int64_t* out_bytes) {
  return guard("frl_arena_bytes_for", [&] {
    frl::check_not_null(out_bytes, "out_bytes");
    *out_bytes = bytes_for(dtype, ndim, shape);
  });
}

}  // extern "C"

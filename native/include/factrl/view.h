/*
 * Views, parameter blobs and activation arenas: one allocation, many tensors, no copies.
 *
 * A tensor is a view: a storage, an element offset into it, a shape and strides (in elements).
 * frl_tensor_create makes a tensor that owns a new storage; the functions below make further views
 * of a storage without copying. Every view is an frl_tensor: it has a dtype, shape and numel like
 * any tensor, tensor I/O (read/write/fill_zero/copy) works on all of them (row-major logical
 * order; strided views are gathered/scattered on the host), and it is destroyed with
 * frl_tensor_destroy.
 *
 * Ownership (llm.c style, no reference counting that keeps memory alive):
 *  - A view never keeps its storage alive. Destroying the owner of a storage — the tensor from
 *    frl_tensor_create, a blob, an arena — while views of it are live fails with FRL_ERR_ARGUMENT
 *    ("tensor has N live views; close them first") and changes nothing; destroy the views first.
 *    Destroying a view is always fine. frl_ctx_destroy fails while any tensor, view, blob or arena
 *    of the context is live.
 *  - A parameter blob's named tensors (frl_blob_tensor) belong to the blob: do not destroy them;
 *    they die with the blob. Views made from them are ordinary views of the blob's storage.
 *  - Arena tensors are views of the arena; frl_arena_reset invalidates all of them at once (their
 *    memory is handed out again). Using one after a reset fails with FRL_ERR_ARGUMENT naming the
 *    argument (a generation counter, checked by every op and tensor I/O); the handle itself must
 *    still be destroyed with frl_tensor_destroy.
 *
 * Which ops take which views: every op accepts contiguous views (reshapes, row ranges, blob and
 * arena tensors) and rejects other views with FRL_ERR_SHAPE naming the argument, unless its header
 * says otherwise. The linear layer (x, W, y, dy, dx, dW) and the LoRA matmul's x / y / dy / dx on
 * the CPU take row-contiguous views: last-dimension stride 1 and one row stride >= the width
 * (a leading dimension), e.g. a column slice of a wider matrix.
 *
 * bytes_in_use counts each storage once at its full size (a blob's padded layout, an arena's whole
 * capacity); views add nothing.
 */
#ifndef FACTRL_VIEW_H
#define FACTRL_VIEW_H

#include "../factrl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* frl_blob and frl_arena are declared in factrl.h. */

/* Alignment in bytes of every blob entry and arena allocation. */
#define FRL_ALIGN_BYTES 64

/* ---- views -------------------------------------------------------------------------------- */
/* A view of src's storage: its first element is src's first element + elem_offset (in storage
 * elements, may be negative as long as the view stays inside the storage), with the given shape and
 * strides (elements, >= 0). Same dtype as src. Bounds-checked against the whole storage. */
frl_status frl_tensor_view(const frl_tensor* src, int64_t elem_offset, int ndim, const int64_t* shape,
                           const int64_t* strides, frl_tensor** out_view);
/* The same elements in a new shape (same numel). src must be contiguous; one dimension may be -1
 * (inferred). */
frl_status frl_tensor_reshape(const frl_tensor* src, int ndim, const int64_t* shape, frl_tensor** out_view);
/* Elements [start, start + length) of dimension dim; other dims unchanged. No copy: the result is
 * contiguous when dim is 0 (row ranges) or all outer dims are 1, strided otherwise. */
frl_status frl_tensor_narrow(const frl_tensor* src, int dim, int64_t start, int64_t length, frl_tensor** out_view);
/* Strides in elements (FRL_MAX_DIMS entries; unused ones 0). */
frl_status frl_tensor_strides(const frl_tensor* t, int64_t* out_strides);
/* Offset of the first element from the storage's start, in elements. */
frl_status frl_tensor_offset(const frl_tensor* t, int64_t* out_offset);
/* 1 when the view is dense row-major. */
frl_status frl_tensor_is_contiguous(const frl_tensor* t, int* out_contiguous);
/* Live views of t's storage (the views frl_tensor_destroy / frl_blob_destroy / frl_arena_destroy
 * of the owner waits for). */
frl_status frl_tensor_live_views(const frl_tensor* t, int64_t* out_views);

/* ---- parameter blobs ---------------------------------------------------------------------- */
/* One zero-filled allocation holding `count` named tensors in the given order, each at an offset
 * aligned to FRL_ALIGN_BYTES. names: count distinct non-empty strings (copied), e.g. HF names like
 * "model.layers.0.self_attn.q_proj.weight"; dtypes: count entries; ndims: count entries;
 * shapes: count * FRL_MAX_DIMS entries (row i at shapes + i * FRL_MAX_DIMS, first ndims[i] used). */
frl_status frl_blob_create(frl_ctx* ctx, int64_t count, const char* const* names, const frl_dtype* dtypes,
                           const int* ndims, const int64_t* shapes, frl_blob** out_blob);
/* A new zero-filled blob with the same layout (names, dtypes, shapes, offsets) in the same context:
 * gradients, optimizer moments. */
frl_status frl_blob_create_like(const frl_blob* like, frl_blob** out_blob);
/* Fails while views of the blob's storage are live (its named tensors do not count). */
frl_status frl_blob_destroy(frl_blob* blob);
frl_status frl_blob_count(const frl_blob* blob, int64_t* out_count);
/* Total bytes of the blob's storage (entries plus alignment padding). */
frl_status frl_blob_bytes(const frl_blob* blob, int64_t* out_bytes);
/* Name of entry `index` (valid while the blob lives). */
frl_status frl_blob_name(const frl_blob* blob, int64_t index, const char** out_name);
/* Byte offset of entry `index` from the blob's start. */
frl_status frl_blob_entry_offset(const frl_blob* blob, int64_t index, int64_t* out_byte_offset);
/* The named tensor (borrowed: owned by the blob, never destroy it). Unknown name: FRL_ERR_ARGUMENT
 * quoting it. */
frl_status frl_blob_tensor(const frl_blob* blob, const char* name, frl_tensor** out_tensor);
frl_status frl_blob_tensor_at(const frl_blob* blob, int64_t index, frl_tensor** out_tensor);
/* The whole blob as one contiguous 1-D tensor of bytes / sizeof(dtype) elements, padding included
 * (padding is zero-filled at creation and no entry writes it): zero every gradient in one call, or
 * run an element-wise optimizer over all parameters at once when every entry has that dtype. A
 * view: destroy it with frl_tensor_destroy before the blob. */
frl_status frl_blob_flat(const frl_blob* blob, frl_dtype dtype, frl_tensor** out_view);

/* ---- activation arenas -------------------------------------------------------------------- */
/* A bump allocator over one zero-filled storage of capacity_bytes (plan it once per shape with
 * frl_arena_bytes_for summed over the step's activations). */
frl_status frl_arena_create(frl_ctx* ctx, int64_t capacity_bytes, frl_arena** out_arena);
/* Fails while views of the arena (its allocated tensors included) are live. */
frl_status frl_arena_destroy(frl_arena* arena);
/* The next FRL_ALIGN_BYTES-aligned block as a contiguous tensor (a view; destroy it with
 * frl_tensor_destroy). Its contents are whatever the arena held (not zeroed). FRL_ERR_MEMORY
 * when the capacity is exceeded (the message gives used, requested and capacity). */
frl_status frl_arena_allocate(frl_arena* arena, frl_dtype dtype, int ndim, const int64_t* shape,
                              frl_tensor** out_tensor);
/* Hands the whole capacity out again: every tensor allocated before becomes stale. */
frl_status frl_arena_reset(frl_arena* arena);
frl_status frl_arena_used(const frl_arena* arena, int64_t* out_bytes);
frl_status frl_arena_capacity(const frl_arena* arena, int64_t* out_bytes);
/* Number of resets so far (tensors remember the generation they were allocated in). */
frl_status frl_arena_generation(const frl_arena* arena, int64_t* out_generation);
/* Bytes one allocation of this dtype and shape takes in an arena (rounded up to FRL_ALIGN_BYTES). */
frl_status frl_arena_bytes_for(frl_dtype dtype, int ndim, const int64_t* shape, int64_t* out_bytes);

#ifdef __cplusplus
}
#endif

#endif /* FACTRL_VIEW_H */

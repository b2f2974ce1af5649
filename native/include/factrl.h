/*
 * FactRL native engine: the plain-C API.
 *
 * Conventions shared by every entry point:
 *  - Every function returns frl_status; FRL_OK is 0. On failure, frl_last_error() returns a
 *    message (thread-local, valid until the next failing call on that thread) that names the
 *    function and the offending argument, e.g. "frl_lora_forward: W has shape [3, 5], expected [4, 5]".
 *  - Handles are opaque. A context (frl_ctx) is one backend on one device with one stream;
 *    tensors (frl_tensor) belong to the context that created them and must be destroyed before it.
 *  - A tensor is a view (storage, offset, shape, strides; factrl/view.h). frl_tensor_create makes a
 *    dense, row-major tensor that owns its storage; views, reshapes, slices, parameter blobs and
 *    activation arenas share storage without copies. Ops take contiguous tensors unless their
 *    header says otherwise. On the CPU backend F32 tensors are
 *    fp32; on CUDA, "activation" tensors may be created as BF16 (storage) while kernels accumulate
 *    in fp32. I32 tensors hold indices, lengths and masks.
 *  - CUDA: only frl_ctx_synchronize and reads back to host memory (frl_tensor_read_*, outputs a
 *    call returns to the host) synchronise the host. Kernels, tensor release (memory goes back to
 *    a stream-ordered pool) and uploads (frl_tensor_write_* copy src to pinned staging before they
 *    return, so src may be reused at once) are queued on the context's stream. Bad data found by
 *    a kernel (an index out of range, a malformed mask) is flagged on the device, and the next
 *    sync point fails with FRL_ERR_ARGUMENT naming the op and the argument, e.g.
 *    "frl_ctx_synchronize: frl_token_logprobs: argument 'actions': row 3 has token 77 outside
 *    [0, 50) ...". frl_ctx_bytes_in_use counts live tensors plus what the pool and workspaces keep.
 */
#ifndef FACTRL_H
#define FACTRL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum frl_status {
  FRL_OK = 0,
  FRL_ERR_ARGUMENT = 1,    /* null pointer, negative size, bad option */
  FRL_ERR_SHAPE = 2,       /* tensor shapes or dtypes do not fit together */
  FRL_ERR_MEMORY = 3,      /* allocation failed */
  FRL_ERR_UNAVAILABLE = 4, /* backend not built in, or no device / driver present */
  FRL_ERR_DEVICE = 5,      /* the device reported an error (CUDA error string in the message) */
  FRL_ERR_INTERNAL = 6
} frl_status;

typedef enum frl_backend { FRL_BACKEND_CPU = 0, FRL_BACKEND_CUDA = 1 } frl_backend;
typedef enum frl_dtype { FRL_F32 = 0, FRL_BF16 = 1, FRL_I32 = 2 } frl_dtype;

#define FRL_MAX_DIMS 4

/* What a gradient output (or a scatter) does with what its tensor holds: FRL_GRAD_OVERWRITE
 * replaces it, FRL_GRAD_ACCUMULATE adds into it (q/k/v or gate/up gradients summed into one dx,
 * weight gradients summed over micro-batches). Passed as an int `*_mode` argument; any other value
 * fails with FRL_ERR_ARGUMENT naming the argument. */
enum { FRL_GRAD_OVERWRITE = 0, FRL_GRAD_ACCUMULATE = 1 };

typedef struct frl_ctx frl_ctx;
typedef struct frl_tensor frl_tensor;
/* Parameter blobs and activation arenas (factrl/view.h), declared here so that headers included
 * from this one (factrl/model.h) see them whichever header a program includes first. */
typedef struct frl_blob frl_blob;
typedef struct frl_arena frl_arena;

/* ---- errors and build info -------------------------------------------------------------- */
const char* frl_last_error(void);
const char* frl_version(void);
/* 1 when this library was compiled with the CUDA backend (nvcc present at build time). */
int frl_built_with_cuda(void);
/* 1 when the CUDA backend uses cuBLAS(Lt) for plain GEMMs. */
int frl_built_with_cublas(void);
/* The instruction set the CPU backend's GEMM uses on this machine: "avx512", "avx2" or "scalar"
 * (chosen once at run time; FACTRL_CPU_ISA=avx2|scalar in the environment forces a lower one). */
const char* frl_cpu_isa(void);
/* Number of usable CUDA devices (0 when not built with CUDA, or no driver / no GPU). */
frl_status frl_cuda_device_count(int* out_count);

/* ---- contexts --------------------------------------------------------------------------- */
frl_status frl_ctx_create(frl_backend backend, int device, frl_ctx** out_ctx);
frl_status frl_ctx_destroy(frl_ctx* ctx);
frl_status frl_ctx_backend(const frl_ctx* ctx, frl_backend* out_backend);
/* Human-readable device name ("cpu (2 threads)", "NVIDIA H100 80GB HBM3 (sm_90)"). */
frl_status frl_ctx_device_name(const frl_ctx* ctx, const char** out_name);
/* Wait for all queued work on the context's stream. */
frl_status frl_ctx_synchronize(frl_ctx* ctx);
/* Bytes currently held by this context (for leak checks): every live storage once at its full
 * size (tensors, parameter blobs, activation arenas' capacity; views add nothing), plus memory the
 * backend keeps in pools. */
frl_status frl_ctx_bytes_in_use(const frl_ctx* ctx, int64_t* out_bytes);

/* ---- tensors ---------------------------------------------------------------------------- */
/* A new zero-filled tensor. ndim in [0, FRL_MAX_DIMS]; every dimension >= 0. */
frl_status frl_tensor_create(frl_ctx* ctx, frl_dtype dtype, int ndim, const int64_t* shape,
                             frl_tensor** out_tensor);
frl_status frl_tensor_destroy(frl_tensor* t);
frl_status frl_tensor_dtype(const frl_tensor* t, frl_dtype* out_dtype);
frl_status frl_tensor_ndim(const frl_tensor* t, int* out_ndim);
frl_status frl_tensor_shape(const frl_tensor* t, int64_t* out_shape /* FRL_MAX_DIMS */);
frl_status frl_tensor_numel(const frl_tensor* t, int64_t* out_numel);
/* Copy count host values into the tensor starting at element offset (converting to its dtype).
 * Offsets count the view's elements in row-major order (strided views too). */
frl_status frl_tensor_write_f32(frl_tensor* t, int64_t offset, const float* src, int64_t count);
frl_status frl_tensor_read_f32(const frl_tensor* t, int64_t offset, float* dst, int64_t count);
frl_status frl_tensor_write_i32(frl_tensor* t, int64_t offset, const int32_t* src, int64_t count);
frl_status frl_tensor_read_i32(const frl_tensor* t, int64_t offset, int32_t* dst, int64_t count);
frl_status frl_tensor_fill_zero(frl_tensor* t);
/* Copy src into dst (same dtype and element count; may cross contexts of different backends). */
frl_status frl_tensor_copy(frl_tensor* dst, const frl_tensor* src);

#ifdef __cplusplus
}
#endif

/* Views, parameter blobs, activation arenas. */
#include "factrl/view.h"

/* The four named kernels. */
#include "factrl/lora.h"
#include "factrl/kl.h"
#include "factrl/gae.h"
#include "factrl/pooling.h"

/* Glue ops: add, axpy, scale, fill, cast, row gather / scatter (CPU and CUDA). */
#include "factrl/glue.h"

/* ViT layers: LayerNorm and GELU (CPU reference and CUDA). */
#include "factrl/gelu.h"
#include "factrl/layernorm.h"

/* Model layers (CPU reference; CUDA kernels to come, except vit_embed and cross_entropy: both). */
#include "factrl/attention.h"
#include "factrl/embedding.h"
#include "factrl/linear.h"
#include "factrl/rmsnorm.h"
#include "factrl/rope.h"
#include "factrl/swiglu.h"
#include "factrl/vit_embed.h"
#include "factrl/cross_entropy.h"

/* The optimizer: AdamW and the global gradient norm (CPU and CUDA). */
#include "factrl/optim.h"
/* The LLaVA model: one native call per forward / backward (CPU). */
#include "factrl/model.h"
/* Generation with it: KV cache, prefill, decode step, sampled generations (CPU). */
#include "factrl/generate.h"

#endif /* FACTRL_H */

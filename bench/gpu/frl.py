"""ctypes binding of the FactRL C API (native/include/factrl.h) for the GPU machine, which has
Python + PyTorch but no Java. Used by the GPU checks (CUDA kernel vs CPU reference) and the GPU
benchmarks (our kernels beside PyTorch, same process, same GPU).

Usage:
    lib = frl.load("build-gpu/libfactrl.so")
    with frl.Ctx(lib, frl.CUDA) as gpu, frl.Ctx(lib, frl.CPU) as cpu:
        x = gpu.tensor(numpy_array, dtype=frl.BF16)   # uploads, converting to bf16
        cols = x.narrow(1, 0, 64)                      # views (factrl/view.h): no copy
        ...
        lib.frl_lora_forward(gpu.handle, x.handle, ...)   # kernel entry points, raw
        frl.check(lib, status)                             # raises FrlError with the native message
"""
import ctypes
import os

import numpy as np

CPU, CUDA = 0, 1
F32, BF16, I32 = 0, 1, 2


class FrlError(RuntimeError):
    pass


def load(path=None):
    path = path or os.environ.get("FACTRL_LIB", "build-gpu/libfactrl.so")
    lib = ctypes.CDLL(os.path.abspath(path))
    lib.frl_last_error.restype = ctypes.c_char_p
    lib.frl_version.restype = ctypes.c_char_p
    lib.frl_ctx_device_name.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p)]
    for name in ("frl_ctx_create", "frl_ctx_destroy", "frl_ctx_synchronize", "frl_tensor_create",
                 "frl_tensor_destroy", "frl_tensor_write_f32", "frl_tensor_read_f32",
                 "frl_tensor_write_i32", "frl_tensor_read_i32"):
        getattr(lib, name).restype = ctypes.c_int
    lib.frl_ctx_create.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p)]
    lib.frl_ctx_destroy.argtypes = [ctypes.c_void_p]
    lib.frl_ctx_synchronize.argtypes = [ctypes.c_void_p]
    lib.frl_tensor_create.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                      ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_void_p)]
    lib.frl_tensor_destroy.argtypes = [ctypes.c_void_p]
    lib.frl_tensor_shape.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64)]
    lib.frl_tensor_ndim.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
    lib.frl_tensor_dtype.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
    for name in ("frl_tensor_write_f32", "frl_tensor_read_f32", "frl_tensor_write_i32", "frl_tensor_read_i32"):
        getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64]
    # Views, parameter blobs, activation arenas (factrl/view.h). Every function returns a status.
    p, i64, pi64, pp = ctypes.c_void_p, ctypes.c_int64, ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_void_p)
    sigs = {
        "frl_ctx_bytes_in_use": [p, pi64],
        "frl_tensor_view": [p, i64, ctypes.c_int, pi64, pi64, pp],
        "frl_tensor_reshape": [p, ctypes.c_int, pi64, pp],
        "frl_tensor_narrow": [p, ctypes.c_int, i64, i64, pp],
        "frl_tensor_strides": [p, pi64],
        "frl_tensor_offset": [p, pi64],
        "frl_tensor_is_contiguous": [p, ctypes.POINTER(ctypes.c_int)],
        "frl_tensor_live_views": [p, pi64],
        "frl_blob_create": [p, i64, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_int),
                            ctypes.POINTER(ctypes.c_int), pi64, pp],
        "frl_blob_create_like": [p, pp],
        "frl_blob_destroy": [p],
        "frl_blob_count": [p, pi64],
        "frl_blob_bytes": [p, pi64],
        "frl_blob_name": [p, i64, ctypes.POINTER(ctypes.c_char_p)],
        "frl_blob_entry_offset": [p, i64, pi64],
        "frl_blob_tensor": [p, ctypes.c_char_p, pp],
        "frl_blob_tensor_at": [p, i64, pp],
        "frl_blob_flat": [p, ctypes.c_int, pp],
        "frl_arena_create": [p, i64, pp],
        "frl_arena_destroy": [p],
        "frl_arena_allocate": [p, ctypes.c_int, ctypes.c_int, pi64, pp],
        "frl_arena_reset": [p],
        "frl_arena_used": [p, pi64],
        "frl_arena_capacity": [p, pi64],
        "frl_arena_generation": [p, pi64],
        "frl_arena_bytes_for": [ctypes.c_int, ctypes.c_int, pi64, pi64],
    }
    for name, args in sigs.items():
        fn = getattr(lib, name)
        fn.restype = ctypes.c_int
        fn.argtypes = args
    return lib


def declare_glue(lib):
    """ctypes signatures of the glue ops (native/include/factrl/glue.h); floats need them declared."""
    P, F, I = ctypes.c_void_p, ctypes.c_float, ctypes.c_int
    for name, argtypes in (("frl_add", [P, P, P, P]), ("frl_axpy", [P, F, P, P]), ("frl_scale", [P, F, P, P]),
                           ("frl_fill", [P, P, F]), ("frl_cast", [P, P, P]), ("frl_gather_rows", [P, P, P, P]),
                           ("frl_scatter_rows", [P, P, P, P, I])):
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = ctypes.c_int
    return lib


def declare_layernorm_gelu(lib):
    """ctypes signatures of LayerNorm and GELU (factrl/layernorm.h, factrl/gelu.h)."""
    P, F, I = ctypes.c_void_p, ctypes.c_float, ctypes.c_int
    for name, argtypes in (("frl_layernorm_forward", [P, P, P, P, F, P, P, P]),
                           ("frl_layernorm_backward", [P, P, P, P, P, P, P, P, P, I, I]),
                           ("frl_gelu_forward", [P, P, I, P]),
                           ("frl_gelu_backward", [P, P, P, I, P, I])):
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = ctypes.c_int
    return lib


def declare_llama(lib):
    """ctypes signatures of the LLaMA-side layers: embedding, RMSNorm, RoPE, SwiGLU, linear, attention
    (factrl/{embedding,rmsnorm,rope,swiglu,linear,attention}.h); eps, base and scale are floats."""
    P, F, I = ctypes.c_void_p, ctypes.c_float, ctypes.c_int
    for name, argtypes in (("frl_embedding_forward", [P, P, P, P]),
                           ("frl_embedding_backward", [P, P, P, P, I]),
                           ("frl_rmsnorm_forward", [P, P, P, F, P, P]),
                           ("frl_rmsnorm_backward", [P, P, P, P, P, P, P, I, I]),
                           ("frl_rope", [P, P, P, F, I, P, I]),
                           ("frl_swiglu_forward", [P, P, P, P]),
                           ("frl_swiglu_backward", [P, P, P, P, P, P, I]),
                           ("frl_linear_forward", [P, P, P, P, P]),
                           ("frl_linear_backward", [P, P, P, P, P, P, P, I, I]),
                           ("frl_attention_forward", [P, P, P, P, I, F, P, P]),
                           ("frl_attention_backward", [P, P, P, P, P, P, P, I, F, P, P, P, I])):
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = ctypes.c_int
    return lib


def declare_vit(lib):
    """ctypes signatures of the ViT patch embedding (factrl/vit_embed.h) and the masked cross-entropy
    (factrl/cross_entropy.h); grad_loss is a float, so they must be declared."""
    P, F, I = ctypes.c_void_p, ctypes.c_float, ctypes.c_int
    for name, argtypes in (("frl_patchify", [P, P, I, P]), ("frl_patchify_backward", [P, P, I, P, I]),
                           ("frl_vit_embed_assemble_forward", [P, P, P, P, P]),
                           ("frl_vit_embed_assemble_backward", [P, P, P, P, P, I, I]),
                           ("frl_cross_entropy_forward", [P, P, P, P, P, P, P]),
                           ("frl_cross_entropy_backward", [P, P, P, P, P, F, P, I])):
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = ctypes.c_int
    return lib


def _dims(values):
    return (ctypes.c_int64 * max(1, len(values)))(*values)


def check(lib, status):
    if status != 0:
        raise FrlError(lib.frl_last_error().decode())


class Tensor:
    def __init__(self, ctx, handle, dtype, shape):
        self.ctx, self.handle, self.dtype, self.shape = ctx, handle, dtype, tuple(shape)

    def numpy(self):
        lib = self.ctx.lib
        n = int(np.prod(self.shape)) if self.shape else 1
        if self.dtype == I32:
            out = np.empty(n, dtype=np.int32)
            check(lib, lib.frl_tensor_read_i32(self.handle, 0, out.ctypes.data, n))
        else:
            out = np.empty(n, dtype=np.float32)
            check(lib, lib.frl_tensor_read_f32(self.handle, 0, out.ctypes.data, n))
        return out.reshape(self.shape)

    def _view(self, status, h, dtype=None):
        check(self.ctx.lib, status)
        t = Tensor.wrap(self.ctx, h, self.dtype if dtype is None else dtype)
        self.ctx.tensors.append(t)  # closed before its storage's owner (Ctx.close goes in reverse)
        return t

    @staticmethod
    def wrap(ctx, h, dtype):
        dims = (ctypes.c_int64 * 4)()
        check(ctx.lib, ctx.lib.frl_tensor_shape(h, dims))
        nd = ctypes.c_int()
        check(ctx.lib, ctx.lib.frl_tensor_ndim(h, ctypes.byref(nd)))
        return Tensor(ctx, h, dtype, [dims[i] for i in range(nd.value)])

    def reshape(self, *shape):
        h = ctypes.c_void_p()
        return self._view(self.ctx.lib.frl_tensor_reshape(self.handle, len(shape), _dims(shape), ctypes.byref(h)), h)

    def narrow(self, dim, start, length):
        h = ctypes.c_void_p()
        return self._view(self.ctx.lib.frl_tensor_narrow(self.handle, dim, start, length, ctypes.byref(h)), h)

    def view(self, elem_offset, shape, strides):
        h = ctypes.c_void_p()
        return self._view(self.ctx.lib.frl_tensor_view(self.handle, elem_offset, len(shape), _dims(shape),
                                                       _dims(strides), ctypes.byref(h)), h)

    def strides(self):
        out = (ctypes.c_int64 * 4)()
        check(self.ctx.lib, self.ctx.lib.frl_tensor_strides(self.handle, out))
        return tuple(out[i] for i in range(len(self.shape)))

    def close(self):
        if self.handle:
            check(self.ctx.lib, self.ctx.lib.frl_tensor_destroy(self.handle))
            self.handle = None


class Arena:
    """An activation arena (factrl/view.h): allocate() hands out views, reset() invalidates them."""

    def __init__(self, ctx, capacity_bytes):
        self.ctx, h = ctx, ctypes.c_void_p()
        check(ctx.lib, ctx.lib.frl_arena_create(ctx.handle, capacity_bytes, ctypes.byref(h)))
        self.handle = h

    def allocate(self, shape, dtype=F32):
        h = ctypes.c_void_p()
        check(self.ctx.lib, self.ctx.lib.frl_arena_allocate(self.handle, dtype, len(shape), _dims(shape),
                                                            ctypes.byref(h)))
        t = Tensor(self.ctx, h, dtype, shape)
        self.ctx.tensors.append(t)
        return t

    def reset(self):
        check(self.ctx.lib, self.ctx.lib.frl_arena_reset(self.handle))

    def close(self):
        if self.handle:
            check(self.ctx.lib, self.ctx.lib.frl_arena_destroy(self.handle))
            self.handle = None


class Blob:
    """A parameter blob: entries = [(name, dtype, shape), ...]; blob[name] is a borrowed Tensor."""

    def __init__(self, ctx, entries=None, like=None):
        self.ctx, h = ctx, ctypes.c_void_p()
        if like is not None:
            check(ctx.lib, ctx.lib.frl_blob_create_like(like.handle, ctypes.byref(h)))
        else:
            n = len(entries)
            names = (ctypes.c_char_p * max(1, n))(*[e[0].encode() for e in entries])
            dtypes = (ctypes.c_int * max(1, n))(*[e[1] for e in entries])
            ndims = (ctypes.c_int * max(1, n))(*[len(e[2]) for e in entries])
            shapes = (ctypes.c_int64 * max(1, 4 * n))()
            for i, e in enumerate(entries):
                for d, v in enumerate(e[2]):
                    shapes[4 * i + d] = v
            check(ctx.lib, ctx.lib.frl_blob_create(ctx.handle, n, names, dtypes, ndims, shapes, ctypes.byref(h)))
        self.handle = h

    def __getitem__(self, name):
        h = ctypes.c_void_p()
        check(self.ctx.lib, self.ctx.lib.frl_blob_tensor(self.handle, name.encode(), ctypes.byref(h)))
        dt = ctypes.c_int()
        check(self.ctx.lib, self.ctx.lib.frl_tensor_dtype(h, ctypes.byref(dt)))
        return Tensor.wrap(self.ctx, h, dt.value)  # borrowed: never close it

    def like(self):
        return Blob(self.ctx, like=self)

    def close(self):
        if self.handle:
            check(self.ctx.lib, self.ctx.lib.frl_blob_destroy(self.handle))
            self.handle = None


class Ctx:
    def __init__(self, lib, backend, device=0):
        self.lib = lib
        h = ctypes.c_void_p()
        check(lib, lib.frl_ctx_create(backend, device, ctypes.byref(h)))
        self.handle = h
        name = ctypes.c_char_p()
        check(lib, lib.frl_ctx_device_name(h, ctypes.byref(name)))
        self.name = name.value.decode()
        self.tensors = []

    def empty(self, shape, dtype=F32):
        dims = (ctypes.c_int64 * max(1, len(shape)))(*shape)
        h = ctypes.c_void_p()
        check(self.lib, self.lib.frl_tensor_create(self.handle, dtype, len(shape), dims, ctypes.byref(h)))
        t = Tensor(self, h, dtype, shape)
        self.tensors.append(t)
        return t

    def tensor(self, array, dtype=None):
        array = np.ascontiguousarray(array)
        if dtype is None:
            dtype = I32 if array.dtype.kind in "iu" else F32
        t = self.empty(array.shape, dtype)
        if dtype == I32:
            a = array.astype(np.int32, copy=False).ravel()
            check(self.lib, self.lib.frl_tensor_write_i32(t.handle, 0, a.ctypes.data, a.size))
        else:
            a = array.astype(np.float32, copy=False).ravel()
            check(self.lib, self.lib.frl_tensor_write_f32(t.handle, 0, a.ctypes.data, a.size))
        return t

    def sync(self):
        check(self.lib, self.lib.frl_ctx_synchronize(self.handle))

    def bytes_in_use(self):
        out = ctypes.c_int64()
        check(self.lib, self.lib.frl_ctx_bytes_in_use(self.handle, ctypes.byref(out)))
        return out.value

    def close(self):
        for t in reversed(self.tensors):  # views before the tensors that own their storage
            t.close()
        self.tensors = []
        if self.handle:
            check(self.lib, self.lib.frl_ctx_destroy(self.handle))
            self.handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def time_it(fn, sync, warmup=3, iters=20):
    """Median wall time in ms of fn() over iters runs, with sync() fencing each run."""
    import time
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times))

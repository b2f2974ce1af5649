"""ctypes binding of the FactRL C API (native/include/factrl.h) for the GPU machine, which has
Python + PyTorch but no Java. Used by the GPU checks (CUDA kernel vs CPU reference) and the GPU
benchmarks (our kernels beside PyTorch, same process, same GPU).

Usage:
    lib = frl.load("build-gpu/libfactrl.so")
    with frl.Ctx(lib, frl.CUDA) as gpu, frl.Ctx(lib, frl.CPU) as cpu:
        x = gpu.tensor(numpy_array, dtype=frl.BF16)   # uploads, converting to bf16
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
    for name in ("frl_tensor_write_f32", "frl_tensor_read_f32", "frl_tensor_write_i32", "frl_tensor_read_i32"):
        getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64]
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

    def close(self):
        if self.handle:
            check(self.ctx.lib, self.ctx.lib.frl_tensor_destroy(self.handle))
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

    def close(self):
        for t in self.tensors:
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

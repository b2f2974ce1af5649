"""GPU checks of the CUDA backend's core (kernels/backend_cuda.cu): the device-side error flag, the
stream-ordered memory pool, uploads through pinned staging, and no host synchronisation inside ops.

check(lib):
  - error flag: a bad token id in frl_token_logprobs returns FRL_OK (no sync in the call); the next
    frl_ctx_synchronize fails naming the op, 'actions' and the row; a host read (frl_tensor_read_f32)
    is a sync point too; after a report the record is clear (the next sync succeeds). GAE's mask and
    the reward head's end_index are checked the same way in gae_gpu.py / pooling_gpu.py.
  - pool: frl_ctx_bytes_in_use after 1000 create/destroy cycles of a 64x64 tensor equals its value
    after the first cycle (tensor bytes + the pool's cached bytes: nothing leaks, nothing grows).
  - no sync: with ~50 ms of GPU work queued, 200 cycles of create + upload + destroy take far less
    host time than the queued work (one synchronising call would wait for all of it).
  - uploads: one host buffer overwritten right after each upload (small ones and a 12 MiB one that
    crosses the 4 MiB staging slots) — every tensor must hold what the buffer held at its upload.
bench(lib): host cost per call (us) of create+destroy of a 64x64 tensor and of a 1x1 upload.
"""
import ctypes
import time

import numpy as np

import frl

P = ctypes.c_void_p


def _bind(lib):
    lib.frl_ctx_bytes_in_use.argtypes = [P, ctypes.POINTER(ctypes.c_int64)]
    lib.frl_ctx_bytes_in_use.restype = ctypes.c_int
    lib.frl_token_logprobs.argtypes = [P] * 12
    lib.frl_token_logprobs.restype = ctypes.c_int
    lib.frl_built_with_cublas.restype = ctypes.c_int


def _bytes(lib, ctx):
    v = ctypes.c_int64()
    frl.check(lib, lib.frl_ctx_bytes_in_use(ctx.handle, ctypes.byref(v)))
    return v.value


def _row(name, ok, **extra):
    return dict({"name": name, "max_abs_err": 0.0, "tol": 0.0, "ok": bool(ok)}, **extra)


def _create_destroy(lib, ctx, shape=(64, 64), dtype=frl.F32, data=None):
    dims = (ctypes.c_int64 * len(shape))(*shape)
    h = ctypes.c_void_p()
    frl.check(lib, lib.frl_tensor_create(ctx.handle, dtype, len(shape), dims, ctypes.byref(h)))
    if data is not None:
        frl.check(lib, lib.frl_tensor_write_f32(h, 0, data.ctypes.data, data.size))
    frl.check(lib, lib.frl_tensor_destroy(h))


def _error_flag_rows(lib, gpu):
    rows = []
    T, V = 5, 50
    p = gpu.tensor(np.zeros((T, V), np.float32), frl.BF16)
    a = gpu.tensor(np.array([0, 1, 2, 77, 3], np.int32))
    out = gpu.empty((T,), frl.F32)
    status = lib.frl_token_logprobs(gpu.handle, p.handle, None, a.handle, None, out.handle, None, None, None, None,
                                    None, None)
    try:
        gpu.sync()
        msg = "no error at the sync"
    except frl.FrlError as e:
        msg = str(e)
    rows.append(_row("core: bad token id -> FRL_OK from the call, error at frl_ctx_synchronize naming op, "
                     "argument, row", status == 0 and "frl_token_logprobs" in msg and "'actions'" in msg
                     and "row 3" in msg and "77" in msg, message=msg))
    try:
        gpu.sync()
        ok, msg = True, ""
    except frl.FrlError as e:
        ok, msg = False, str(e)
    rows.append(_row("core: the error record is cleared once reported", ok, message=msg))
    status = lib.frl_token_logprobs(gpu.handle, p.handle, None, a.handle, None, out.handle, None, None, None, None,
                                    None, None)
    try:
        out.numpy()
        msg = "no error at the read"
    except frl.FrlError as e:
        msg = str(e)
    rows.append(_row("core: a host read is a sync point (reports the flag)", status == 0 and "'actions'" in msg,
                     message=msg))
    return rows


def _pool_rows(lib, gpu):
    rows = []
    gpu.sync()
    _create_destroy(lib, gpu)
    gpu.sync()
    first = _bytes(lib, gpu)
    for _ in range(1000):
        _create_destroy(lib, gpu)
    gpu.sync()
    after = _bytes(lib, gpu)
    rows.append(_row(f"core: bytes_in_use stable over 1000 create/destroy cycles ({first} -> {after})",
                     after == first, bytes_first=first, bytes_after=after))
    return rows


def _no_sync_rows(lib, gpu):
    import lora_gpu
    lora_gpu._bind(lib)
    N = K = M = 4096
    x = gpu.empty((N, K), frl.BF16)
    W = gpu.empty((M, K), frl.BF16)
    y = gpu.empty((N, M), frl.BF16)

    def queue(n):
        for _ in range(n):
            lora_gpu.forward(lib, gpu, x, W, None, None, 1.0, 0, y, None)

    queue(2)
    gpu.sync()
    reps = 1
    while True:  # enough queued work to be measured: >= 50 ms
        t0 = time.perf_counter()
        queue(reps)
        gpu.sync()
        t_work = time.perf_counter() - t0
        if t_work >= 0.05 or reps >= 4096:
            break
        reps *= 2
    data = np.arange(4096, dtype=np.float32)
    queue(reps)
    t0 = time.perf_counter()
    for _ in range(200):
        _create_destroy(lib, gpu, data=data)
    t_loop = time.perf_counter() - t0
    gpu.sync()
    return [_row(f"core: 200 create+upload+destroy with {t_work * 1e3:.1f} ms of GPU work queued took "
                 f"{t_loop * 1e3:.2f} ms of host time (no sync inside)", t_loop < 0.5 * t_work,
                 queued_ms=t_work * 1e3, loop_ms=t_loop * 1e3)]


def _upload_rows(lib, gpu):
    buf = np.empty(3 * 1024 * 1024, np.float32)  # 12 MiB: crosses the 4 MiB staging slots
    small, want = [], []
    for i in range(20):
        buf[:1000] = np.arange(1000, dtype=np.float32) + 1000 * i
        t = gpu.empty((1000,), frl.F32)
        frl.check(lib, lib.frl_tensor_write_f32(t.handle, 0, buf.ctypes.data, 1000))
        small.append(t)
        want.append(buf[:1000].copy())
        buf[:1000] = -1.0  # the caller reuses its buffer at once
    buf[:] = np.arange(buf.size, dtype=np.float32)
    big = gpu.empty((buf.size,), frl.F32)
    frl.check(lib, lib.frl_tensor_write_f32(big.handle, 0, buf.ctypes.data, buf.size))
    big_want = buf.copy()
    buf[:] = -2.0
    err = max(float(np.abs(t.numpy() - w).max()) for t, w in zip(small, want))
    err = max(err, float(np.abs(big.numpy() - big_want).max()))
    return [_row("core: uploads copy the caller's buffer before returning (20 small + one 12 MiB)", err == 0.0,
                 max_abs_err=err)]


def check(lib):
    _bind(lib)
    rows = [_row(f"core: cuBLASLt built in = {lib.frl_built_with_cublas()} (informational)", True)]
    with frl.Ctx(lib, frl.CUDA) as gpu:
        rows += _error_flag_rows(lib, gpu)
        rows += _pool_rows(lib, gpu)
        rows += _upload_rows(lib, gpu)
        rows += _no_sync_rows(lib, gpu)
    return rows


def cpu_check(lib):
    """No GPU: the CUDA context is refused cleanly (or created, where a GPU exists), and the CPU
    context's bytes_in_use is stable over 1000 create/destroy cycles."""
    _bind(lib)
    rows = []
    h = ctypes.c_void_p()
    status = lib.frl_ctx_create(frl.CUDA, 0, ctypes.byref(h))
    msg = lib.frl_last_error().decode() if status != 0 else ""
    if status == 0:
        frl.check(lib, lib.frl_ctx_destroy(h))
    rows.append(_row(f"core: CUDA context created, or refused with a message ({msg[:90]})", status == 0 or msg,
                     message=msg))
    with frl.Ctx(lib, frl.CPU) as cpu:
        _create_destroy(lib, cpu)
        first = _bytes(lib, cpu)
        for _ in range(1000):
            _create_destroy(lib, cpu, data=np.zeros(4096, np.float32))
        after = _bytes(lib, cpu)
    rows.append(_row(f"core cpu: bytes_in_use stable over 1000 create/destroy cycles ({first} -> {after})",
                     first == after))
    return rows


def bench(lib):
    _bind(lib)
    rows = []
    data = np.zeros(1, np.float32)
    with frl.Ctx(lib, frl.CUDA) as gpu:
        one = gpu.empty((1,), frl.F32)
        for name, fn in (("create+destroy 64x64 f32", lambda: _create_destroy(lib, gpu)),
                         ("upload 1 float", lambda: lib.frl_tensor_write_f32(one.handle, 0, data.ctypes.data, 1))):
            for _ in range(100):
                fn()
            n = 10000
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            host_us = (time.perf_counter() - t0) / n * 1e6
            gpu.sync()
            rows.append({"name": f"core per-call host cost (python ctypes incl.): {name}", "ours_us": host_us})
    return rows

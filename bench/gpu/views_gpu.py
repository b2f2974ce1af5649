"""GPU visit for views, parameter blobs and activation arenas (factrl/view.h; see run.py).

check(lib): on a CUDA context, against numpy (exact: I/O moves bits; bf16 values are chosen exactly
representable): strided reads/writes/fill_zero of narrow views (per-run host<->device copies),
copy between a strided CUDA view and a CPU tensor, blob entries and arena tensors round-tripping,
the arena's stale-view error naming the argument, bytes_in_use counting the blob once, the LoRA
kernel on a contiguous row range (same bits as on a copy) and its rejection of a column slice of x
naming 'x' (the CUDA kernels read x densely). bench(lib): nothing (views move no data).

Run locally without a GPU: `python3 bench/gpu/views_gpu.py [libfactrl.so]` runs the same checks on
a CPU context (no torch needed).
"""
import ctypes
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frl  # noqa: E402


def _row(name, ok, detail=""):
    return {"name": f"views: {name}", "max_abs_err": 0.0 if ok else float("nan"), "tol": 0.0, "ok": bool(ok),
            "detail": detail}


def _error_of(lib, fn):
    try:
        fn()
    except frl.FrlError as e:
        return str(e)
    return ""


def check(lib, backend=frl.CUDA):
    P = ctypes.c_void_p
    lib.frl_tensor_fill_zero.argtypes = [P]
    lib.frl_tensor_fill_zero.restype = ctypes.c_int
    lib.frl_tensor_copy.argtypes = [P, P]
    lib.frl_tensor_copy.restype = ctypes.c_int
    lib.frl_lora_forward.argtypes = [P, P, P, P, P, ctypes.c_float, ctypes.c_int, P, P]
    lib.frl_lora_forward.restype = ctypes.c_int
    rows = []
    rng = np.random.default_rng(7)
    with frl.Ctx(lib, backend) as dev, frl.Ctx(lib, frl.CPU) as cpu:
        base_bytes = dev.bytes_in_use()
        for dtype, name in ((frl.F32, "f32"), (frl.BF16, "bf16")):
            a = (rng.integers(-64, 64, size=(6, 10)) / 8).astype(np.float32)  # exact in bf16
            t = dev.tensor(a, dtype=dtype)
            cols = t.narrow(1, 3, 4)
            rows.append(_row(f"{name} read of a column slice", np.array_equal(cols.numpy(), a[:, 3:7])))
            fresh = (rng.integers(-64, 64, size=(6, 4)) / 8).astype(np.float32)
            check_w = lib.frl_tensor_write_f32(cols.handle, 0, fresh.ctypes.data, fresh.size)
            a2 = a.copy()
            a2[:, 3:7] = fresh
            rows.append(_row(f"{name} write through a column slice", check_w == 0 and np.array_equal(t.numpy(), a2)))
            frl.check(lib, lib.frl_tensor_fill_zero(cols.handle))
            a2[:, 3:7] = 0
            rows.append(_row(f"{name} fill_zero of a column slice", np.array_equal(t.numpy(), a2)))
            host = cpu.empty((6, 4), dtype)
            a2[:, 3:7] = fresh
            frl.check(lib, lib.frl_tensor_write_f32(cols.handle, 0, fresh.ctypes.data, fresh.size))
            frl.check(lib, lib.frl_tensor_copy(host.handle, cols.handle))
            rows.append(_row(f"{name} copy strided device view -> host tensor", np.array_equal(host.numpy(), fresh)))
            r = t.reshape(3, 20)
            rows.append(_row(f"{name} reshape", np.array_equal(r.numpy(), a2.reshape(3, 20))))
        blob = frl.Blob(dev, [("w", frl.F32, (5, 3)), ("b", frl.BF16, (7,))])
        w = rng.standard_normal((5, 3)).astype(np.float32)
        frl.check(lib, lib.frl_tensor_write_f32(blob["w"].handle, 0, w.ctypes.data, w.size))
        rows.append(_row("blob entry round trip", np.array_equal(blob["w"].numpy(), w)))
        rows.append(_row("bytes_in_use counts the blob once (128 B) beside the tensors",
                         dev.bytes_in_use() - base_bytes >= 128))
        arena = frl.Arena(dev, 1024)
        x = arena.allocate((4, 8))
        v = rng.standard_normal((4, 8)).astype(np.float32)
        frl.check(lib, lib.frl_tensor_write_f32(x.handle, 0, v.ctypes.data, v.size))
        rows.append(_row("arena tensor round trip", np.array_equal(x.numpy(), v)))
        arena.reset()
        msg = _error_of(lib, x.numpy)
        rows.append(_row("arena: stale view rejected naming the argument", "argument 'tensor'" in msg and "reset" in msg,
                         msg))
        # LoRA on a row range (contiguous) vs on a copy; a column slice of x is rejected on CUDA.
        N, K, M = 12, 16, 8
        xs = rng.standard_normal((2 * N, K)).astype(np.float32)
        W = dev.tensor(rng.standard_normal((M, K)).astype(np.float32))
        xall = dev.tensor(xs)
        xr = xall.narrow(0, N, N)
        xc = dev.tensor(xs[N:])
        y1, y2 = dev.empty((N, M)), dev.empty((N, M))
        frl.check(lib, lib.frl_lora_forward(dev.handle, xr.handle, W.handle, None, None, 0.0, 0, y1.handle, None))
        frl.check(lib, lib.frl_lora_forward(dev.handle, xc.handle, W.handle, None, None, 0.0, 0, y2.handle, None))
        rows.append(_row("lora on a row range == on a copy", np.array_equal(y1.numpy(), y2.numpy())))
        wide = dev.tensor(rng.standard_normal((N, K + 4)).astype(np.float32))
        xcol = wide.narrow(1, 2, K)
        status = lib.frl_lora_forward(dev.handle, xcol.handle, W.handle, None, None, 0.0, 0, y1.handle, None)
        msg = lib.frl_last_error().decode() if status else ""
        if backend == frl.CUDA:
            rows.append(_row("lora rejects a column slice of x on CUDA naming 'x'",
                             status != 0 and "argument 'x'" in msg, msg))
        else:
            rows.append(_row("lora takes a column slice of x on the CPU", status == 0, msg))
        x.close()  # the arena's view, before the arena; Ctx.close closes the rest, views first
        arena.close()
        blob.close()
    return rows


def bench(lib):
    return []


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "build-gpu/libfactrl.so"
    results = check(frl.load(path), backend=frl.CPU)
    for r in results:
        print(("ok  " if r["ok"] else "FAIL") + " " + r["name"] + ("  " + r["detail"] if r["detail"] else ""))
    sys.exit(0 if all(r["ok"] for r in results) else 1)

"""GPU visit for the glue ops (native/include/factrl/glue.h): add, axpy, scale, fill, cast, row
gather / scatter.

check(lib): every op on CUDA against the CPU reference, f32 and bf16, small odd sizes and one large
            one (grid-stride loops), repeated scatter indices, and the device error flag of an
            out-of-range index (no error from the op, the next frl_ctx_synchronize names 'idx' and
            the smallest bad entry, then the flag is clear). Tolerances:
              f32 add, scale, fill, cast, gather, scatter (both modes): exact (the same IEEE
                operations in the same order; the scatter-add loops i ascending on both backends);
              f32 axpy: 1e-6 · max|ref| (the GPU may fuse y + a·x into one FMA, the CPU need not);
              bf16 add / axpy / scale: the CPU computes in f32 on the bf16-rounded inputs and the
                result is rounded once: 2^-8 · max|ref| (one bf16 ulp at the largest value);
              bf16 scatter-add: the GPU rounds to bf16 after each add, so k adds into one row
                (k = the largest repeat count, + 1 for the prefill) give k · 2^-8 · max|ref|.
bench(lib): y = a + b on 2^26 bf16 elements, and gathering 8192 rows of 4096 bf16 from 32768,
            ours beside PyTorch (out= preallocated) in the same process, 20 calls between syncs;
            ratio = torch_ms / ours_ms, and our achieved GB/s.

Run through bench/gpu/run.py. Without a GPU, `python3 bench/gpu/glue_gpu.py --cpu-selftest LIB`
runs the same comparisons with a second CPU context as the "device" (F32 arithmetic only; the
bf16 cast, fill, gather and scatter still run): it checks the ctypes plumbing and this script.
"""
import ctypes
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frl  # noqa: E402

BF16_ULP = 2.0 ** -8


def bf16_round(x):
    """Round-to-nearest-even to bf16, returned as float32 (what a bf16 tensor stores)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32).reshape(np.shape(x))


def _row(name, err, tol, ok=None):
    err = float(err)
    return {"name": name, "max_abs_err": err, "tol": float(tol),
            "ok": bool(err <= tol) if ok is None else bool(ok)}


def _err(got, want):
    if want.size == 0:
        return 0.0
    if not np.array_equal(np.isnan(got), np.isnan(want)):
        return float("inf")
    finite = ~np.isnan(want)
    if not np.array_equal(np.isinf(got[finite]), np.isinf(want[finite])):
        return float("inf")
    both = finite & ~np.isinf(want)
    return float(np.max(np.abs(got[both] - want[both]))) if both.any() else 0.0


def _scale(want):
    finite = want[np.isfinite(want)]
    return float(np.max(np.abs(finite))) if finite.size else 0.0


def _elementwise(lib, ctx, dt, a, b, alpha):
    """{add, axpy, scale, scale in place} on ctx in dtype dt; numpy results."""
    ta, tb = ctx.tensor(a, dt), ctx.tensor(b, dt)
    y = ctx.empty(a.shape, dt)
    out = {}
    frl.check(lib, lib.frl_add(ctx.handle, ta.handle, tb.handle, y.handle))
    out["add"] = y.numpy()
    ty = ctx.tensor(b, dt)
    frl.check(lib, lib.frl_axpy(ctx.handle, alpha, ta.handle, ty.handle))
    out["axpy"] = ty.numpy()
    frl.check(lib, lib.frl_scale(ctx.handle, alpha, ta.handle, y.handle))
    out["scale"] = y.numpy()
    frl.check(lib, lib.frl_scale(ctx.handle, alpha, ta.handle, ta.handle))  # in place
    out["scale in place"] = ta.numpy()
    return out


def _check_elementwise(lib, dev, cpu, dtypes, rng):
    rows = []
    alpha = -0.3711
    for n in (1, 7, 257, 100003, 3 * 2 ** 20 + 5):
        a = (rng.standard_normal(n) * 3).astype(np.float32)
        b = (rng.standard_normal(n) * 5).astype(np.float32)
        for dt in dtypes:
            name = "bf16" if dt == frl.BF16 else "f32"
            av, bv = (bf16_round(a), bf16_round(b)) if dt == frl.BF16 else (a, b)
            want = _elementwise(lib, cpu, frl.F32, av, bv, alpha)
            got = _elementwise(lib, dev, dt, av, bv, alpha)
            for op in want:
                ref = bf16_round(want[op]) if dt == frl.BF16 else want[op]
                if dt == frl.BF16:
                    tol = BF16_ULP * _scale(ref)
                elif op == "axpy":
                    tol = 1e-6 * _scale(ref)
                else:
                    tol = 0.0
                rows.append(_row(f"glue {op} {name} n={n}", _err(got[op], ref), tol))
    return rows


def _check_fill_cast(lib, dev, cpu, rng):
    rows = []
    for dt in (frl.F32, frl.BF16):
        name = "bf16" if dt == frl.BF16 else "f32"
        for value in (1.0 + 2.0 ** -8, -3.25, float("inf"), 1e-40):
            t = dev.empty((3, 1001), dt)
            frl.check(lib, lib.frl_fill(dev.handle, t.handle, value))
            want = np.full((3, 1001), value, np.float32)
            want = bf16_round(want) if dt == frl.BF16 else want
            rows.append(_row(f"glue fill {name} value={value!r}", _err(t.numpy(), want), 0.0))
    # f32 -> bf16 -> f32: ties, extremes, NaN, inf, subnormals and random values; the device's
    # rounding must equal the CPU's (frl::f32_to_bf16) bit for bit.
    special = np.array([0.0, -0.0, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 3.3895314e38, 3.4028235e38,
                        1e-45, 1e-40, np.inf, -np.inf, np.nan], np.float32)
    x = np.concatenate([special, (rng.standard_normal(200003) * 1e3).astype(np.float32)])
    for ctx_name, ctx in (("cpu", cpu), ("dev", dev)):
        src = ctx.tensor(x, frl.F32)
        h = ctx.empty(x.shape, frl.BF16)
        back = ctx.empty(x.shape, frl.F32)
        frl.check(lib, lib.frl_cast(ctx.handle, src.handle, h.handle))
        frl.check(lib, lib.frl_cast(ctx.handle, h.handle, back.handle))
        if ctx_name == "cpu":
            want_h, want_back = h.numpy(), back.numpy()
        else:
            rows.append(_row("glue cast f32->bf16 (bitwise vs CPU)", _err(h.numpy(), want_h), 0.0))
            rows.append(_row("glue cast bf16->f32 (exact)", _err(back.numpy(), want_back), 0.0))
            rows.append(_row("glue cast f32->bf16 vs numpy RNE", _err(h.numpy(), bf16_round(x)), 0.0))
    return rows


def _rows_case(rng, R, n, width, repeats):
    idx = rng.integers(0, R, size=n).astype(np.int32) if repeats else rng.permutation(R)[:n].astype(np.int32)
    return idx


def _check_rows(lib, dev, cpu, acc_dtypes, rng):
    rows = []
    for (R, n, width) in ((5, 3, 1), (50, 37, 33), (4099, 1000, 257), (64, 200, 4096)):
        shape_tail = (width,)
        src = rng.standard_normal((R,) + shape_tail).astype(np.float32)
        # gather (repeats allowed), every dtype by bits
        idx = _rows_case(rng, R, n, width, repeats=True)
        for dt in (frl.F32, frl.BF16, frl.I32):
            name = {frl.F32: "f32", frl.BF16: "bf16", frl.I32: "i32"}[dt]
            sv = (src * 1000).astype(np.int32) if dt == frl.I32 else src
            outs = []
            for ctx in (cpu, dev):
                ts, ti = ctx.tensor(sv, dt), ctx.tensor(idx)
                td = ctx.empty((n, width), dt)
                frl.check(lib, lib.frl_gather_rows(ctx.handle, ts.handle, ti.handle, td.handle))
                outs.append(td.numpy().astype(np.float64))
            rows.append(_row(f"glue gather {name} R={R} n={n} w={width}", _err(outs[1], outs[0]), 0.0))
        # scatter, overwrite: distinct indices (repeats keep an unspecified row on CUDA)
        if n <= R:
            didx = _rows_case(rng, R, n, width, repeats=False)
            part = rng.standard_normal((n, width)).astype(np.float32)
            g0 = rng.standard_normal((R, width)).astype(np.float32)
            for dt in (frl.F32, frl.BF16):
                name = "bf16" if dt == frl.BF16 else "f32"
                outs = []
                for ctx in (cpu, dev):
                    ts, ti, td = ctx.tensor(part, dt), ctx.tensor(didx), ctx.tensor(g0, dt)
                    frl.check(lib, lib.frl_scatter_rows(ctx.handle, ts.handle, ti.handle, td.handle, 0))
                    outs.append(td.numpy())
                rows.append(_row(f"glue scatter {name} R={R} n={n} w={width}", _err(outs[1], outs[0]), 0.0))
        # scatter, accumulate: repeated indices, onto a prefill G0
        part = rng.standard_normal((n, width)).astype(np.float32)
        g0 = rng.standard_normal((R, width)).astype(np.float32)
        k = int(np.max(np.bincount(idx, minlength=R))) + 1
        for dt in acc_dtypes:
            name = "bf16" if dt == frl.BF16 else "f32"
            pv, gv = (bf16_round(part), bf16_round(g0)) if dt == frl.BF16 else (part, g0)
            ts, ti, td = cpu.tensor(pv), cpu.tensor(idx), cpu.tensor(gv)
            frl.check(lib, lib.frl_scatter_rows(cpu.handle, ts.handle, ti.handle, td.handle, 1))
            want = td.numpy()
            ts, ti, td = dev.tensor(pv, dt), dev.tensor(idx), dev.tensor(gv, dt)
            frl.check(lib, lib.frl_scatter_rows(dev.handle, ts.handle, ti.handle, td.handle, 1))
            tol = k * BF16_ULP * _scale(want) if dt == frl.BF16 else 0.0
            rows.append(_row(f"glue scatter-add {name} R={R} n={n} w={width} max repeats={k - 1}",
                             _err(td.numpy(), want), tol))
    # empty: n = 0 rows
    for ctx in (cpu, dev):
        ts, ti, td = ctx.empty((0, 4)), ctx.empty((0,), frl.I32), ctx.empty((3, 4))
        frl.check(lib, lib.frl_scatter_rows(ctx.handle, ts.handle, ti.handle, td.handle, 1))
        frl.check(lib, lib.frl_gather_rows(ctx.handle, td.handle, ti.handle, ts.handle))
    rows.append(_row("glue gather/scatter with n = 0", 0.0, 0.0))
    return rows


def _check_bad_index(lib, dev):
    """On CUDA: the op returns OK, the next sync fails naming 'idx', the one after is clean."""
    rows = []
    src = dev.tensor(np.zeros((4, 8), np.float32))
    bad = dev.tensor(np.array([1, 9, 2], np.int32))
    dst = dev.tensor(np.ones((3, 8), np.float32))
    status = lib.frl_gather_rows(dev.handle, src.handle, bad.handle, dst.handle)
    first = lib.frl_ctx_synchronize(dev.handle)
    msg = lib.frl_last_error().decode() if first != 0 else ""
    second = lib.frl_ctx_synchronize(dev.handle)
    rows.append(_row("glue gather bad idx: op OK, sync names idx[1] = 9, then clear", 0.0, 0.0,
                     ok=status == 0 and first != 0 and "'idx'" in msg and "idx[1] = 9" in msg
                     and "frl_gather_rows" in msg and second == 0))
    neg = dev.tensor(np.array([-1, 0, 1], np.int32))
    status = lib.frl_scatter_rows(dev.handle, dst.handle, neg.handle, src.handle, 1)
    first = lib.frl_ctx_synchronize(dev.handle)
    msg = lib.frl_last_error().decode() if first != 0 else ""
    rows.append(_row("glue scatter bad idx: sync names idx[0] = -1", 0.0, 0.0,
                     ok=status == 0 and first != 0 and "idx[0] = -1" in msg and "frl_scatter_rows" in msg))
    frl.check(lib, lib.frl_ctx_synchronize(dev.handle))
    return rows


def check(lib, device_backend=frl.CUDA):
    frl.declare_glue(lib)
    rng = np.random.default_rng(0)
    rows = []
    on_gpu = device_backend == frl.CUDA
    float_dtypes = (frl.F32, frl.BF16) if on_gpu else (frl.F32,)
    with frl.Ctx(lib, device_backend) as dev, frl.Ctx(lib, frl.CPU) as cpu:
        rows += _check_elementwise(lib, dev, cpu, float_dtypes, rng)
        rows += _check_fill_cast(lib, dev, cpu, rng)
        rows += _check_rows(lib, dev, cpu, float_dtypes, rng)
        if on_gpu:
            rows += _check_bad_index(lib, dev)
    return rows


# ---- benchmarks --------------------------------------------------------------------------------

REPS = 20  # calls between two syncs: a sync (which also reads the device error flag) is not per op


def _ms_per_call(fn, sync):
    def loop():
        for _ in range(REPS):
            fn()
    return frl.time_it(loop, sync) / REPS


def bench(lib):
    import torch
    frl.declare_glue(lib)
    rows = []
    dev = torch.device("cuda")
    tsync = torch.cuda.synchronize
    with frl.Ctx(lib, frl.CUDA) as gpu:
        # y = a + b, 2^26 bf16 elements (384 MiB moved per call)
        n = 2 ** 26
        a, b = gpu.empty((n,), frl.BF16), gpu.empty((n,), frl.BF16)
        y = gpu.empty((n,), frl.BF16)
        frl.check(lib, lib.frl_fill(gpu.handle, a.handle, 1.5))
        frl.check(lib, lib.frl_fill(gpu.handle, b.handle, -0.25))
        ta = torch.full((n,), 1.5, device=dev, dtype=torch.bfloat16)
        tb = torch.full((n,), -0.25, device=dev, dtype=torch.bfloat16)
        ty = torch.empty_like(ta)

        def ours_add():
            frl.check(lib, lib.frl_add(gpu.handle, a.handle, b.handle, y.handle))

        ours = _ms_per_call(ours_add, gpu.sync)
        theirs = _ms_per_call(lambda: torch.add(ta, tb, out=ty), tsync)
        rows.append({"name": "glue add bf16 n=2^26", "ours_ms": ours, "torch_ms": theirs, "ratio": theirs / ours,
                     "ours_GBps": 3 * 2 * n / ours / 1e6})
        # gather 8192 rows of 4096 bf16 from 32768 rows (a minibatch take)
        R, m, d = 32768, 8192, 4096
        src = gpu.empty((R, d), frl.BF16)
        frl.check(lib, lib.frl_fill(gpu.handle, src.handle, 0.5))
        idx_np = np.random.default_rng(1).integers(0, R, size=m).astype(np.int32)
        idx = gpu.tensor(idx_np)
        dst = gpu.empty((m, d), frl.BF16)
        tsrc = torch.full((R, d), 0.5, device=dev, dtype=torch.bfloat16)
        tidx = torch.from_numpy(idx_np.astype(np.int64)).to(dev)
        tdst = torch.empty((m, d), device=dev, dtype=torch.bfloat16)

        def ours_gather():
            frl.check(lib, lib.frl_gather_rows(gpu.handle, src.handle, idx.handle, dst.handle))

        ours = _ms_per_call(ours_gather, gpu.sync)
        theirs = _ms_per_call(lambda: torch.index_select(tsrc, 0, tidx, out=tdst), tsync)
        rows.append({"name": "glue gather_rows bf16 8192 of 32768 x 4096", "ours_ms": ours, "torch_ms": theirs,
                     "ratio": theirs / ours, "ours_GBps": 2 * 2 * m * d / ours / 1e6})
        gpu.sync()
    return rows


def cpu_check(lib):
    """run.py --dry-run: the same comparisons with a second CPU context as the device."""
    return check(lib, device_backend=frl.CPU)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--cpu-selftest":
        lib = frl.load(sys.argv[2])
        bad = [r for r in check(lib, device_backend=frl.CPU) if not r["ok"]]
        for r in bad:
            print("FAILED", r)
        print("cpu self-test:", "ok" if not bad else f"{len(bad)} failed")
        sys.exit(1 if bad else 0)
    print(__doc__)

"""GPU visit for the ViT layers LayerNorm (native/include/factrl/layernorm.h) and GELU (gelu.h).

check(lib): each layer on CUDA against the CPU reference (the CPU computes in f32 on the same,
            for bf16 already rounded, inputs), f32 and bf16 storage, small odd shapes and large
            ones (grid-stride / many-row launches):
              LayerNorm: y, mean, rstd, dx, dw, db; dx ACCUMULATE with params OVERWRITE and the
                reverse onto a random prefill G0; dx alone; y = x in place; N = 0 rows.
              GELU erf and tanh: y, dx (OVERWRITE and ACCUMULATE onto G0), y = x in place.
            Tolerances, elementwise |got − want| <= atol + rtol·|want|, s = max|want| of the output:
              f32 LayerNorm: atol 1e-5·max(1, s), rtol 1e-4 (length-d and length-N sums in another
                order; one rsqrtf);
              f32 GELU: atol 5e-6, rtol 1e-5 (device erff/tanhf and fast-math __expf against libm:
                a few ulp; 1 + erf cancels for x << 0, so ½|x|·(a few ulp of 1) absolute, |x| <= 15);
              bf16 (outputs rounded once to bf16 on both sides): rtol 2^-7 (two bf16 ulps, one for
                the rounding and one for an f32 difference that crosses a rounding boundary) with
                atol 2^-7·1e-2·s (values near 0 whose ulp is tiny); mean and rstd stay f32
                (rtol 1e-4 as f32).
bench(lib): LayerNorm forward and backward on [8192, 1024] bf16 and GELU (tanh) forward and
            backward on 2^26 bf16 elements, ours beside PyTorch (F.layer_norm / F.gelu forward,
            aten native_layer_norm_backward / gelu_backward) in the same process, 20 calls between
            syncs; ratio = torch_ms / ours_ms.

Run through bench/gpu/run.py; `run.py --dry-run --only layers_gpu` runs cpu_check (the same
comparisons with a second CPU context as the "device", F32 only) to check the plumbing.
"""
import ctypes
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frl  # noqa: E402

GELU_ERF, GELU_TANH = 0, 1
OVERWRITE, ACCUMULATE = 0, 1
BF16_REL = 2.0 ** -7


def bf16_round(x):
    """Round-to-nearest-even to bf16, returned as float32 (what a bf16 tensor stores)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32).reshape(np.shape(x))


def _compare(name, got, want, atol, rtol):
    got = np.asarray(got, np.float64).ravel()
    want = np.asarray(want, np.float64).ravel()
    if want.size == 0:
        return {"name": name, "max_abs_err": 0.0, "tol": 0.0, "ok": True}
    d = np.abs(got - want)
    finite = np.all(np.isfinite(got)) and np.all(np.isfinite(want))
    ok = finite and bool(np.all(d <= atol + rtol * np.abs(want)))
    return {"name": name, "max_abs_err": float(np.max(d)) if finite else float("inf"),
            "tol": float(atol + rtol * np.max(np.abs(want))), "ok": ok}


def _scale(a):
    return float(np.max(np.abs(a))) if np.size(a) else 0.0


def _tols(dt, kind, s):
    """(atol, rtol) for an output of magnitude s (see the module docstring)."""
    if kind == "stat" or dt == frl.F32:
        return (5e-6, 1e-5) if kind == "gelu" else (1e-5 * max(1.0, s), 1e-4)
    return BF16_REL * 1e-2 * s, BF16_REL


# ---- LayerNorm ---------------------------------------------------------------------------------

def _ln_run(lib, ctx, dt, x, w, b, g, g0, eps):
    """Every LayerNorm output on ctx in storage dtype dt; a dict of numpy arrays."""
    N, d = x.shape
    tx, tw, tb, tg = ctx.tensor(x, dt), ctx.tensor(w, dt), ctx.tensor(b, dt), ctx.tensor(g, dt)
    y, mean, rstd = ctx.empty((N, d), dt), ctx.empty((N,)), ctx.empty((N,))
    frl.check(lib, lib.frl_layernorm_forward(ctx.handle, tx.handle, tw.handle, tb.handle, eps, y.handle,
                                             mean.handle, rstd.handle))
    out = {"y": y.numpy(), "mean": mean.numpy(), "rstd": rstd.numpy()}
    dx, dw, db = ctx.empty((N, d), dt), ctx.empty((d,), dt), ctx.empty((d,), dt)
    frl.check(lib, lib.frl_layernorm_backward(ctx.handle, tx.handle, tw.handle, mean.handle, rstd.handle, tg.handle,
                                              dx.handle, dw.handle, db.handle, OVERWRITE, OVERWRITE))
    out.update(dx=dx.numpy(), dw=dw.numpy(), db=db.numpy())
    # dx accumulates onto G0, params overwrite; then the reverse
    dx, dw, db = ctx.tensor(g0[0], dt), ctx.tensor(g0[1], dt), ctx.tensor(g0[2], dt)
    frl.check(lib, lib.frl_layernorm_backward(ctx.handle, tx.handle, tw.handle, mean.handle, rstd.handle, tg.handle,
                                              dx.handle, dw.handle, db.handle, ACCUMULATE, OVERWRITE))
    out.update({"dx acc": dx.numpy(), "dw (dx acc)": dw.numpy(), "db (dx acc)": db.numpy()})
    dx, dw, db = ctx.tensor(g0[0], dt), ctx.tensor(g0[1], dt), ctx.tensor(g0[2], dt)
    frl.check(lib, lib.frl_layernorm_backward(ctx.handle, tx.handle, tw.handle, mean.handle, rstd.handle, tg.handle,
                                              dx.handle, dw.handle, db.handle, OVERWRITE, ACCUMULATE))
    out.update({"dx (param acc)": dx.numpy(), "dw acc": dw.numpy(), "db acc": db.numpy()})
    # dx alone (dw, db null)
    dx = ctx.empty((N, d), dt)
    frl.check(lib, lib.frl_layernorm_backward(ctx.handle, tx.handle, tw.handle, mean.handle, rstd.handle, tg.handle,
                                              dx.handle, None, None, OVERWRITE, OVERWRITE))
    out["dx alone"] = dx.numpy()
    # in place, no statistics
    frl.check(lib, lib.frl_layernorm_forward(ctx.handle, tx.handle, tw.handle, tb.handle, eps, tx.handle, None, None))
    out["y in place"] = tx.numpy()
    return out


def _check_layernorm(lib, dev, cpu, dtypes, rng):
    rows = []
    eps = 1e-5
    for (N, d) in ((1, 1), (3, 5), (7, 64), (4, 257), (33, 300), (2, 1000), (517, 768), (4096, 1024)):
        x = (rng.standard_normal((N, d)) * 2 + 3).astype(np.float32)  # |mean| > std: a one-pass variance shows
        w = (rng.standard_normal(d) * 1.5).astype(np.float32)
        b = rng.standard_normal(d).astype(np.float32)
        g = rng.standard_normal((N, d)).astype(np.float32)
        g0 = [(rng.standard_normal(s) * 3).astype(np.float32) for s in ((N, d), (d,), (d,))]
        for dt in dtypes:
            name = "bf16" if dt == frl.BF16 else "f32"
            r = bf16_round if dt == frl.BF16 else (lambda a: a)
            xv, wv, bv, gv, g0v = r(x), r(w), r(b), r(g), [r(a) for a in g0]
            want = _ln_run(lib, cpu, frl.F32, xv, wv, bv, gv, g0v, eps)
            got = _ln_run(lib, dev, dt, xv, wv, bv, gv, g0v, eps)
            for key in want:
                stat = key in ("mean", "rstd")
                ref = want[key] if stat else r(want[key])
                atol, rtol = _tols(dt, "stat" if stat else "ln", _scale(ref))
                rows.append(_compare(f"layernorm {key} {name} N={N} d={d}", got[key], ref, atol, rtol))
    # N = 0 rows: dw, db overwritten with zeros, nothing else touched
    for ctx_name, ctx in (("cpu", cpu), ("dev", dev)):
        x, dy, dx = ctx.empty((0, 4)), ctx.empty((0, 4)), ctx.empty((0, 4))
        w, m = ctx.tensor(np.ones(4, np.float32)), ctx.empty((0,))
        dw = ctx.tensor(np.full(4, 7.0, np.float32))
        frl.check(lib, lib.frl_layernorm_backward(ctx.handle, x.handle, w.handle, m.handle, m.handle, dy.handle,
                                                  dx.handle, dw.handle, None, OVERWRITE, OVERWRITE))
        if ctx_name == "dev":
            rows.append(_compare("layernorm N=0: dw overwritten with 0", dw.numpy(), np.zeros(4), 0.0, 0.0))
    return rows


# ---- GELU --------------------------------------------------------------------------------------

def _gelu_run(lib, ctx, dt, approx, x, g, g0):
    tx, tg = ctx.tensor(x, dt), ctx.tensor(g, dt)
    y, dx = ctx.empty(x.shape, dt), ctx.empty(x.shape, dt)
    frl.check(lib, lib.frl_gelu_forward(ctx.handle, tx.handle, approx, y.handle))
    frl.check(lib, lib.frl_gelu_backward(ctx.handle, tx.handle, tg.handle, approx, dx.handle, OVERWRITE))
    out = {"y": y.numpy(), "dx": dx.numpy()}
    acc = ctx.tensor(g0, dt)
    frl.check(lib, lib.frl_gelu_backward(ctx.handle, tx.handle, tg.handle, approx, acc.handle, ACCUMULATE))
    out["dx acc"] = acc.numpy()
    frl.check(lib, lib.frl_gelu_forward(ctx.handle, tx.handle, approx, tx.handle))
    out["y in place"] = tx.numpy()
    return out


def _check_gelu(lib, dev, cpu, dtypes, rng):
    rows = []
    for n in (1, 7, 257, 100003, 3 * 2 ** 20 + 5):
        x = (rng.standard_normal(n) * 3).astype(np.float32)
        g = rng.standard_normal(n).astype(np.float32)
        g0 = (rng.standard_normal(n) * 3).astype(np.float32)
        for approx, aname in ((GELU_ERF, "erf"), (GELU_TANH, "tanh")):
            for dt in dtypes:
                name = "bf16" if dt == frl.BF16 else "f32"
                r = bf16_round if dt == frl.BF16 else (lambda a: a)
                xv, gv, g0v = r(x), r(g), r(g0)
                want = _gelu_run(lib, cpu, frl.F32, approx, xv, gv, g0v)
                got = _gelu_run(lib, dev, dt, approx, xv, gv, g0v)
                for key in want:
                    ref = r(want[key])
                    atol, rtol = _tols(dt, "gelu", _scale(ref))
                    if dt == frl.F32 and key == "dx acc":
                        atol = 5e-6 * max(1.0, _scale(ref))  # G0 + v: one more f32 rounding at |G0|
                    rows.append(_compare(f"gelu {aname} {key} {name} n={n}", got[key], ref, atol, rtol))
    return rows


def check(lib, device_backend=frl.CUDA):
    frl.declare_layernorm_gelu(lib)
    rng = np.random.default_rng(0)
    dtypes = (frl.F32, frl.BF16) if device_backend == frl.CUDA else (frl.F32,)
    rows = []
    with frl.Ctx(lib, device_backend) as dev, frl.Ctx(lib, frl.CPU) as cpu:
        rows += _check_layernorm(lib, dev, cpu, dtypes, rng)
        rows += _check_gelu(lib, dev, cpu, dtypes, rng)
        dev.sync()
    return rows


def cpu_check(lib):
    """run.py --dry-run: the same comparisons with a second CPU context as the device (F32 only)."""
    return check(lib, device_backend=frl.CPU)


# ---- benchmarks --------------------------------------------------------------------------------

REPS = 20


def _ms_per_call(fn, sync):
    def loop():
        for _ in range(REPS):
            fn()
    return frl.time_it(loop, sync) / REPS


def bench(lib):
    import torch
    import torch.nn.functional as F
    frl.declare_layernorm_gelu(lib)
    frl.declare_glue(lib)
    rows = []
    cuda = torch.device("cuda")
    tsync = torch.cuda.synchronize
    with frl.Ctx(lib, frl.CUDA) as gpu:
        # LayerNorm [8192, 1024] bf16
        N, d = 8192, 1024
        rng = np.random.default_rng(1)
        xn = rng.standard_normal((N, d)).astype(np.float32)
        wn = rng.standard_normal(d).astype(np.float32)
        x, w, b = gpu.tensor(xn, frl.BF16), gpu.tensor(wn, frl.BF16), gpu.tensor(wn, frl.BF16)
        y, dx, dw, db = gpu.empty((N, d), frl.BF16), gpu.empty((N, d), frl.BF16), gpu.empty((d,), frl.BF16), \
            gpu.empty((d,), frl.BF16)
        mean, rstd = gpu.empty((N,)), gpu.empty((N,))
        tx = torch.from_numpy(xn).to(cuda, torch.bfloat16)
        tw = torch.from_numpy(wn).to(cuda, torch.bfloat16)
        tb = tw.clone()

        def ours_fwd():
            frl.check(lib, lib.frl_layernorm_forward(gpu.handle, x.handle, w.handle, b.handle, 1e-5, y.handle,
                                                     mean.handle, rstd.handle))

        def ours_bwd():
            frl.check(lib, lib.frl_layernorm_backward(gpu.handle, x.handle, w.handle, mean.handle, rstd.handle,
                                                      y.handle, dx.handle, dw.handle, db.handle, 0, 0))

        ours_fwd()
        ours = _ms_per_call(ours_fwd, gpu.sync)
        theirs = _ms_per_call(lambda: F.layer_norm(tx, (d,), tw, tb, 1e-5), tsync)
        rows.append({"name": f"layernorm forward bf16 [{N}, {d}]", "ours_ms": ours, "torch_ms": theirs,
                     "ratio": theirs / ours, "ours_GBps": 2 * 2 * N * d / ours / 1e6})
        _, tmean, trstd = torch.ops.aten.native_layer_norm(tx, [d], tw, tb, 1e-5)
        ty = F.layer_norm(tx, (d,), tw, tb, 1e-5)
        ours = _ms_per_call(ours_bwd, gpu.sync)
        theirs = _ms_per_call(lambda: torch.ops.aten.native_layer_norm_backward(
            ty, tx, [d], tmean, trstd, tw, tb, [True, True, True]), tsync)
        rows.append({"name": f"layernorm backward (dx, dw, db) bf16 [{N}, {d}]", "ours_ms": ours,
                     "torch_ms": theirs, "ratio": theirs / ours, "ours_GBps": 3 * 2 * N * d / ours / 1e6})
        # GELU tanh, 2^26 bf16
        n = 2 ** 26
        gx, gy, gd = gpu.empty((n,), frl.BF16), gpu.empty((n,), frl.BF16), gpu.empty((n,), frl.BF16)
        frl.check(lib, lib.frl_fill(gpu.handle, gx.handle, 0.75))
        tgx = torch.full((n,), 0.75, device=cuda, dtype=torch.bfloat16)
        tgy = torch.empty_like(tgx)

        def ours_gelu():
            frl.check(lib, lib.frl_gelu_forward(gpu.handle, gx.handle, GELU_TANH, gy.handle))

        def ours_gelu_bwd():
            frl.check(lib, lib.frl_gelu_backward(gpu.handle, gx.handle, gy.handle, GELU_TANH, gd.handle, 0))

        ours = _ms_per_call(ours_gelu, gpu.sync)
        theirs = _ms_per_call(lambda: F.gelu(tgx, approximate="tanh"), tsync)
        rows.append({"name": "gelu tanh forward bf16 n=2^26", "ours_ms": ours, "torch_ms": theirs,
                     "ratio": theirs / ours, "ours_GBps": 2 * 2 * n / ours / 1e6})
        ours = _ms_per_call(ours_gelu_bwd, gpu.sync)
        theirs = _ms_per_call(lambda: torch.ops.aten.gelu_backward(tgy, tgx, approximate="tanh"), tsync)
        rows.append({"name": "gelu tanh backward bf16 n=2^26", "ours_ms": ours, "torch_ms": theirs,
                     "ratio": theirs / ours, "ours_GBps": 3 * 2 * n / ours / 1e6})
        gpu.sync()
    return rows


if __name__ == "__main__":
    print(__doc__)

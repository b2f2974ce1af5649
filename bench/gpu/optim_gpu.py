"""GPU visit for the optimizer kernels (native/include/factrl/optim.h): the AdamW step and the
fixed-order sum of squares behind global-norm clipping.

check(lib): CUDA against the CPU reference, BITWISE (tol 0): the header promises that both backends
            compute the same bits (adamw: fp32 round-to-nearest intrinsics in the same order, no
            FMA; sum of squares: the same chunk / lane / tree order in double, x^2 exact). Sizes
            from 1 to 3·2^22 + 5 (odd tails, many chunks), several steps (t = 1, 7, 1000), weight
            decay on and off, a clipping factor below 1, and AdamW applied 3 times in a row on both.
bench(lib): AdamW over 2^26 f32 elements (a 67M-parameter trainable set, flat blob) beside
            torch.optim.AdamW(fused=True) and (foreach=True) on one tensor of the same size; the
            sum of squares beside torch.linalg.vector_norm on the same data. ratio = torch_ms / ours_ms.

Without a GPU: `python3 bench/gpu/optim_gpu.py --cpu-selftest LIB` (or run.py --dry-run) checks the
CPU library against a numpy emulation of the same fp32 / double operations, also bitwise.
"""
import ctypes
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frl  # noqa: E402

CHUNK, LANES = 4096, 256
SIZES = [1, 255, 4097, 100_003, 3 * 2 ** 22 + 5]
# (lr, beta1, beta2, eps, weight_decay, step, grad_scale)
SETTINGS = [(1e-3, 0.9, 0.999, 1e-8, 0.01, 1, 1.0), (3e-5, 0.9, 0.95, 1e-6, 0.0, 7, 0.37),
            (2e-2, 0.8, 0.999, 1e-8, 0.1, 1000, 1.0)]


def declare(lib):
    P, D = ctypes.c_void_p, ctypes.c_double
    lib.frl_adamw_step.argtypes = [P, P, P, P, P, D, D, D, D, D, ctypes.c_int64, ctypes.c_float]
    lib.frl_adamw_step.restype = ctypes.c_int
    lib.frl_sum_squares.argtypes = [P, P, ctypes.POINTER(ctypes.c_double)]
    lib.frl_sum_squares.restype = ctypes.c_int
    return lib


def _row(name, err, tol=0.0):
    return {"name": name, "max_abs_err": float(err), "tol": float(tol), "ok": bool(err <= tol)}


def _diff(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
        return float("inf")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def _state(rng, n):
    p = rng.standard_normal(n).astype(np.float32)
    g = rng.standard_normal(n).astype(np.float32)
    m = (0.1 * rng.standard_normal(n)).astype(np.float32)
    v = (0.01 * rng.random(n)).astype(np.float32)
    return p, g, m, v


def run_adamw(lib, ctx, p, g, m, v, setting, repeat=1):
    lr, b1, b2, eps, wd, step, scale = setting
    tp, tg, tm, tv = (ctx.tensor(a) for a in (p, g, m, v))
    try:
        for r in range(repeat):
            frl.check(lib, lib.frl_adamw_step(ctx.handle, tp.handle, tg.handle, tm.handle, tv.handle,
                                              lr, b1, b2, eps, wd, step + r, scale))
        return tp.numpy(), tm.numpy(), tv.numpy()
    finally:
        for t in (tp, tg, tm, tv):
            t.close()
        ctx.tensors = [t for t in ctx.tensors if t not in (tp, tg, tm, tv)]


def numpy_adamw(p, g, m, v, setting, repeat=1):
    """The header's order in numpy float32 (IEEE, correctly rounded, no FMA): bitwise the reference."""
    lr, b1, b2, eps, wd, step, scale = setting
    f = np.float32
    p, m, v = p.copy(), m.copy(), v.copy()
    for r in range(repeat):
        t = step + r
        bias1, bias2 = 1.0 - b1 ** t, 1.0 - b2 ** t
        gi = g * f(scale)
        p = p * f(1.0 - lr * wd)
        m = m * f(b1) + f(1.0 - b1) * gi
        v = v * f(b2) + f(1.0 - b2) * gi * gi
        denom = np.sqrt(v) / f(math.sqrt(bias2)) + f(eps)
        p = p + f(-(lr / bias1)) * m / denom
    return p, m, v


def run_sum_squares(lib, ctx, x):
    t = ctx.tensor(x)
    out = ctypes.c_double()
    try:
        frl.check(lib, lib.frl_sum_squares(ctx.handle, t.handle, ctypes.byref(out)))
        return out.value
    finally:
        t.close()
        ctx.tensors = [u for u in ctx.tensors if u is not t]


def _lanes_tree(terms):
    """terms: [rows, k * LANES] float64, zero-padded; lane l adds terms[:, l + j·LANES] for j in order."""
    rows = terms.reshape(terms.shape[0], -1, LANES)
    lane = np.zeros((terms.shape[0], LANES))
    for j in range(rows.shape[1]):
        lane = lane + rows[:, j, :]
    s = LANES // 2
    while s >= 1:
        lane[:, :s] = lane[:, :s] + lane[:, s:2 * s]
        s //= 2
    return lane[:, 0]


def numpy_sum_squares(x):
    n = x.size
    if n == 0:
        return 0.0
    chunks = -(-n // CHUNK)
    sq = np.zeros(chunks * CHUNK)
    sq[:n] = x.astype(np.float64) ** 2  # zeros added to a lane change nothing (x + 0 = x)
    partial = _lanes_tree(sq.reshape(chunks, CHUNK))
    padded = np.zeros(-(-chunks // LANES) * LANES)
    padded[:chunks] = partial
    return float(_lanes_tree(padded.reshape(1, -1))[0])


def _compare(lib, dev, ref, label):
    """dev against ref (a CPU context, or None for the numpy emulation)."""
    rng = np.random.default_rng(0)
    rows = []
    for n in SIZES:
        p, g, m, v = _state(rng, n)
        for k, setting in enumerate(SETTINGS):
            repeat = 3 if k == 0 else 1
            got = run_adamw(lib, dev, p, g, m, v, setting, repeat)
            want = numpy_adamw(p, g, m, v, setting, repeat) if ref is None else run_adamw(lib, ref, p, g, m, v,
                                                                                          setting, repeat)
            err = max(_diff(a, b) for a, b in zip(got, want))
            rows.append(_row(f"adamw {label} n={n} t={setting[5]} wd={setting[4]} scale={setting[6]} x{repeat}", err))
        x = (rng.standard_normal(n) * 3).astype(np.float32)
        got = run_sum_squares(lib, dev, x)
        want = numpy_sum_squares(x) if ref is None else run_sum_squares(lib, ref, x)
        rows.append(_row(f"sum_squares {label} n={n}", abs(got - want)))
    return rows


def check(lib):
    declare(lib)
    with frl.Ctx(lib, frl.CUDA) as gpu, frl.Ctx(lib, frl.CPU) as cpu:
        return _compare(lib, gpu, cpu, "cuda-vs-cpu")


def cpu_check(lib):
    """run.py --dry-run: the CPU library against the numpy emulation (bitwise)."""
    declare(lib)
    with frl.Ctx(lib, frl.CPU) as cpu:
        return _compare(lib, cpu, None, "cpu-vs-numpy")


def bench(lib):
    import torch
    declare(lib)
    rows = []
    n = 2 ** 26
    rng = np.random.default_rng(1)
    p, g, m, v = (a[:n] for a in _state(rng, n))
    setting = SETTINGS[0]
    lr, b1, b2, eps, wd, _, _ = setting
    with frl.Ctx(lib, frl.CUDA) as gpu:
        tp, tg, tm, tv = (gpu.tensor(a) for a in (p, g, m, v))
        step = [1]

        def ours():
            frl.check(lib, lib.frl_adamw_step(gpu.handle, tp.handle, tg.handle, tm.handle, tv.handle,
                                              lr, b1, b2, eps, wd, step[0], 1.0))
            step[0] += 1

        ours_ms = frl.time_it(ours, gpu.sync)
        out = ctypes.c_double()
        sum_ms = frl.time_it(lambda: frl.check(lib, lib.frl_sum_squares(gpu.handle, tg.handle, ctypes.byref(out))),
                             gpu.sync)
        for mode in ("fused", "foreach"):
            w = torch.nn.Parameter(torch.from_numpy(p).cuda())
            w.grad = torch.from_numpy(g).cuda()
            opt = torch.optim.AdamW([w], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd, **{mode: True})
            theirs = frl.time_it(opt.step, torch.cuda.synchronize)
            rows.append({"name": f"adamw f32 n=2^26 vs torch {mode}", "ours_ms": ours_ms, "torch_ms": theirs,
                         "ratio": theirs / ours_ms, "ours_GBps": 7 * 4 * n / ours_ms / 1e6})
            del opt, w
        tgrad = torch.from_numpy(g).cuda()
        theirs = frl.time_it(lambda: torch.linalg.vector_norm(tgrad).item(), torch.cuda.synchronize)
        rows.append({"name": "sum_squares f32 n=2^26 (+ host read) vs torch vector_norm().item()", "ours_ms": sum_ms,
                     "torch_ms": theirs, "ratio": theirs / sum_ms, "ours_GBps": 4 * n / sum_ms / 1e6})
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--cpu-selftest":
        lib = frl.load(sys.argv[2])
        rows = cpu_check(lib)
        bad = [r for r in rows if not r["ok"]]
        for r in bad:
            print("FAILED", r)
        print("cpu self-test:", "ok" if not bad else f"{len(bad)} failed", f"({len(rows)} rows)")
        sys.exit(1 if bad else 0)
    print(__doc__)

"""GPU visit for the LLaMA-side layers: token embedding, RMSNorm, RoPE, SwiGLU, the dense linear
layer and attention (native/include/factrl/{embedding,rmsnorm,rope,swiglu,linear,attention}.h).

check(lib): each layer on CUDA against the CPU reference through the C API (the CPU computes in
            f32 on the same, for bf16 already rounded, inputs), f32 and bf16 storage, small odd
            shapes and large ones (grid-stride launches, split-K, many rows):
              embedding: forward; backward OVERWRITE and ACCUMULATE onto G0 with many repeats of a
                few ids (long runs) and unused ids; bit-exact (tolerance 0: same summation order,
                one rounding), twice with the same bits; a bad id (forward and backward): the op
                returns OK, the next sync names 'ids' and the first bad entry, then is clear.
              RMSNorm: y, rstd, dx, dw; dx ACCUMULATE with dw OVERWRITE and the reverse onto G0;
                dx alone; dw alone; y = x in place; N = 0 rows; dw twice with the same bits.
              RoPE: forward, inverse (the backward), ACCUMULATE onto G0, in place; positions up to
                65k with offsets; bases 1e4 and 5e5; a negative position through the sync.
              SwiGLU: out, da, db (OVERWRITE and ACCUMULATE onto G0), da alone, out = a in place;
                |a| up to 100 (σ saturates).
              linear: y with and without bias, dx, dW, db (OVERWRITE and ACCUMULATE onto G0), each
                output alone, column-slice views of x, y, dy, dx; dW and db twice with the same bits.
              attention (causal and not, D = 0 too): out, lse; dq, dk, dv OVERWRITE and ACCUMULATE
                onto G0 from the same out / lse on both sides; dq alone, dv alone (the same bits as
                with all three); every output twice with the same bits.
            Tolerances, elementwise |got - want| <= atol + rtol*|want|, s = max|want| of the output:
              f32 RMSNorm: atol 1e-5*max(1, s), rtol 1e-4 (row sums in another order; rsqrtf);
              f32 SwiGLU: atol 1e-6*max(1, s), rtol 2e-5 (fast-math __expf and division: a few ulp);
              f32 RoPE: atol 2e-6*max(1, s) + 8*2^-24*|phi|*|x pair| (an fp32 angle whose theta may
                differ from libm's powf by an ulp: the CPU reference is only that exact), rtol 1e-5;
              f32 linear: atol 2e-6*sqrt(K)*max(1, s), rtol 1e-4 (GEMM in another order);
              f32 attention (and lse always): atol 1e-5*max(1, s), rtol 1e-4 (online softmax, __expf);
              bf16 (outputs rounded to bf16 on both sides): rtol 2^-7 (two bf16 ulps) with atol
                2^-7*1e-2*s; linear and RoPE atol 2^-8*s (the bias is added after the GEMM's own
                rounding, as on the CPU; a rotation's cancellation); attention gradients atol 1e-3*s
                (sums of signed terms in another order before the one rounding); rstd stays f32.
bench(lib): forward and backward of each on LLaMA-7B shapes in bf16, ours beside PyTorch in the
            same process, 20 calls between syncs; ratio = torch_ms / ours_ms.

Run through bench/gpu/run.py; `run.py --dry-run --only llama_gpu` runs cpu_check (the same
comparisons with a second CPU context as the "device", F32 only) to check the plumbing.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frl  # noqa: E402
from layers_gpu import BF16_REL, _compare, _scale, bf16_round  # noqa: E402

OVERWRITE, ACCUMULATE = 0, 1


def _ident(a):
    return a


def _rounder(dt):
    return bf16_round if dt == frl.BF16 else _ident


def _name(dt):
    return "bf16" if dt == frl.BF16 else "f32"


def _bits_equal(name, a, b):
    a, b = np.ascontiguousarray(a, np.float32), np.ascontiguousarray(b, np.float32)
    ok = a.shape == b.shape and bool(np.array_equal(a.view(np.uint32), b.view(np.uint32)))
    return {"name": name, "max_abs_err": 0.0 if ok else float("inf"), "tol": 0.0, "ok": ok}


def _compare_elementwise(name, got, want, atol, rtol):
    """_compare with atol an array of want's shape (a per-element tolerance)."""
    atol = np.broadcast_to(np.asarray(atol, np.float64), np.shape(want)).ravel()
    got = np.asarray(got, np.float64).ravel()
    want = np.asarray(want, np.float64).ravel()
    if want.size == 0:
        return {"name": name, "max_abs_err": 0.0, "tol": 0.0, "ok": True}
    d = np.abs(got - want)
    finite = bool(np.all(np.isfinite(got)) and np.all(np.isfinite(want)))
    lim = atol + rtol * np.abs(want)
    ok = finite and bool(np.all(d <= lim))
    return {"name": name, "max_abs_err": float(np.max(d)) if finite else float("inf"), "tol": float(np.max(lim)),
            "ok": ok}


def _sync_error(lib, ctx, status, needles, name):
    """The op returned status; the next sync must fail with a message holding every needle, the
    one after must succeed (the record is cleared when reported)."""
    first = lib.frl_ctx_synchronize(ctx.handle)
    msg = lib.frl_last_error().decode() if first != 0 else ""
    second = lib.frl_ctx_synchronize(ctx.handle)
    ok = status == 0 and first != 0 and all(n in msg for n in needles) and second == 0
    return {"name": name, "max_abs_err": 0.0, "tol": 0.0, "ok": ok, "message": msg}


# ---- embedding ---------------------------------------------------------------------------------

def _emb_run(lib, ctx, dt, ids, table, g, g0):
    V, d = table.shape
    tids, ttab, tg = ctx.tensor(ids), ctx.tensor(table, dt), ctx.tensor(g, dt)
    out = ctx.empty(ids.shape + (d,), dt)
    frl.check(lib, lib.frl_embedding_forward(ctx.handle, tids.handle, ttab.handle, out.handle))
    res = {"out": out.numpy()}
    dtab = ctx.tensor(np.full((V, d), 5.0, np.float32), dt)  # OVERWRITE: unused rows must become 0
    frl.check(lib, lib.frl_embedding_backward(ctx.handle, tids.handle, tg.handle, dtab.handle, OVERWRITE))
    res["dtable"] = dtab.numpy()
    frl.check(lib, lib.frl_embedding_backward(ctx.handle, tids.handle, tg.handle, dtab.handle, OVERWRITE))
    res["dtable again"] = dtab.numpy()
    acc = ctx.tensor(g0, dt)
    frl.check(lib, lib.frl_embedding_backward(ctx.handle, tids.handle, tg.handle, acc.handle, ACCUMULATE))
    res["dtable acc"] = acc.numpy()
    return res


def _check_embedding(lib, dev, cpu, dtypes, rng, on_gpu):
    rows = []
    for (shape, V, d) in (((1,), 1, 1), ((3, 5), 7, 3), ((2, 37), 50, 257), ((4, 512), 32000, 64),
                          ((8, 1024), 1000, 1024)):
        n = int(np.prod(shape))
        ids = rng.integers(0, V, size=n).astype(np.int32)
        if n > 16:
            ids[rng.random(n) < 0.3] = min(3, V - 1)  # one long run (a padding id)
            ids[rng.random(n) < 0.1] = V - 1
        ids = ids.reshape(shape)
        table = rng.standard_normal((V, d)).astype(np.float32)
        g = rng.standard_normal(shape + (d,)).astype(np.float32)
        g0 = (rng.standard_normal((V, d)) * 3).astype(np.float32)
        for dt in dtypes:
            r = _rounder(dt)
            tv, gv, g0v = r(table), r(g), r(g0)
            want = _emb_run(lib, cpu, frl.F32, ids, tv, gv, g0v)
            got = _emb_run(lib, dev, dt, ids, tv, gv, g0v)
            tag = f"{_name(dt)} ids={shape} V={V} d={d}"
            for key in ("out", "dtable", "dtable acc"):
                rows.append(_compare(f"embedding {key} {tag} (bit-exact)", got[key], r(want[key]), 0.0, 0.0))
            rows.append(_bits_equal(f"embedding dtable twice, same bits {tag}", got["dtable"], got["dtable again"]))
    if on_gpu:
        table = dev.tensor(np.zeros((4, 3), np.float32))
        ids = dev.tensor(np.array([[0, 1, 2], [4, 3, -1]], np.int32))  # flat 3 = 4 is the first bad one
        out = dev.empty((2, 3, 3))
        st = lib.frl_embedding_forward(dev.handle, ids.handle, table.handle, out.handle)
        rows.append(_sync_error(lib, dev, st, ["frl_embedding_forward", "'ids'", "ids[3]", "= 4"],
                                "embedding forward bad id: op OK, sync names 'ids' entry 3, then clear"))
        g = dev.tensor(np.ones((2, 3, 3), np.float32))
        st = lib.frl_embedding_backward(dev.handle, ids.handle, g.handle, table.handle, ACCUMULATE)
        rows.append(_sync_error(lib, dev, st, ["frl_embedding_backward", "'ids'", "ids[3]", "= 4"],
                                "embedding backward bad id: op OK, sync names 'ids' entry 3, then clear"))
    return rows


# ---- RMSNorm -----------------------------------------------------------------------------------

def _rms_run(lib, ctx, dt, x, w, g, g0, eps):
    N, d = x.shape
    tx, tw, tg = ctx.tensor(x, dt), ctx.tensor(w, dt), ctx.tensor(g, dt)
    y, rstd = ctx.empty((N, d), dt), ctx.empty((N,))
    frl.check(lib, lib.frl_rmsnorm_forward(ctx.handle, tx.handle, tw.handle, eps, y.handle, rstd.handle))
    out = {"y": y.numpy(), "rstd": rstd.numpy()}
    dx, dw = ctx.empty((N, d), dt), ctx.empty((d,), dt)
    frl.check(lib, lib.frl_rmsnorm_backward(ctx.handle, tx.handle, tw.handle, rstd.handle, tg.handle, dx.handle,
                                            dw.handle, OVERWRITE, OVERWRITE))
    out.update(dx=dx.numpy(), dw=dw.numpy())
    frl.check(lib, lib.frl_rmsnorm_backward(ctx.handle, tx.handle, tw.handle, rstd.handle, tg.handle, None,
                                            dw.handle, OVERWRITE, OVERWRITE))
    out["dw alone"] = dw.numpy()
    dx, dw = ctx.tensor(g0[0], dt), ctx.tensor(g0[1], dt)
    frl.check(lib, lib.frl_rmsnorm_backward(ctx.handle, tx.handle, tw.handle, rstd.handle, tg.handle, dx.handle,
                                            dw.handle, ACCUMULATE, OVERWRITE))
    out.update({"dx acc": dx.numpy(), "dw (dx acc)": dw.numpy()})
    dx, dw = ctx.tensor(g0[0], dt), ctx.tensor(g0[1], dt)
    frl.check(lib, lib.frl_rmsnorm_backward(ctx.handle, tx.handle, tw.handle, rstd.handle, tg.handle, dx.handle,
                                            dw.handle, OVERWRITE, ACCUMULATE))
    out.update({"dx (dw acc)": dx.numpy(), "dw acc": dw.numpy()})
    dx = ctx.empty((N, d), dt)
    frl.check(lib, lib.frl_rmsnorm_backward(ctx.handle, tx.handle, tw.handle, rstd.handle, tg.handle, dx.handle,
                                            None, OVERWRITE, OVERWRITE))
    out["dx alone"] = dx.numpy()
    frl.check(lib, lib.frl_rmsnorm_forward(ctx.handle, tx.handle, tw.handle, eps, tx.handle, None))
    out["y in place"] = tx.numpy()
    return out


def _check_rmsnorm(lib, dev, cpu, dtypes, rng):
    rows = []
    eps = 1e-6
    for (N, d) in ((1, 1), (3, 5), (7, 64), (4, 257), (33, 300), (517, 768), (4096, 4096)):
        x = (rng.standard_normal((N, d)) * 2 + 0.5).astype(np.float32)
        w = (rng.standard_normal(d) * 1.5).astype(np.float32)
        g = rng.standard_normal((N, d)).astype(np.float32)
        g0 = [(rng.standard_normal(s) * 3).astype(np.float32) for s in ((N, d), (d,))]
        for dt in dtypes:
            r = _rounder(dt)
            xv, wv, gv, g0v = r(x), r(w), r(g), [r(a) for a in g0]
            want = _rms_run(lib, cpu, frl.F32, xv, wv, gv, g0v, eps)
            got = _rms_run(lib, dev, dt, xv, wv, gv, g0v, eps)
            for key in want:
                stat = key == "rstd"
                ref = want[key] if stat else r(want[key])
                s = _scale(ref)
                atol, rtol = (1e-5 * max(1.0, s), 1e-4) if stat or dt == frl.F32 else (BF16_REL * 1e-2 * s, BF16_REL)
                rows.append(_compare(f"rmsnorm {key} {_name(dt)} N={N} d={d}", got[key], ref, atol, rtol))
            rows.append(_bits_equal(f"rmsnorm dw twice, same bits {_name(dt)} N={N} d={d}", got["dw"],
                                    got["dw alone"]))
    # N = 0 rows: dw overwritten with zeros
    x, dy, dx = dev.empty((0, 4)), dev.empty((0, 4)), dev.empty((0, 4))
    w, rstd = dev.tensor(np.ones(4, np.float32)), dev.empty((0,))
    dw = dev.tensor(np.full(4, 7.0, np.float32))
    frl.check(lib, lib.frl_rmsnorm_backward(dev.handle, x.handle, w.handle, rstd.handle, dy.handle, dx.handle,
                                            dw.handle, OVERWRITE, OVERWRITE))
    rows.append(_compare("rmsnorm N=0: dw overwritten with 0", dw.numpy(), np.zeros(4), 0.0, 0.0))
    return rows


# ---- RoPE --------------------------------------------------------------------------------------

def _rope_run(lib, ctx, dt, x, pos, base, g0):
    tx, tp = ctx.tensor(x, dt), ctx.tensor(pos)
    out = {}
    for inverse in (0, 1):
        y = ctx.empty(x.shape, dt)
        frl.check(lib, lib.frl_rope(ctx.handle, tx.handle, tp.handle, base, inverse, y.handle, OVERWRITE))
        out["inverse" if inverse else "forward"] = y.numpy()
    acc = ctx.tensor(g0, dt)
    frl.check(lib, lib.frl_rope(ctx.handle, tx.handle, tp.handle, base, 1, acc.handle, ACCUMULATE))
    out["inverse acc"] = acc.numpy()
    frl.check(lib, lib.frl_rope(ctx.handle, tx.handle, tp.handle, base, 0, tx.handle, OVERWRITE))
    out["forward in place"] = tx.numpy()
    return out


def _rope_angle_tol(x, pos, base):
    """Per element: 8 fp32 ulps of the angle phi = p*theta_i times the pair's norm (see docstring):
    theta one ulp off libm's powf moves phi by an ulp, the product's rounding by another half."""
    B, S, H, D = x.shape
    half = D // 2
    theta = (1.0 / np.power(np.float64(base), np.arange(half) * 2.0 / D))
    phi = np.abs(pos.astype(np.float64)[:, :, None, None] * theta[None, None, None, :])  # [B, S, 1, half]
    norm = np.sqrt(x[..., :half].astype(np.float64) ** 2 + x[..., half:].astype(np.float64) ** 2)
    t = 8 * 2.0 ** -24 * phi * norm
    return np.concatenate([t, t], axis=-1)


def _check_rope(lib, dev, cpu, dtypes, rng, on_gpu):
    rows = []
    for (B, S, H, D), base in (((1, 1, 1, 2), 10000.0), ((2, 3, 5, 6), 10000.0), ((2, 17, 4, 64), 500000.0),
                               ((3, 257, 8, 128), 10000.0), ((2, 1024, 32, 128), 500000.0)):
        x = rng.standard_normal((B, S, H, D)).astype(np.float32)
        pos = (np.arange(S)[None, :] + rng.integers(0, 64000, size=(B, 1))).astype(np.int32)
        g0 = (rng.standard_normal((B, S, H, D)) * 3).astype(np.float32)
        for dt in dtypes:
            r = _rounder(dt)
            xv, g0v = r(x), r(g0)
            want = _rope_run(lib, cpu, frl.F32, xv, pos, base, g0v)
            got = _rope_run(lib, dev, dt, xv, pos, base, g0v)
            angle = _rope_angle_tol(xv, pos, base)
            for key in want:
                ref = r(want[key])
                s = _scale(ref)
                if dt == frl.F32:
                    atol, rtol = 2e-6 * max(1.0, s) + angle, 1e-5
                else:
                    atol, rtol = 2.0 ** -8 * s + angle, BF16_REL
                rows.append(_compare_elementwise(f"rope {key} {_name(dt)} [{B},{S},{H},{D}] base={base:g}",
                                                 got[key], ref, atol, rtol))
    if on_gpu:
        x = dev.tensor(np.ones((2, 3, 1, 4), np.float32))
        pos = dev.tensor(np.array([[0, 1, 2], [5, -7, -1]], np.int32))  # [1][1] is the first bad one
        y = dev.empty((2, 3, 1, 4))
        st = lib.frl_rope(dev.handle, x.handle, pos.handle, 10000.0, 0, y.handle, OVERWRITE)
        rows.append(_sync_error(lib, dev, st, ["frl_rope", "'positions'", "positions[1][1] = -7"],
                                "rope negative position: op OK, sync names positions[1][1], then clear"))
    return rows


# ---- SwiGLU ------------------------------------------------------------------------------------

def _swiglu_run(lib, ctx, dt, a, b, g, g0):
    ta, tb, tg = ctx.tensor(a, dt), ctx.tensor(b, dt), ctx.tensor(g, dt)
    out = ctx.empty(a.shape, dt)
    frl.check(lib, lib.frl_swiglu_forward(ctx.handle, ta.handle, tb.handle, out.handle))
    res = {"out": out.numpy()}
    da, db = ctx.empty(a.shape, dt), ctx.empty(a.shape, dt)
    frl.check(lib, lib.frl_swiglu_backward(ctx.handle, ta.handle, tb.handle, tg.handle, da.handle, db.handle,
                                           OVERWRITE))
    res.update(da=da.numpy(), db=db.numpy())
    da, db = ctx.tensor(g0[0], dt), ctx.tensor(g0[1], dt)
    frl.check(lib, lib.frl_swiglu_backward(ctx.handle, ta.handle, tb.handle, tg.handle, da.handle, db.handle,
                                           ACCUMULATE))
    res.update({"da acc": da.numpy(), "db acc": db.numpy()})
    da = ctx.empty(a.shape, dt)
    frl.check(lib, lib.frl_swiglu_backward(ctx.handle, ta.handle, tb.handle, tg.handle, da.handle, None, OVERWRITE))
    res["da alone"] = da.numpy()
    frl.check(lib, lib.frl_swiglu_forward(ctx.handle, ta.handle, tb.handle, ta.handle))
    res["out in place"] = ta.numpy()
    return res


def _check_swiglu(lib, dev, cpu, dtypes, rng):
    rows = []
    for shape in ((1,), (3, 7), (5, 257), (100003,), (4096, 2752)):
        a = (rng.standard_normal(shape) * 4).astype(np.float32)
        a.ravel()[:4] = [-100.0, 100.0, -30.0, 0.0][: a.size]
        b = rng.standard_normal(shape).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        g0 = [(rng.standard_normal(shape) * 3).astype(np.float32) for _ in range(2)]
        for dt in dtypes:
            r = _rounder(dt)
            av, bv, gv, g0v = r(a), r(b), r(g), [r(t) for t in g0]
            want = _swiglu_run(lib, cpu, frl.F32, av, bv, gv, g0v)
            got = _swiglu_run(lib, dev, dt, av, bv, gv, g0v)
            for key in want:
                ref = r(want[key])
                s = _scale(ref)
                atol, rtol = (1e-6 * max(1.0, s), 2e-5) if dt == frl.F32 else (BF16_REL * 1e-2 * s, BF16_REL)
                rows.append(_compare(f"swiglu {key} {_name(dt)} {shape}", got[key], ref, atol, rtol))
    return rows


# ---- linear ------------------------------------------------------------------------------------

def _lin_run(lib, ctx, dt, x, W, b, g, g0, pad):
    """Every linear output on ctx; with pad > 0, x, y, dy and dx are column slices of wider buffers."""
    N, K = x.shape
    M = W.shape[0]

    def rows_of(a, width):
        if pad == 0:
            return ctx.tensor(a, dt)
        wide = np.zeros((a.shape[0], width + pad), np.float32)
        wide[:, pad // 2: pad // 2 + width] = a
        return ctx.tensor(wide, dt).narrow(1, pad // 2, width)

    tx, tW, tg = rows_of(x, K), ctx.tensor(W, dt), rows_of(g, M)
    tb = ctx.tensor(b, dt)
    out = {}
    y = rows_of(np.zeros((N, M), np.float32), M)
    frl.check(lib, lib.frl_linear_forward(ctx.handle, tx.handle, tW.handle, tb.handle, y.handle))
    out["y"] = y.numpy()
    frl.check(lib, lib.frl_linear_forward(ctx.handle, tx.handle, tW.handle, None, y.handle))
    out["y no bias"] = y.numpy()
    dx, dW, db = rows_of(np.zeros((N, K), np.float32), K), ctx.empty((M, K), dt), ctx.empty((M,), dt)
    frl.check(lib, lib.frl_linear_backward(ctx.handle, tx.handle, tW.handle, tg.handle, dx.handle, dW.handle,
                                           db.handle, OVERWRITE, OVERWRITE))
    out.update(dx=dx.numpy(), dW=dW.numpy(), db=db.numpy())
    dx, dW, db = rows_of(g0[0], K), ctx.tensor(g0[1], dt), ctx.tensor(g0[2], dt)
    frl.check(lib, lib.frl_linear_backward(ctx.handle, tx.handle, tW.handle, tg.handle, dx.handle, dW.handle,
                                           db.handle, ACCUMULATE, ACCUMULATE))
    out.update({"dx acc": dx.numpy(), "dW acc": dW.numpy(), "db acc": db.numpy()})
    dW2, db2 = ctx.empty((M, K), dt), ctx.empty((M,), dt)
    frl.check(lib, lib.frl_linear_backward(ctx.handle, tx.handle, tW.handle, tg.handle, None, dW2.handle,
                                           db2.handle, OVERWRITE, OVERWRITE))
    out.update({"dW alone": dW2.numpy(), "db alone": db2.numpy()})
    dx = rows_of(np.zeros((N, K), np.float32), K)
    frl.check(lib, lib.frl_linear_backward(ctx.handle, tx.handle, tW.handle, tg.handle, dx.handle, None, None,
                                           OVERWRITE, OVERWRITE))
    out["dx alone"] = dx.numpy()
    return out


def _check_linear(lib, dev, cpu, dtypes, rng):
    rows = []
    for (N, K, M, pad) in ((1, 1, 1, 0), (3, 5, 7, 0), (33, 64, 17, 6), (128, 256, 96, 0), (517, 768, 1000, 10),
                           (4096, 1024, 512, 0), (8, 4096, 64, 0)):
        x = rng.standard_normal((N, K)).astype(np.float32)
        W = (rng.standard_normal((M, K)) / np.sqrt(K)).astype(np.float32)
        b = rng.standard_normal(M).astype(np.float32)
        g = rng.standard_normal((N, M)).astype(np.float32)
        g0 = [(rng.standard_normal(s) * 3).astype(np.float32) for s in ((N, K), (M, K), (M,))]
        for dt in dtypes:
            r = _rounder(dt)
            xv, Wv, bv, gv, g0v = r(x), r(W), r(b), r(g), [r(a) for a in g0]
            want = _lin_run(lib, cpu, frl.F32, xv, Wv, bv, gv, g0v, 0)
            got = _lin_run(lib, dev, dt, xv, Wv, bv, gv, g0v, pad)
            red = {"y": K, "y no bias": K, "dx": M, "dx acc": M, "dx alone": M}
            for key in want:
                ref = r(want[key])
                s = _scale(ref)
                length = red.get(key, N)
                if dt == frl.F32:
                    atol, rtol = 2e-6 * np.sqrt(max(1, length)) * max(1.0, s), 1e-4
                else:
                    atol, rtol = 2.0 ** -8 * s, BF16_REL
                rows.append(_compare(f"linear {key} {_name(dt)} N={N} K={K} M={M} pad={pad}", got[key], ref,
                                     atol, rtol))
            tag = f"{_name(dt)} N={N} K={K} M={M}"
            rows.append(_bits_equal(f"linear dW twice, same bits {tag}", got["dW"], got["dW alone"]))
            rows.append(_bits_equal(f"linear db twice, same bits {tag}", got["db"], got["db alone"]))
    return rows


# ---- attention ---------------------------------------------------------------------------------

def _attn_run(lib, ctx, dt, q, k, v, dout, out_in, lse_in, causal, scale, g0):
    """The forward's out and lse; the backward from the given out_in / lse_in (the same on both sides,
    so its check does not inherit the forward's differences)."""
    B, S, H, D = q.shape
    tq, tk, tv, tg = ctx.tensor(q, dt), ctx.tensor(k, dt), ctx.tensor(v, dt), ctx.tensor(dout, dt)
    out, lse = ctx.empty(q.shape, dt), ctx.empty((B, H, S))
    frl.check(lib, lib.frl_attention_forward(ctx.handle, tq.handle, tk.handle, tv.handle, causal, scale, out.handle,
                                             lse.handle))
    res = {"out": out.numpy(), "lse": lse.numpy()}
    if out_in is None:
        return res
    to, tl = ctx.tensor(out_in, dt), ctx.tensor(lse_in)
    dq, dk, dv = ctx.empty(q.shape, dt), ctx.empty(q.shape, dt), ctx.empty(q.shape, dt)
    frl.check(lib, lib.frl_attention_backward(ctx.handle, tq.handle, tk.handle, tv.handle, to.handle, tl.handle,
                                              tg.handle, causal, scale, dq.handle, dk.handle, dv.handle, OVERWRITE))
    res.update(dq=dq.numpy(), dk=dk.numpy(), dv=dv.numpy())
    dq, dk, dv = ctx.tensor(g0[0], dt), ctx.tensor(g0[1], dt), ctx.tensor(g0[2], dt)
    frl.check(lib, lib.frl_attention_backward(ctx.handle, tq.handle, tk.handle, tv.handle, to.handle, tl.handle,
                                              tg.handle, causal, scale, dq.handle, dk.handle, dv.handle, ACCUMULATE))
    res.update({"dq acc": dq.numpy(), "dk acc": dk.numpy(), "dv acc": dv.numpy()})
    dq, dv = ctx.empty(q.shape, dt), ctx.empty(q.shape, dt)
    frl.check(lib, lib.frl_attention_backward(ctx.handle, tq.handle, tk.handle, tv.handle, to.handle, tl.handle,
                                              tg.handle, causal, scale, dq.handle, None, None, OVERWRITE))
    frl.check(lib, lib.frl_attention_backward(ctx.handle, tq.handle, tk.handle, tv.handle, to.handle, tl.handle,
                                              tg.handle, causal, scale, None, None, dv.handle, OVERWRITE))
    res.update({"dq alone": dq.numpy(), "dv alone": dv.numpy()})
    return res


def _check_attention(lib, dev, cpu, dtypes, rng):
    rows = []
    for (B, S, H, D) in ((1, 1, 1, 1), (2, 7, 3, 5), (2, 33, 4, 16), (1, 128, 2, 64), (2, 300, 4, 128),
                         (1, 5, 2, 0)):
        for causal in (1, 0):
            scale = 1.0 / np.sqrt(max(D, 1))
            q, k, v, g = [rng.standard_normal((B, S, H, D)).astype(np.float32) for _ in range(4)]
            g0 = [(rng.standard_normal((B, S, H, D)) * 3).astype(np.float32) for _ in range(3)]
            for dt in dtypes:
                r = _rounder(dt)
                qv, kv, vv, gv, g0v = r(q), r(k), r(v), r(g), [r(a) for a in g0]
                fwd = _attn_run(lib, cpu, frl.F32, qv, kv, vv, gv, None, None, causal, scale, g0v)
                out_in, lse_in = r(fwd["out"]), fwd["lse"]
                want = _attn_run(lib, cpu, frl.F32, qv, kv, vv, gv, out_in, lse_in, causal, scale, g0v)
                got = _attn_run(lib, dev, dt, qv, kv, vv, gv, out_in, lse_in, causal, scale, g0v)
                again = _attn_run(lib, dev, dt, qv, kv, vv, gv, out_in, lse_in, causal, scale, g0v)
                tag = f"{_name(dt)} [{B},{S},{H},{D}] causal={causal}"
                for key in want:
                    stat = key == "lse"
                    ref = want[key] if stat else r(want[key])
                    sc = _scale(ref)
                    if stat or dt == frl.F32:
                        atol, rtol = 1e-5 * max(1.0, sc), 1e-4
                    else:
                        atol, rtol = (BF16_REL * 1e-2 * sc if key == "out" else 1e-3 * sc), BF16_REL
                    rows.append(_compare(f"attention {key} {tag}", got[key], ref, atol, rtol))
                for key in ("out", "lse", "dq", "dk", "dv"):
                    rows.append(_bits_equal(f"attention {key} twice, same bits {tag}", got[key], again[key]))
                rows.append(_bits_equal(f"attention dq alone = dq {tag}", got["dq alone"], got["dq"]))
                rows.append(_bits_equal(f"attention dv alone = dv {tag}", got["dv alone"], got["dv"]))
    return rows


def check(lib, device_backend=frl.CUDA):
    frl.declare_llama(lib)
    rng = np.random.default_rng(0)
    on_gpu = device_backend == frl.CUDA
    dtypes = (frl.F32, frl.BF16) if on_gpu else (frl.F32,)
    rows = []
    with frl.Ctx(lib, device_backend) as dev, frl.Ctx(lib, frl.CPU) as cpu:
        rows += _check_embedding(lib, dev, cpu, dtypes, rng, on_gpu)
        rows += _check_rmsnorm(lib, dev, cpu, dtypes, rng)
        rows += _check_rope(lib, dev, cpu, dtypes, rng, on_gpu)
        rows += _check_swiglu(lib, dev, cpu, dtypes, rng)
        rows += _check_linear(lib, dev, cpu, dtypes, rng)
        rows += _check_attention(lib, dev, cpu, dtypes, rng)
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
    frl.declare_llama(lib)
    rows = []
    cuda = torch.device("cuda")
    tsync = torch.cuda.synchronize
    bf = torch.bfloat16
    rng = np.random.default_rng(1)

    def row(name, ours_fn, theirs_fn, sync):
        ours = _ms_per_call(ours_fn, sync)
        theirs = _ms_per_call(theirs_fn, tsync)
        rows.append({"name": name, "ours_ms": ours, "torch_ms": theirs, "ratio": theirs / ours})

    frl.declare_glue(lib)
    with frl.Ctx(lib, frl.CUDA) as gpu:
        c = lambda st: frl.check(lib, st)  # noqa: E731

        def fill(t, v):
            c(lib.frl_fill(gpu.handle, t.handle, v))
        # embedding: 8192 ids into [32000, 4096]
        V, d, n = 32000, 4096, 8192
        idn = rng.integers(0, V, size=n).astype(np.int32)
        ids, tab = gpu.tensor(idn), gpu.empty((V, d), frl.BF16)
        out, dtab = gpu.empty((n, d), frl.BF16), gpu.empty((V, d), frl.BF16)
        fill(tab, 0.5)
        tids = torch.from_numpy(idn).to(cuda).long()
        ttab = torch.zeros((V, d), device=cuda, dtype=bf)
        tout = torch.zeros((n, d), device=cuda, dtype=bf)
        row(f"embedding forward bf16 {n} ids, [{V}, {d}]",
            lambda: c(lib.frl_embedding_forward(gpu.handle, ids.handle, tab.handle, out.handle)),
            lambda: F.embedding(tids, ttab), gpu.sync)
        row(f"embedding backward (deterministic) bf16 {n} ids, [{V}, {d}]",
            lambda: c(lib.frl_embedding_backward(gpu.handle, ids.handle, out.handle, dtab.handle, OVERWRITE)),
            lambda: torch.ops.aten.embedding_dense_backward(tout, tids, V, -1, False), gpu.sync)
        # RMSNorm [8192, 4096]
        N = 8192
        x, w = gpu.empty((N, d), frl.BF16), gpu.empty((d,), frl.BF16)
        y, dx, dw, rstd = gpu.empty((N, d), frl.BF16), gpu.empty((N, d), frl.BF16), gpu.empty((d,), frl.BF16), \
            gpu.empty((N,))
        fill(x, 0.75)
        fill(w, 1.0)
        tx = torch.randn((N, d), device=cuda, dtype=bf)
        tw = torch.ones(d, device=cuda, dtype=bf)
        rms = getattr(F, "rms_norm", None)
        theirs_rms = (lambda: rms(tx, (d,), tw, 1e-6)) if rms else \
            (lambda: tx * torch.rsqrt(tx.float().pow(2).mean(-1, keepdim=True) + 1e-6).to(bf) * tw)
        row(f"rmsnorm forward bf16 [{N}, {d}]",
            lambda: c(lib.frl_rmsnorm_forward(gpu.handle, x.handle, w.handle, 1e-6, y.handle, rstd.handle)),
            theirs_rms, gpu.sync)
        row(f"rmsnorm backward (dx, dw) bf16 [{N}, {d}] (torch: forward only)",
            lambda: c(lib.frl_rmsnorm_backward(gpu.handle, x.handle, w.handle, rstd.handle, y.handle, dx.handle,
                                               dw.handle, OVERWRITE, OVERWRITE)),
            theirs_rms, gpu.sync)
        # RoPE [4, 2048, 32, 128]
        B, S, H, D = 4, 2048, 32, 128
        q, qo = gpu.empty((B, S, H, D), frl.BF16), gpu.empty((B, S, H, D), frl.BF16)
        fill(q, 0.5)
        pos = gpu.tensor(np.tile(np.arange(S, dtype=np.int32), (B, 1)))
        tq = torch.randn((B, S, H, D), device=cuda, dtype=bf)
        inv = 1.0 / (10000.0 ** (torch.arange(0, D, 2, device=cuda).float() / D))
        ang = torch.arange(S, device=cuda).float()[:, None] * inv[None, :]
        cos = torch.cat([ang.cos(), ang.cos()], -1)[None, :, None, :].to(bf)
        sin = torch.cat([ang.sin(), ang.sin()], -1)[None, :, None, :].to(bf)

        def theirs_rope():
            x1, x2 = tq[..., : D // 2], tq[..., D // 2:]
            return tq * cos + torch.cat([-x2, x1], -1) * sin

        row(f"rope forward bf16 [{B}, {S}, {H}, {D}] (torch: cached cos/sin, HF style)",
            lambda: c(lib.frl_rope(gpu.handle, q.handle, pos.handle, 10000.0, 0, qo.handle, OVERWRITE)),
            theirs_rope, gpu.sync)
        # SwiGLU [8192, 11008]
        F_ = 11008
        a, bb, o = gpu.empty((N, F_), frl.BF16), gpu.empty((N, F_), frl.BF16), gpu.empty((N, F_), frl.BF16)
        da, db = gpu.empty((N, F_), frl.BF16), gpu.empty((N, F_), frl.BF16)
        fill(a, 0.5)
        fill(bb, -0.25)
        ta, tb = torch.randn((N, F_), device=cuda, dtype=bf), torch.randn((N, F_), device=cuda, dtype=bf)
        row(f"swiglu forward bf16 [{N}, {F_}]",
            lambda: c(lib.frl_swiglu_forward(gpu.handle, a.handle, bb.handle, o.handle)),
            lambda: F.silu(ta) * tb, gpu.sync)
        row(f"swiglu backward bf16 [{N}, {F_}] (torch: autograd.grad of silu(a)*b)",
            lambda: c(lib.frl_swiglu_backward(gpu.handle, a.handle, bb.handle, o.handle, da.handle, db.handle,
                                              OVERWRITE)),
            lambda: torch.autograd.grad((F.silu(ta.requires_grad_()) * tb.requires_grad_()), (ta, tb), tb),
            gpu.sync)
        # linear [8192, 4096] x [4096, 4096]^T + b
        K, M = 4096, 4096
        lx, lW, lb = gpu.empty((N, K), frl.BF16), gpu.empty((M, K), frl.BF16), gpu.empty((M,), frl.BF16)
        ly, ldx, ldW, ldb = gpu.empty((N, M), frl.BF16), gpu.empty((N, K), frl.BF16), gpu.empty((M, K), frl.BF16), \
            gpu.empty((M,), frl.BF16)
        fill(lx, 0.5)
        fill(lW, 0.01)
        fill(lb, 0.1)
        tlx, tlW = torch.randn((N, K), device=cuda, dtype=bf), torch.randn((M, K), device=cuda, dtype=bf)
        tlb, tly = torch.randn(M, device=cuda, dtype=bf), torch.randn((N, M), device=cuda, dtype=bf)
        row(f"linear forward bf16 [{N}, {K}] x [{M}, {K}]^T + b",
            lambda: c(lib.frl_linear_forward(gpu.handle, lx.handle, lW.handle, lb.handle, ly.handle)),
            lambda: F.linear(tlx, tlW, tlb), gpu.sync)
        row(f"linear backward (dx, dW, db) bf16 [{N}, {K}] x [{M}, {K}]^T (torch: two matmuls and a sum)",
            lambda: c(lib.frl_linear_backward(gpu.handle, lx.handle, lW.handle, ly.handle, ldx.handle, ldW.handle,
                                              ldb.handle, OVERWRITE, OVERWRITE)),
            lambda: (tly @ tlW, tly.t() @ tlx, tly.sum(0)), gpu.sync)
        # attention, causal [1, 1024, 32, 128] (ours: the first, CUDA-core version; torch: flash SDPA)
        B, S, H, D = 1, 1024, 32, 128
        aq, ao = gpu.empty((B, S, H, D), frl.BF16), gpu.empty((B, S, H, D), frl.BF16)
        adq, adk, adv = [gpu.empty((B, S, H, D), frl.BF16) for _ in range(3)]
        alse = gpu.empty((B, H, S))
        fill(aq, 0.1)
        tq4 = torch.randn((B, H, S, D), device=cuda, dtype=bf)
        row(f"attention forward causal bf16 [{B}, {S}, {H}, {D}] (torch: SDPA)",
            lambda: c(lib.frl_attention_forward(gpu.handle, aq.handle, aq.handle, aq.handle, 1, D ** -0.5, ao.handle,
                                                alse.handle)),
            lambda: F.scaled_dot_product_attention(tq4, tq4, tq4, is_causal=True), gpu.sync)
        row(f"attention backward (dq, dk, dv) causal bf16 [{B}, {S}, {H}, {D}] (torch: SDPA forward only)",
            lambda: c(lib.frl_attention_backward(gpu.handle, aq.handle, aq.handle, aq.handle, ao.handle, alse.handle,
                                                 ao.handle, 1, D ** -0.5, adq.handle, adk.handle, adv.handle,
                                                 OVERWRITE)),
            lambda: F.scaled_dot_product_attention(tq4, tq4, tq4, is_causal=True), gpu.sync)
        gpu.sync()
    return rows


if __name__ == "__main__":
    print(__doc__)

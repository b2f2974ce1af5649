"""GPU visit for the GAE kernel (see run.py): check() compares the CUDA scan and whitening with the CPU
reference; bench() times them beside PyTorch on the same GPU.

Shapes: B = 512 sequences padded to T = 1024, random response lengths 1..T, gamma 0.99, lambda 0.95.
Baselines:
  (1) the per-sequence Python time loop of RLHF libraries (TRL-style: for each sequence, for t in
      reversed(range(L)), tensors indexed per step). Too slow to run whole: it is timed on a subset of
      sequences and extrapolated by valid-token count (the row says so). A second row runs the same
      loop over Python floats (.tolist() first, one upload at the end), timed whole.
  (2) the vectorised PyTorch reverse loop over t on the GPU (one [B] slice per step).
Both end with the masked whitening (unbiased variance, eps 1e-8) where the row says "+whiten".
Targets: >= 300x against (1), >= 5x against (2).

Run locally without a GPU: `python3 bench/gpu/gae_gpu.py [libfactrl.so]` checks the CPU context
against a float64 numpy loop (no torch needed).
"""
import ctypes
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frl  # noqa: E402

GAMMA, LAMBDA, EPS = 0.99, 0.95, 1e-8


def _declare(lib):
    lib.frl_gae.restype = ctypes.c_int
    lib.frl_gae.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                            ctypes.c_float, ctypes.c_float, ctypes.c_void_p, ctypes.c_void_p]
    lib.frl_masked_whiten.restype = ctypes.c_int
    lib.frl_masked_whiten.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
                                      ctypes.c_float, ctypes.c_void_p, ctypes.POINTER(ctypes.c_float),
                                      ctypes.POINTER(ctypes.c_float)]


def random_batch(rng, B, T, full_and_empty=True):
    """rewards, values (float32 [B, T]), prefix mask (int32) with random lengths in [0, T]."""
    lengths = rng.integers(0, T + 1, size=B)
    if full_and_empty and B >= 2:
        lengths[0], lengths[-1] = 0, T
    mask = (np.arange(T)[None, :] < lengths[:, None]).astype(np.int32)
    r = rng.standard_normal((B, T)).astype(np.float32)
    v = rng.standard_normal((B, T)).astype(np.float32)
    return r, v, mask


def reference_gae(r, v, mask, gamma, lam):
    """float64 numpy loop over t, vectorised across rows (the textbook recurrence)."""
    B, T = r.shape
    m = mask.astype(np.float64)
    r64, v64 = r.astype(np.float64) * m, v.astype(np.float64) * m
    adv = np.zeros((B, T))
    last = np.zeros(B)
    for t in range(T - 1, -1, -1):
        nv = v64[:, t + 1] if t + 1 < T else 0.0
        last = (r64[:, t] + gamma * nv - v64[:, t] + gamma * lam * last) * m[:, t]
        adv[:, t] = last
    return adv, (adv + v64) * m


def run_gae(lib, ctx, r, v, mask, gamma, lam, dtype=frl.F32):
    """(advantages, returns, the r and v the context stored) as float32 numpy arrays."""
    tr, tv = ctx.tensor(r, dtype), ctx.tensor(v, dtype)
    tm = ctx.tensor(mask.astype(np.int32))
    ta, tret = ctx.empty(r.shape, dtype), ctx.empty(r.shape, dtype)
    try:
        frl.check(lib, lib.frl_gae(ctx.handle, tr.handle, tv.handle, tm.handle, gamma, lam, ta.handle, tret.handle))
        return ta.numpy(), tret.numpy(), tr.numpy(), tv.numpy()
    finally:
        for t in (tr, tv, tm, ta, tret):
            t.close()


def run_whiten(lib, ctx, x, mask, shift, eps=EPS):
    """(whitened x, mean, std) from the context; in place on a copy of x."""
    tx, tm = ctx.tensor(x), ctx.tensor(mask.astype(np.int32))
    mean, std = ctypes.c_float(), ctypes.c_float()
    try:
        frl.check(lib, lib.frl_masked_whiten(ctx.handle, tx.handle, tm.handle, int(shift), eps, tx.handle,
                                             ctypes.byref(mean), ctypes.byref(std)))
        return tx.numpy(), mean.value, std.value
    finally:
        tx.close()
        tm.close()


def reference_whiten(x, mask, shift, eps=EPS):
    m = mask != 0
    n = int(m.sum())
    if n == 0:
        return np.zeros_like(x, dtype=np.float64), 0.0, 0.0
    xs = x.astype(np.float64)[m]
    mean = xs.mean()
    var = ((xs - mean) ** 2).sum() / (n - 1) if n > 1 else 0.0
    scale = 1.0 / np.sqrt(var + eps) if var + eps > 0 else 0.0
    out = np.where(m, (x - mean) * scale + (0.0 if shift else mean), 0.0)
    return out, mean, np.sqrt(var)


CHECK_SHAPES = [(1, 1), (3, 3), (7, 37), (33, 1000), (5, 1023), (4, 4097), (512, 1024), (3, 9000)]
CHECK_GL = [(1.0, 1.0), (0.99, 0.95), (0.5, 0.0)]


def _compare_gae(lib, ctx_test, ctx_ref, label, rng, dtype, rows):
    """ctx_test vs ctx_ref (CPU context, or None for the numpy float64 loop), every shape and (gamma, lambda)."""
    for B, T in CHECK_SHAPES:
        r, v, mask = random_batch(rng, B, T)
        for g, l in CHECK_GL:
            adv, ret, r_used, v_used = run_gae(lib, ctx_test, r, v, mask, g, l, dtype)
            if ctx_ref is None:
                want_adv, want_ret = reference_gae(r_used, v_used, mask, g, l)
            else:  # the CPU reference on exactly the (bf16-rounded) values the test context stored
                want_adv, want_ret = run_gae(lib, ctx_ref, r_used, v_used, mask, g, l)[:2]
            scale = max(1.0, float(np.abs(want_adv).max()))
            # fp32 scan vs a double loop: reassociation error ~ sqrt(T) ulp of the partial sums;
            # bf16 storage: one bf16 rounding (2^-8 relative) of each output.
            tol = (1e-4 if dtype == frl.F32 else 1.6e-2) * scale
            err = max(float(np.abs(adv - want_adv).max()), float(np.abs(ret - want_ret).max()))
            rows.append({"name": f"gae {label} {'bf16' if dtype == frl.BF16 else 'f32'} B={B} T={T} "
                                 f"gamma={g} lambda={l}",
                         "max_abs_err": err, "tol": tol, "ok": bool(err <= tol)})


def _compare_whiten(lib, ctx_test, ctx_ref, label, rng, rows):
    for B, T in [(1, 1), (7, 37), (33, 1000), (512, 1024), (1, 100001)]:
        _, _, mask = random_batch(rng, B, T)
        x = (rng.standard_normal((B, T)) * 3 + 2).astype(np.float32)
        for shift in (True, False):
            out, mean, std = run_whiten(lib, ctx_test, x, mask, shift)
            if ctx_ref is None:
                want, want_mean, want_std = reference_whiten(x, mask, shift)
            else:
                want, want_mean, want_std = run_whiten(lib, ctx_ref, x, mask, shift)
            err = max(float(np.abs(out - want).max()), abs(mean - want_mean), abs(std - want_std))
            tol = 2e-5 * max(1.0, float(np.abs(want).max()))
            rows.append({"name": f"whiten {label} B={B} T={T} shift_mean={int(shift)}",
                         "max_abs_err": err, "tol": tol, "ok": bool(err <= tol)})


def _edge_rows(lib, ctx, label, rows):
    # one valid token: std 0, out 0 (shift) / the token (no shift), never NaN; empty mask: zeros
    x = np.array([[0, 0, 3.5, 0]], np.float32)
    one = np.array([[0, 0, 1, 0]], np.int32)
    for shift, want in ((True, 0.0), (False, 3.5)):
        out, _, std = run_whiten(lib, ctx, x, one, shift)
        err = abs(float(out[0, 2]) - want) + float(np.abs(out[0, [0, 1, 3]]).max()) + abs(std)
        rows.append({"name": f"whiten {label} single valid token shift_mean={int(shift)}",
                     "max_abs_err": err if np.isfinite(out).all() else float("inf"), "tol": 0.0,
                     "ok": bool(np.isfinite(out).all() and err == 0.0)})
    out, mean, std = run_whiten(lib, ctx, x, np.zeros_like(one), True)
    rows.append({"name": f"whiten {label} empty mask", "max_abs_err": float(np.abs(out).max()) + abs(mean) + abs(std),
                 "tol": 0.0, "ok": bool(np.isfinite(out).all() and not out.any() and mean == 0 and std == 0)})
    # a non-prefix mask is rejected naming 'mask' and the row
    B, T = 3, 3000
    mask = np.ones((B, T), np.int32)
    mask[2, 100:] = 0
    mask[2, 2500] = 1
    r = np.zeros((B, T), np.float32)
    try:
        run_gae(lib, ctx, r, r, mask, 1.0, 1.0)
        ok, msg = False, "no error"
    except frl.FrlError as e:
        msg = str(e)
        ok = "'mask'" in msg and "row 2" in msg and "2500" in msg
    rows.append({"name": f"gae {label} rejects non-prefix mask ({msg[:80]})", "max_abs_err": 0.0, "tol": 0.0,
                 "ok": ok})


def check(lib):
    """CUDA vs the CPU reference on random batches, T not powers of two (incl. several tiles)."""
    _declare(lib)
    rng = np.random.default_rng(1234)
    rows = []
    with frl.Ctx(lib, frl.CUDA) as gpu, frl.Ctx(lib, frl.CPU) as cpu:
        _compare_gae(lib, gpu, cpu, "cuda-vs-cpu", rng, frl.F32, rows)
        _compare_gae(lib, gpu, cpu, "cuda-vs-cpu", rng, frl.BF16, rows)
        _compare_whiten(lib, gpu, cpu, "cuda-vs-cpu", rng, rows)
        _edge_rows(lib, gpu, "cuda", rows)
    return rows


# ---- PyTorch baselines ---------------------------------------------------------------------------

def torch_whiten(torch, adv, m, eps=EPS):
    n = m.sum()
    mean = (adv * m).sum() / n
    centered = adv - mean
    var = (centered * centered * m).sum() / (n - 1)
    return centered * torch.rsqrt(var + eps) * m


def torch_gae_vectorised(torch, r, v, m, gamma=GAMMA, lam=LAMBDA, whiten=True):
    """(2) TRL / LLaVA-RLHF style: reverse loop over t, vectorised across the batch."""
    r, v = r * m, v * m
    T = r.shape[1]
    last = 0
    rev = []
    for t in reversed(range(T)):
        nv = v[:, t + 1] if t < T - 1 else 0.0
        delta = r[:, t] + gamma * nv - v[:, t]
        last = delta + gamma * lam * last
        rev.append(last)
    adv = torch.stack(rev[::-1], dim=1) * m
    ret = adv + v
    if whiten:
        adv = torch_whiten(torch, adv, m)
    return adv, ret


def torch_gae_python_loop(torch, r, v, m, lengths, rows, gamma=GAMMA, lam=LAMBDA):
    """(1) per-sequence Python loop over t with GPU tensors indexed per step (rows: the subset timed)."""
    adv = torch.zeros_like(r)
    for b in rows:
        L = int(lengths[b])
        last = 0.0
        for t in reversed(range(L)):
            nv = v[b, t + 1] if t + 1 < L else 0.0
            delta = r[b, t] + gamma * nv - v[b, t]
            last = delta + gamma * lam * last
            adv[b, t] = last
    return adv


def torch_gae_python_floats(torch, r, v, m, lengths, gamma=GAMMA, lam=LAMBDA, whiten=True):
    """(1') the same loop over Python floats: .tolist() to the host, one upload at the end."""
    rl, vl = r.tolist(), v.tolist()
    out = []
    for b in range(len(rl)):
        L = int(lengths[b])
        rb, vb = rl[b], vl[b]
        a = [0.0] * len(rb)
        last = 0.0
        for t in range(L - 1, -1, -1):
            nv = vb[t + 1] if t + 1 < L else 0.0
            last = rb[t] + gamma * nv - vb[t] + gamma * lam * last
            a[t] = last
        out.append(a)
    adv = torch.tensor(out, device=r.device)
    ret = (adv + v) * m
    if whiten:
        adv = torch_whiten(torch, adv, m)
    return adv, ret


def bench(lib):
    import torch
    _declare(lib)
    B, T = 512, 1024
    rng = np.random.default_rng(7)
    lengths = rng.integers(1, T + 1, size=B)
    mask = (np.arange(T)[None, :] < lengths[:, None]).astype(np.int32)
    r = (rng.standard_normal((B, T)) * 0.1).astype(np.float32)
    v = rng.standard_normal((B, T)).astype(np.float32)
    n_valid = int(mask.sum())
    rows = []
    dev = torch.device("cuda")
    tr, tv, tm = (torch.from_numpy(a).to(dev) for a in (r, v, mask.astype(np.float32)))

    def tsync():
        torch.cuda.synchronize()

    with frl.Ctx(lib, frl.CUDA) as gpu:
        gr, gv, gm = gpu.tensor(r), gpu.tensor(v), gpu.tensor(mask)
        ga, gret = gpu.empty((B, T)), gpu.empty((B, T))

        def ours_gae():
            frl.check(lib, lib.frl_gae(gpu.handle, gr.handle, gv.handle, gm.handle, GAMMA, LAMBDA, ga.handle,
                                       gret.handle))

        def ours_gae_whiten():
            ours_gae()
            frl.check(lib, lib.frl_masked_whiten(gpu.handle, ga.handle, gm.handle, 1, EPS, ga.handle, None, None))

        # correctness of what is timed: ours vs the vectorised torch loop on the same inputs
        ours_gae_whiten()
        gpu.sync()
        want_adv, want_ret = torch_gae_vectorised(torch, tr, tv, tm)
        err = max(float(np.abs(ga.numpy() - want_adv.cpu().numpy()).max()),
                  float(np.abs(gret.numpy() - want_ret.cpu().numpy()).max()))

        ours_ms = frl.time_it(ours_gae, gpu.sync, warmup=5, iters=50)
        ours_w_ms = frl.time_it(ours_gae_whiten, gpu.sync, warmup=5, iters=50)
        gae_bytes = B * T * (3 * 4 + 2 * 4)  # read r, V, mask; write A, R
        vec_ms = frl.time_it(lambda: torch_gae_vectorised(torch, tr, tv, tm, whiten=False), tsync, warmup=2, iters=10)
        vec_w_ms = frl.time_it(lambda: torch_gae_vectorised(torch, tr, tv, tm), tsync, warmup=2, iters=10)
        rows.append({"name": f"gae B={B} T={T} vs vectorised torch loop over t (2)", "ours_ms": ours_ms,
                     "torch_ms": vec_ms, "ratio": vec_ms / ours_ms, "target": 5.0,
                     "ours_GBps": gae_bytes / ours_ms / 1e6, "max_abs_err_vs_torch": err})
        rows.append({"name": f"gae+whiten B={B} T={T} vs vectorised torch loop over t (2)", "ours_ms": ours_w_ms,
                     "torch_ms": vec_w_ms, "ratio": vec_w_ms / ours_w_ms, "target": 5.0})

        fl_ms = frl.time_it(lambda: torch_gae_python_floats(torch, tr, tv, tm, lengths), tsync, warmup=1, iters=3)
        rows.append({"name": f"gae+whiten B={B} T={T} vs python loop over floats per sequence (1')",
                     "ours_ms": ours_w_ms, "torch_ms": fl_ms, "ratio": fl_ms / ours_w_ms, "target": 300.0})

        subset = list(range(8))
        sub_valid = int(lengths[subset].sum())
        torch_gae_python_loop(torch, tr, tv, tm, lengths, [0])  # warm-up
        tsync()
        t0 = time.perf_counter()
        torch_gae_python_loop(torch, tr, tv, tm, lengths, subset)
        tsync()
        sub_ms = (time.perf_counter() - t0) * 1e3
        loop_ms = sub_ms * n_valid / sub_valid
        rows.append({"name": f"gae B={B} T={T} vs python loop per sequence, tensors indexed per step (1) "
                             f"[EXTRAPOLATED: timed {len(subset)} sequences / {sub_valid} tokens, "
                             f"scaled by valid tokens to {n_valid}]",
                     "ours_ms": ours_ms, "torch_ms": loop_ms, "ratio": loop_ms / ours_ms, "target": 300.0})
    return rows


def cpu_check(lib):
    """No GPU needed: the CPU context against the float64 numpy references."""
    _declare(lib)
    rng = np.random.default_rng(99)
    rows = []
    with frl.Ctx(lib, frl.CPU) as cpu:
        _compare_gae(lib, cpu, None, "cpu-vs-numpy", rng, frl.F32, rows)
        _compare_whiten(lib, cpu, None, "cpu-vs-numpy", rng, rows)
        _edge_rows(lib, cpu, "cpu", rows)
    return rows


def _selftest_cpu(path):
    rows = cpu_check(frl.load(path))
    bad = [r for r in rows if not r["ok"]]
    for r in rows:
        print(("ok  " if r["ok"] else "BAD ") + f"{r['name']}: err {r['max_abs_err']:.3g} tol {r['tol']:.3g}")
    print(f"{len(rows) - len(bad)}/{len(rows)} ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(_selftest_cpu(sys.argv[1] if len(sys.argv) > 1 else "target/cmake/libfactrl.so"))

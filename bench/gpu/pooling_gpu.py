"""GPU visit for the reward-head pooling and the per-token value head (factrl/pooling.h).

check(lib): the CUDA kernels (h and dh in f32 and bf16; the head weights w, bias and their grads
            always f32: mixed precision over a bf16 model) against the CPU reference at small odd
            shapes, with empty rows, masks, every pair of (dh_mode, dparam_mode) over a random
            prefill G0 (ACCUMULATE must give G0 + gradient), the end_index error (flagged on the
            device, raised at the next sync), and bitwise reproducibility of dw / dbias.
bench(lib): B=64, S=2048, d=4096, h in bf16 (w, bias, grads f32 on our side):
            reward head forward / backward vs PyTorch gather + linear (autograd for the backward);
            value head forward / backward vs PyTorch linear(d -> 1) over every token; the value
            head's achieved bandwidth (it streams all of h).
"""
import ctypes

import numpy as np

import frl

P = ctypes.c_void_p


def _bind(lib):
    # The backwards end in two ints: dh_mode, dparam_mode (0 overwrite, 1 accumulate).
    for name, nargs, n_modes in (("frl_reward_head_forward", 6, 0), ("frl_reward_head_backward", 8, 2),
                                 ("frl_value_head_forward", 6, 0), ("frl_value_head_backward", 8, 2)):
        fn = getattr(lib, name)
        fn.argtypes = [P] * nargs + [ctypes.c_int] * n_modes
        fn.restype = ctypes.c_int
    return lib


def _h(t):
    return None if t is None else t.handle


def bf16_round(x):
    """Round-to-nearest-even to bf16, returned as float32 (what the device stores)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32)


# ---- CUDA vs CPU reference ---------------------------------------------------------------------------

def _run_heads(lib, ctx, dtype, hv, e, mask, w, c, g, gv, dh0, dw0, dc0, modes):
    """Both heads, forward and backward, on one context; returns a dict of numpy results."""
    B, S, d = hv.shape
    h = ctx.tensor(hv, dtype=dtype)
    te, tw, tc = ctx.tensor(e.astype(np.int32)), ctx.tensor(w), ctx.tensor(c)
    tm = None if mask is None else ctx.tensor(mask.astype(np.int32))
    tg, tgv = ctx.tensor(g), ctx.tensor(gv)
    scores, values = ctx.empty((B,)), ctx.empty((B, S))
    out = {}
    frl.check(lib, lib.frl_reward_head_forward(ctx.handle, h.handle, te.handle, tw.handle, tc.handle, scores.handle))
    frl.check(lib, lib.frl_value_head_forward(ctx.handle, h.handle, _h(tm), tw.handle, tc.handle, values.handle))
    out["reward scores"], out["value values"] = scores.numpy(), values.numpy()
    for head, fn, grad, ix in (("reward", lib.frl_reward_head_backward, tg, te),
                               ("value", lib.frl_value_head_backward, tgv, tm)):
        dh, dw, dc = ctx.tensor(dh0, dtype=dtype), ctx.tensor(dw0), ctx.tensor(dc0)
        frl.check(lib, fn(ctx.handle, h.handle, _h(ix), tw.handle, grad.handle, dh.handle, dw.handle, dc.handle,
                          *modes))
        out[head + " dh"], out[head + " dw"], out[head + " dbias"] = dh.numpy(), dw.numpy(), dc.numpy()
        # Second run into fresh outputs: the reductions must give the same bits.
        dw2, dc2 = ctx.tensor(dw0), ctx.tensor(dc0)
        frl.check(lib, fn(ctx.handle, h.handle, _h(ix), tw.handle, grad.handle, None, dw2.handle, dc2.handle,
                          *modes))
        out[head + " repro"] = bool(np.array_equal(dw2.numpy(), out[head + " dw"])
                                    and np.array_equal(dc2.numpy(), out[head + " dbias"]))
    return out


def check(lib):
    _bind(lib)
    rows = []
    rng = np.random.default_rng(0)
    shapes = [(3, 37, 203), (2, 65, 256), (1, 1, 9), (5, 7, 8), (4, 3, 1), (7, 13, 4099)]
    with frl.Ctx(lib, frl.CUDA) as gpu, frl.Ctx(lib, frl.CPU) as cpu:
        for (B, S, d) in shapes:
            for dtype in (frl.F32, frl.BF16):
                for modes in ((0, 0), (1, 1), (0, 1), (1, 0)):
                    hv = rng.standard_normal((B, S, d)).astype(np.float32)
                    if dtype == frl.BF16:
                        hv = bf16_round(hv).reshape(B, S, d)
                    e = rng.integers(0, S, size=B)
                    e[rng.random(B) < 0.25] = -1  # empty rows
                    e[0] = S - 1
                    mask = (rng.random((B, S)) > 0.3).astype(np.int32) * rng.integers(1, 4, size=(B, S))
                    w = (rng.standard_normal(d) / np.sqrt(d)).astype(np.float32)
                    c = np.array([0.3], np.float32)
                    g = rng.standard_normal(B).astype(np.float32)
                    gv = rng.standard_normal((B, S)).astype(np.float32)
                    dh0 = rng.standard_normal((B, S, d)).astype(np.float32)
                    if dtype == frl.BF16:
                        dh0 = bf16_round(dh0).reshape(B, S, d)
                    dw0 = rng.standard_normal(d).astype(np.float32)
                    dc0 = np.array([0.7], np.float32)
                    args = (hv, e, mask, w, c, g, gv, dh0, dw0, dc0, modes)
                    want = _run_heads(lib, cpu, frl.F32, *args)
                    got = _run_heads(lib, gpu, dtype, *args)
                    tag = f"B={B} S={S} d={d} {'bf16' if dtype == frl.BF16 else 'f32'} dh_mode={modes[0]} dparam_mode={modes[1]}"
                    for key in want:
                        if key.endswith("repro"):
                            rows.append({"name": f"pooling {key} {tag}", "max_abs_err": 0.0, "tol": 0.0,
                                         "ok": bool(got[key])})
                            continue
                        ref, out = want[key], got[key]
                        n = B * S if key.startswith("value") else B
                        if key.endswith("dh"):
                            # bf16 dh storage: one rounding of the result (2^-8 relative).
                            rtol = 8e-3 if dtype == frl.BF16 else 1e-6
                        elif key.endswith("dw") or key.endswith("dbias"):
                            rtol = 1e-5 * max(1.0, np.sqrt(n))
                        else:
                            rtol = 1e-5 * max(1.0, np.sqrt(d))
                        err = float(np.max(np.abs(out - ref))) if ref.size else 0.0
                        tol = float(1e-5 + rtol * (np.max(np.abs(ref)) if ref.size else 0.0))
                        rows.append({"name": f"pooling {key} {tag}", "max_abs_err": err, "tol": tol,
                                     "ok": bool(err <= tol and np.all(np.isfinite(out)))})
        # end_index out of range on CUDA: a clean error naming end_index and the row.
        h = gpu.tensor(np.zeros((2, 3, 8), np.float32))
        bad = gpu.tensor(np.array([0, 3], np.int32))
        w, c, s = gpu.tensor(np.zeros(8, np.float32)), gpu.tensor(np.zeros(1, np.float32)), gpu.empty((2,))
        # No host read in the call (status 0): the device error flag fails the next sync point.
        status = lib.frl_reward_head_forward(gpu.handle, h.handle, bad.handle, w.handle, c.handle, s.handle)
        try:
            gpu.sync()
            msg = "no error at the sync"
        except frl.FrlError as e:
            msg = str(e)
        rows.append({"name": "pooling end_index out of range names the row at the next sync (cuda)",
                     "max_abs_err": 0.0, "tol": 0.0,
                     "ok": status == 0 and "frl_reward_head_forward" in msg and "end_index[1] = 3" in msg,
                     "message": msg})
    return rows


def cpu_check(lib):
    """No GPU: both heads on the CPU context against numpy (forward and backward, overwrite)."""
    _bind(lib)
    rng = np.random.default_rng(3)
    B, S, d = 3, 5, 24
    hv = rng.standard_normal((B, S, d)).astype(np.float32)
    e = np.array([4, -1, 2], np.int32)
    mask = (rng.uniform(size=(B, S)) > 0.3).astype(np.int32)
    w = rng.standard_normal(d).astype(np.float32)
    c = np.array([0.5], np.float32)
    g = rng.standard_normal(B).astype(np.float32)
    gv = rng.standard_normal((B, S)).astype(np.float32)
    zeros = np.zeros((B, S, d), np.float32)
    with frl.Ctx(lib, frl.CPU) as cpu:
        out = _run_heads(lib, cpu, frl.F32, hv, e, mask, w, c, g, gv, zeros, np.zeros(d, np.float32),
                         np.zeros(1, np.float32), (0, 0))
    valid = e >= 0
    want = {"reward scores": np.where(valid, hv[np.arange(B), np.maximum(e, 0)] @ w + c[0], 0.0),
            "value values": np.where(mask != 0, hv @ w + c[0], 0.0),
            "reward dw": (g[valid, None] * hv[np.arange(B)[valid], e[valid]]).sum(0),
            "value dw": ((gv * (mask != 0))[..., None] * hv).sum((0, 1))}
    rows = []
    for k, v in want.items():
        err = float(np.max(np.abs(out[k] - v)))
        rows.append({"name": f"pooling cpu {k} vs numpy", "max_abs_err": err, "tol": 1e-4, "ok": err <= 1e-4})
    return rows


# ---- benchmarks ----------------------------------------------------------------------------------

def _time_loop(fn, sync, reps, warmup=3, iters=15):
    """Median ms per call of fn(), timing `reps` back-to-back calls between syncs."""
    import time
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3 / reps)
    return float(np.median(times))


def bench(lib):
    import torch
    import torch.nn.functional as F
    _bind(lib)
    B, S, d = 64, 2048, 4096
    N = B * S
    dev = torch.device("cuda")
    torch.manual_seed(0)
    th = torch.randn(B, S, d, device=dev, dtype=torch.bfloat16)
    e = torch.randint(S // 2, S, (B,), device=dev, dtype=torch.int32)
    tw32 = torch.randn(d, device=dev) / d ** 0.5
    tc32 = torch.tensor([0.1], device=dev)
    g = torch.randn(B, device=dev)
    gv = torch.randn(B, S, device=dev)
    rows = []
    tsync = torch.cuda.synchronize
    with frl.Ctx(lib, frl.CUDA) as gpu:
        h = gpu.empty((B, S, d), frl.BF16)
        chunk = 4 * S  # 4 sequences (32M elements) at a time through the host
        flat = th.view(N, d)
        for r0 in range(0, N, chunk):
            part = np.ascontiguousarray(flat[r0:r0 + chunk].float().cpu().numpy()).ravel()
            frl.check(lib, lib.frl_tensor_write_f32(h.handle, r0 * d, part.ctypes.data, part.size))
        te = gpu.tensor(e.cpu().numpy())
        tw, tc = gpu.tensor(tw32.cpu().numpy()), gpu.tensor(tc32.cpu().numpy())
        tg, tgv = gpu.tensor(g.cpu().numpy()), gpu.tensor(gv.cpu().numpy())
        scores, values = gpu.empty((B,)), gpu.empty((B, S))
        dh = gpu.empty((B, S, d), frl.BF16)
        dw, dc = gpu.empty((d,)), gpu.empty((1,))

        # PyTorch: bf16 end to end, as a bf16 model would run it (cuBLAS accumulates in fp32).
        hreq = th.detach().requires_grad_(True)
        wb = tw32.to(torch.bfloat16).view(1, d).requires_grad_(True)
        cb = tc32.to(torch.bfloat16).requires_grad_(True)
        ar = torch.arange(B, device=dev)
        el = e.long()

        def torch_reward():
            return F.linear(hreq[ar, el], wb, cb).view(B)

        def torch_value():
            return F.linear(hreq.view(N, d), wb, cb).view(B, S)

        rs, vs = torch_reward(), torch_value()
        gb, gvb = g.to(torch.bfloat16), gv.to(torch.bfloat16)

        def ours_reward_fwd():
            frl.check(lib, lib.frl_reward_head_forward(gpu.handle, h.handle, te.handle, tw.handle, tc.handle,
                                                       scores.handle))

        def ours_reward_bwd():
            frl.check(lib, lib.frl_reward_head_backward(gpu.handle, h.handle, te.handle, tw.handle, tg.handle,
                                                        dh.handle, dw.handle, dc.handle, 0, 0))

        def ours_value_fwd():
            frl.check(lib, lib.frl_value_head_forward(gpu.handle, h.handle, None, tw.handle, tc.handle,
                                                      values.handle))

        def ours_value_bwd():
            frl.check(lib, lib.frl_value_head_backward(gpu.handle, h.handle, None, tw.handle, tgv.handle,
                                                       dh.handle, dw.handle, dc.handle, 0, 0))

        for f in (ours_reward_fwd, ours_reward_bwd, ours_value_fwd, ours_value_bwd):  # surface errors once
            f()
        gpu.sync()
        frl.check(lib, lib.frl_reward_head_forward(gpu.handle, h.handle, te.handle, tw.handle, tc.handle,
                                                   scores.handle))

        cases = [
            ("reward head forward (gather + linear)", ours_reward_fwd, lambda: torch_reward(), 50, None),
            ("reward head backward (dh dense, dw, dbias)", ours_reward_bwd,
             lambda: torch.autograd.grad(rs, (hreq, wb, cb), gb, retain_graph=True), 10, None),
            ("value head forward (linear d->1 over all tokens)", ours_value_fwd, lambda: torch_value(), 10,
             N * d * 2 + N * 4),
            ("value head backward (dh, dw, dbias)", ours_value_bwd,
             lambda: torch.autograd.grad(vs, (hreq, wb, cb), gvb, retain_graph=True), 5,
             N * d * 2 * 2 + N * 4),
        ]
        for name, ours, theirs, reps, nbytes in cases:
            ours_ms = _time_loop(ours, gpu.sync, reps)
            torch_ms = _time_loop(theirs, tsync, reps)
            row = {"name": f"pooling {name} B={B} S={S} d={d} bf16", "ours_ms": ours_ms, "torch_ms": torch_ms,
                   "ratio": torch_ms / ours_ms}
            if nbytes is not None:
                row["ours_GBps"] = nbytes / ours_ms / 1e6
                row["torch_GBps"] = nbytes / torch_ms / 1e6
            rows.append(row)
        # Agreement of the benchmarked results (ours f32 accumulate vs torch bf16), for the record.
        ours_scores = scores.numpy()
        ref = (th[ar, el].float() @ tw32 + tc32).cpu().numpy()
        rows.append({"name": "pooling reward scores vs fp32 torch at bench shape", "ours_ms": 0.0, "torch_ms": 0.0,
                     "ratio": 1.0, "max_abs_err": float(np.max(np.abs(ours_scores - ref)))})
    return rows


if __name__ == "__main__":
    import sys
    lib = frl.load(sys.argv[1] if len(sys.argv) > 1 else None)
    for r in check(lib):
        print(r)

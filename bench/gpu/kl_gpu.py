"""GPU visit for the per-token log-prob / KL kernel (native/include/factrl/kl.h).

check(lib): CUDA (f32 and bf16 logits) against the CPU reference at small odd shapes, forward
            outputs and the backward (f32 / bf16 gradients, with and without the saved lse),
            plus the device-side flag for an out-of-range action.
bench(lib): T=8192, V=32000, bf16 logits: ours vs PyTorch eager (log_softmax of both in fp32,
            gather, k1 and the policy entropy), and the backward; reports achieved GB/s against the
            GPU's peak HBM bandwidth.

Run through bench/gpu/run.py. Without a GPU, `python3 bench/gpu/kl_gpu.py --cpu-selftest LIB`
exercises the ctypes plumbing on the CPU backend against a numpy reference.
"""
import ctypes
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frl  # noqa: E402

# Output order of frl_token_logprobs after the inputs.
OUTPUTS = ["logp_policy", "logp_ref", "kl_k1", "kl_k3", "kl_full", "entropy", "lse_policy"]
REF_ONLY = {"logp_ref", "kl_k1", "kl_k3", "kl_full"}


def _declare(lib):
    P = ctypes.c_void_p
    lib.frl_token_logprobs.argtypes = [P] * 12
    lib.frl_token_logprobs.restype = ctypes.c_int
    lib.frl_token_logprobs_backward.argtypes = [P] * 7 + [ctypes.c_int]
    lib.frl_token_logprobs_backward.restype = ctypes.c_int
    lib.frl_tensor_fill_zero.argtypes = [P]
    lib.frl_tensor_fill_zero.restype = ctypes.c_int


def _h(t):
    return t.handle if t is not None else None


def _inputs(rng, T, V):
    zp = (rng.standard_normal((T, V)) * 3 + np.linspace(0, 4, V)[None, :]).astype(np.float32)
    zr = (zp + rng.standard_normal((T, V)) * 0.7).astype(np.float32)
    a = rng.integers(0, V, size=T).astype(np.int32)
    a[0] = V - 1
    m = (rng.random(T) > 0.25).astype(np.int32)
    m[0] = 1
    g = rng.standard_normal(T).astype(np.float32)
    return zp, zr, a, m, g


def _forward(lib, ctx, zp, zr, a, m, dtype, with_ref=True):
    T = zp.shape[0]
    p = ctx.tensor(zp, dtype)
    r = ctx.tensor(zr, dtype) if with_ref else None
    at, mt = ctx.tensor(a), ctx.tensor(m)
    outs = {n: (ctx.empty((T,), frl.F32) if with_ref or n not in REF_ONLY else None) for n in OUTPUTS}
    frl.check(lib, lib.frl_token_logprobs(ctx.handle, p.handle, _h(r), at.handle, mt.handle,
                                          *[_h(outs[n]) for n in OUTPUTS]))
    return {n: t.numpy() for n, t in outs.items() if t is not None}, p, at, mt, outs["lse_policy"]


def _backward(lib, ctx, p, at, mt, g, lse, grad_dtype, g0=None):
    """dlogits; with g0 (a prefill [T, V]) the call ACCUMULATEs into it (mode 1), else OVERWRITEs."""
    T, V = p.shape
    gt = ctx.tensor(g)
    dz = ctx.empty((T, V), grad_dtype) if g0 is None else ctx.tensor(g0, grad_dtype)
    frl.check(lib, lib.frl_token_logprobs_backward(ctx.handle, p.handle, at.handle, mt.handle, gt.handle,
                                                   _h(lse), dz.handle, 0 if g0 is None else 1))
    return dz.numpy()


def _row(name, err, tol):
    return {"name": name, "max_abs_err": float(err), "tol": float(tol), "ok": bool(err <= tol)}


def _compare(lib, test_ctx, ref_ctx, shapes, dtypes, seed=0, grad_dtypes=(frl.F32, frl.BF16)):
    """Rows comparing test_ctx (the CUDA context) against ref_ctx (the CPU reference)."""
    rows = []
    rng = np.random.default_rng(seed)
    for (T, V) in shapes:
        zp, zr, a, m, g = _inputs(rng, T, V)
        for dtype in dtypes:
            dname = "bf16" if dtype == frl.BF16 else "f32"
            got, p, at, mt, lse = _forward(lib, test_ctx, zp, zr, a, m, dtype)
            # the reference sees exactly the values the test context stores (bf16-rounded)
            zp_s = p.numpy().astype(np.float32)
            zr_s = test_ctx.tensor(zr, dtype).numpy().astype(np.float32)
            want, pc, ac, mc, _ = _forward(lib, ref_ctx, zp_s, zr_s, a, m, frl.F32)
            for n in OUTPUTS:
                err = np.max(np.abs(got[n] - want[n]))
                tol = 1e-4 * max(1.0, float(np.max(np.abs(want[n]))))
                rows.append(_row(f"kl fwd {dname} T={T} V={V} {n}", err, tol))
            want_dz = _backward(lib, ref_ctx, pc, ac, mc, g, None, frl.F32)
            for gd in grad_dtypes:
                for use_lse in (False, True):
                    dz = _backward(lib, test_ctx, p, at, mt, g, lse if use_lse else None, gd)
                    err = np.max(np.abs(dz - want_dz))
                    scale = float(np.max(np.abs(want_dz))) or 1.0
                    tol = (1.0 / 128 if gd == frl.BF16 else 1e-4) * scale + 1e-5
                    gname = "bf16" if gd == frl.BF16 else "f32"
                    rows.append(_row(f"kl bwd {dname}->{gname} lse={use_lse} T={T} V={V}", err, tol))
                # ACCUMULATE: a random prefill G0 (as stored in the gradient's dtype) plus the CPU
                # reference's gradient; masked rows keep G0. Same tolerance: one more rounding.
                g0 = rng.standard_normal((T, V)).astype(np.float32)
                g0_stored = test_ctx.tensor(g0, gd).numpy().astype(np.float32)
                dz = _backward(lib, test_ctx, p, at, mt, g, lse, gd, g0=g0)
                want_acc = g0_stored + want_dz
                err = np.max(np.abs(dz - want_acc))
                scale = float(np.max(np.abs(want_acc))) or 1.0
                tol = (1.0 / 128 if gd == frl.BF16 else 1e-4) * scale + 1e-5
                rows.append(_row(f"kl bwd accumulate {dname}->{gname} T={T} V={V}", err, tol))
    return rows


SHAPES = [(1, 1), (3, 7), (5, 33), (9, 257), (4, 1001), (6, 4097), (3, 32001), (8, 32000)]


def _bad_action_row(lib, ctx):
    T, V = 3, 40
    p = ctx.empty((T, V), frl.BF16)
    at = ctx.tensor(np.array([0, V, 1], dtype=np.int32))
    out = ctx.empty((T,), frl.F32)
    # The call itself does not synchronise (status 0); the device error flag fails the next sync
    # point, naming the op, the argument and the row; the sync after that is clean again.
    status = lib.frl_token_logprobs(ctx.handle, p.handle, None, at.handle, None, out.handle,
                                    None, None, None, None, None, None)
    try:
        ctx.sync()
        msg = "no error at the sync"
    except frl.FrlError as e:
        msg = str(e)
    ok = status == 0 and "frl_token_logprobs" in msg and "'actions'" in msg and "row 1" in msg
    try:
        ctx.sync()
    except frl.FrlError as e:
        ok, msg = False, "error not cleared: " + str(e)
    return {"name": "kl cuda flags out-of-range action at the next sync (device error flag)", "max_abs_err": 0.0,
            "tol": 0.0, "ok": ok, "message": msg}


def check(lib):
    _declare(lib)
    with frl.Ctx(lib, frl.CUDA) as gpu, frl.Ctx(lib, frl.CPU) as cpu:
        rows = _compare(lib, gpu, cpu, SHAPES, (frl.F32, frl.BF16))
        rows.append(_bad_action_row(lib, gpu))
    return rows


def _peak_bandwidth(torch):
    props = torch.cuda.get_device_properties(0)
    clock_khz = getattr(props, "memory_clock_rate", 0)
    bus_bits = getattr(props, "memory_bus_width", 0)
    if clock_khz and bus_bits:
        return 2.0 * clock_khz * 1e3 * bus_bits / 8, "device properties"
    name = props.name
    table = {"H100 PCIe": 2.0e12, "H100": 3.35e12, "H200": 4.8e12, "A100": 2.0e12}
    for key, value in table.items():
        if key in name:
            return value, f"datasheet ({key})"
    return float("nan"), "unknown"


def bench(lib):
    import torch
    _declare(lib)
    T, V = 8192, 32000
    rows = []
    peak, peak_src = _peak_bandwidth(torch)
    gen = torch.Generator(device="cuda").manual_seed(0)
    zp_t = (torch.randn(T, V, device="cuda", generator=gen) * 3).to(torch.bfloat16)
    zr_t = (zp_t.float() + torch.randn(T, V, device="cuda", generator=gen) * 0.5).to(torch.bfloat16)
    a_t = torch.randint(0, V, (T,), device="cuda", generator=gen)
    g_t = torch.randn(T, device="cuda", generator=gen)
    idx = a_t[:, None]

    with frl.Ctx(lib, frl.CUDA) as gpu:
        p = gpu.tensor(zp_t.float().cpu().numpy(), frl.BF16)
        r = gpu.tensor(zr_t.float().cpu().numpy(), frl.BF16)
        at = gpu.tensor(a_t.int().cpu().numpy())
        gt = gpu.tensor(g_t.cpu().numpy())
        outs = {n: gpu.empty((T,), frl.F32) for n in ("logp_policy", "logp_ref", "kl_k1", "entropy", "lse_policy")}
        dz = gpu.empty((T, V), frl.BF16)

        def ours_fwd():
            frl.check(lib, lib.frl_token_logprobs(gpu.handle, p.handle, r.handle, at.handle, None,
                                                  outs["logp_policy"].handle, outs["logp_ref"].handle,
                                                  outs["kl_k1"].handle, None, None, outs["entropy"].handle,
                                                  outs["lse_policy"].handle))

        def ours_bwd():
            frl.check(lib, lib.frl_token_logprobs_backward(gpu.handle, p.handle, at.handle, None, gt.handle,
                                                           outs["lse_policy"].handle, dz.handle, 0))

        def torch_fwd():
            lsp = torch.log_softmax(zp_t, dim=-1, dtype=torch.float32)
            lsr = torch.log_softmax(zr_t, dim=-1, dtype=torch.float32)
            k1 = lsp.gather(1, idx) - lsr.gather(1, idx)
            entropy = -(lsp.exp() * lsp).sum(-1)
            return k1, entropy

        lsp_saved = torch.log_softmax(zp_t, dim=-1, dtype=torch.float32)

        def torch_bwd():
            d = (lsp_saved.exp() * (-g_t[:, None])).scatter_add_(1, idx, g_t[:, None])
            return d.to(torch.bfloat16)

        # sanity: same numbers as torch (bf16 inputs, fp32 math)
        ours_fwd()
        k1_t, ent_t = torch_fwd()
        k1_err = float(np.max(np.abs(outs["kl_k1"].numpy() - k1_t[:, 0].cpu().numpy())))
        ent_err = float(np.max(np.abs(outs["entropy"].numpy() - ent_t.cpu().numpy())))

        sync_t = torch.cuda.synchronize
        fwd_ours = frl.time_it(ours_fwd, gpu.sync, warmup=3, iters=20)
        fwd_torch = frl.time_it(torch_fwd, sync_t, warmup=3, iters=20)
        fwd_bytes = 2 * T * V * 2 + T * 4 * 6
        rows.append({"name": f"kl forward bf16 T={T} V={V} (k1 + entropy)", "ours_ms": fwd_ours,
                     "torch_ms": fwd_torch, "ratio": fwd_torch / fwd_ours,
                     "ours_GBps": fwd_bytes / fwd_ours / 1e6, "peak_GBps": peak / 1e9,
                     "fraction_of_peak": fwd_bytes / (fwd_ours * 1e-3) / peak, "peak_source": peak_src,
                     "max_abs_err_k1_vs_torch": k1_err, "max_abs_err_entropy_vs_torch": ent_err})
        bwd_ours = frl.time_it(ours_bwd, gpu.sync, warmup=3, iters=20)
        bwd_torch = frl.time_it(torch_bwd, sync_t, warmup=3, iters=20)
        bwd_bytes = 2 * T * V * 2 + T * 4 * 4
        rows.append({"name": f"kl backward bf16->bf16 T={T} V={V} (saved lse)", "ours_ms": bwd_ours,
                     "torch_ms": bwd_torch, "ratio": bwd_torch / bwd_ours,
                     "ours_GBps": bwd_bytes / bwd_ours / 1e6, "peak_GBps": peak / 1e9,
                     "fraction_of_peak": bwd_bytes / (bwd_ours * 1e-3) / peak, "peak_source": peak_src})
    return rows


def _cpu_selftest(path):
    return cpu_check(frl.load(path))


def cpu_check(lib):
    """No GPU: the CPU backend against numpy, through the same ctypes plumbing as check()."""
    _declare(lib)
    rows = []
    rng = np.random.default_rng(1)
    with frl.Ctx(lib, frl.CPU) as cpu:
        for (T, V) in [(1, 1), (3, 7), (9, 257), (4, 1001)]:
            zp, zr, a, m, g = _inputs(rng, T, V)
            got, p, at, mt, lse = _forward(lib, cpu, zp, zr, a, m, frl.F32)
            zp64, zr64 = zp.astype(np.float64), zr.astype(np.float64)
            lsp = zp64 - zp64.max(1, keepdims=True)
            lsp -= np.log(np.exp(lsp).sum(1, keepdims=True))
            lsr = zr64 - zr64.max(1, keepdims=True)
            lsr -= np.log(np.exp(lsr).sum(1, keepdims=True))
            pp = np.exp(lsp)
            ar = np.arange(T)
            k1 = lsp[ar, a] - lsr[ar, a]
            want = {"logp_policy": lsp[ar, a], "logp_ref": lsr[ar, a], "kl_k1": k1,
                    "kl_k3": np.expm1(-k1) + k1, "kl_full": (pp * (lsp - lsr)).sum(1),
                    "entropy": -(pp * lsp).sum(1), "lse_policy": zp64[ar, a] - lsp[ar, a]}
            for n in OUTPUTS:
                w = np.where(m != 0, want[n], 0.0)
                rows.append(_row(f"cpu fwd T={T} V={V} {n}", np.max(np.abs(got[n] - w)),
                                 1e-4 * max(1.0, float(np.max(np.abs(w))))))
            dz = _backward(lib, cpu, p, at, mt, g, lse, frl.F32)
            onehot = np.zeros_like(pp)
            onehot[ar, a] = 1
            want_dz = np.where(m[:, None] != 0, g[:, None] * (onehot - pp), 0.0)
            rows.append(_row(f"cpu bwd T={T} V={V}", np.max(np.abs(dz - want_dz)), 1e-5))
        # the plumbing of _compare (CPU vs CPU must agree exactly)
        with frl.Ctx(lib, frl.CPU) as cpu2:
            rows += _compare(lib, cpu2, cpu, [(3, 7), (5, 33)], (frl.F32,), seed=2, grad_dtypes=(frl.F32,))
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--cpu-selftest":
        result = _cpu_selftest(sys.argv[2])
        for row in result:
            print(row)
        bad = [row for row in result if not row["ok"]]
        print(f"{len(result) - len(bad)}/{len(result)} ok")
        sys.exit(1 if bad else 0)
    print(__doc__)

"""GPU check and benchmark of the fused LoRA matmul (frl_lora_forward / frl_lora_backward).

check(lib): CUDA against the CPU reference on small odd shapes and on split-K shapes of dA/dB
(N >> r, K: few output tiles, long reductions), adapters on and off, OVERWRITE and ACCUMULATE (dx,
dA, dB pre-filled with random values: the result must be G0 + gradient), for
  f32 base, f32 adapter (SIMT kernels, exact path)
  bf16 base, bf16 adapter, bf16 or f32 dA/dB
  bf16 base, f32 adapter (mixed precision: f32 master weights, f32 dA/dB)
and every bf16 case twice: through cuBLASLt (when built in: frl_built_with_cublas) and through our
WMMA kernel (FACTRL_GEMM=own). For BF16 the CPU reference gets the same bf16-rounded activations; an
f32 adapter is given to both unrounded (the GPU rounds it to bf16 for the products), so what is left
is bf16 rounding of A, B, u, v and the outputs.

bench(lib): N=8192 tokens, K=M=4096, r=64, bf16, s=0.25. Ours (forward + backward) beside PyTorch
eager autograd on the same math, and beside the bare GEMM (torch x@W^T forward + its dx backward);
cuBLASLt vs our WMMA kernel; f32 adapters vs bf16 adapters.
"""
import ctypes

import numpy as np

import frl

P = ctypes.c_void_p


def _bind(lib):
    if getattr(lib, "_lora_bound", False):
        return
    lib.frl_lora_forward.argtypes = [P, P, P, P, P, ctypes.c_float, ctypes.c_int, P, P]
    lib.frl_lora_forward.restype = ctypes.c_int
    lib.frl_lora_backward.argtypes = [P, P, P, P, P, ctypes.c_float, ctypes.c_int, P, P, P, P, P, ctypes.c_int]
    lib.frl_lora_backward.restype = ctypes.c_int
    lib._lora_bound = True


def _h(t):
    return t.handle if t is not None else None


def forward(lib, ctx, x, W, A, B, s, use_adapter, y, u):
    frl.check(lib, lib.frl_lora_forward(ctx.handle, _h(x), _h(W), _h(A), _h(B), s, use_adapter, _h(y), _h(u)))


def backward(lib, ctx, x, W, A, B, s, use_adapter, dy, u, dx, dA, dB, accumulate):
    frl.check(lib, lib.frl_lora_backward(ctx.handle, _h(x), _h(W), _h(A), _h(B), s, use_adapter, _h(dy), _h(u),
                                         _h(dx), _h(dA), _h(dB), accumulate))


def bf16_round(a):
    """Round-to-nearest-even to bf16, returned as float32 (what a BF16 tensor stores)."""
    b = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000
    return b.astype(np.uint32).view(np.float32)


def _run_all(lib, ctx, arrays, dt, adt, gdt, s, use_adapter, accumulate, init_grads):
    """Forward then backward on ctx; returns numpy results {y, u, dx, dA, dB}. dt: activations and W;
    adt: A and B; gdt: dA and dB; init_grads: starting dx, dA, dB (what ACCUMULATE adds to)."""
    N, K = arrays["x"].shape
    M = arrays["W"].shape[0]
    r = arrays["A"].shape[0]
    x, W, dy = (ctx.tensor(arrays[k], dt) for k in ("x", "W", "dy"))
    A, B = ctx.tensor(arrays["A"], adt), ctx.tensor(arrays["B"], adt)
    y, u = ctx.empty((N, M), dt), ctx.empty((N, r), dt)
    dx = ctx.tensor(init_grads[0], dt)
    dA, dB = ctx.tensor(init_grads[1], gdt), ctx.tensor(init_grads[2], gdt)
    forward(lib, ctx, x, W, A, B, s, use_adapter, y, u if use_adapter else None)
    backward(lib, ctx, x, W, A, B, s, use_adapter, dy, u if use_adapter else None, dx,
             dA if use_adapter else None, dB if use_adapter else None, accumulate)
    ctx.sync()
    out = {"y": y.numpy(), "dx": dx.numpy()}
    if use_adapter:
        out.update(u=u.numpy(), dA=dA.numpy(), dB=dB.numpy())
    for t in (x, W, A, B, dy, y, u, dx, dA, dB):
        t.close()
    ctx.tensors = [t for t in ctx.tensors if t.handle]
    return out


# (N, K, M, r): odd small shapes, then split-K shapes of dA [r, K] / dB [M, r] (few output tiles,
# reduction over N of 2000..4096: split over blockIdx.z in our kernel).
SHAPES = [(1, 1, 1, 1), (7, 13, 11, 3), (37, 263, 129, 1), (130, 257, 301, 17), (300, 520, 384, 64),
          (64, 4099, 72, 8), (4096, 256, 192, 16), (2001, 136, 120, 8)]


def _paths(lib):
    """GEMM paths to check for bf16: cuBLASLt (default where built in) and our WMMA kernel."""
    lib.frl_built_with_cublas.restype = ctypes.c_int
    return [("cublaslt", None), ("wmma", "own")] if lib.frl_built_with_cublas() else [("wmma", None)]


def check(lib):
    import os
    _bind(lib)
    rng = np.random.default_rng(0)
    rows = []
    # (name, activation dtype, adapter dtype, gradient dtype for accumulate=0)
    variants = [("f32", frl.F32, frl.F32, frl.F32), ("bf16", frl.BF16, frl.BF16, frl.BF16),
                ("bf16+f32adapter", frl.BF16, frl.F32, frl.F32)]
    saved = os.environ.get("FACTRL_GEMM")
    with frl.Ctx(lib, frl.CUDA) as gpu, frl.Ctx(lib, frl.CPU) as cpu:
        for (N, K, M, r) in SHAPES:
            for vname, dt, adt, gdt0 in variants:
                paths = [("simt", None)] if dt == frl.F32 else _paths(lib)
                for use_adapter, accumulate in ((1, 0), (1, 1), (0, 0), (0, 1)):
                    gdt = frl.F32 if accumulate else gdt0
                    s = 0.75
                    arrays = {"x": rng.uniform(-1, 1, (N, K)), "W": rng.uniform(-1, 1, (M, K)) / np.sqrt(K),
                              "A": rng.uniform(-1, 1, (r, K)) / np.sqrt(K), "B": rng.uniform(-1, 1, (M, r)),
                              "dy": rng.uniform(-1, 1, (N, M))}
                    arrays = {k: v.astype(np.float32) for k, v in arrays.items()}
                    if dt == frl.BF16:
                        for k in ("x", "W", "dy") + (("A", "B") if adt == frl.BF16 else ()):
                            arrays[k] = bf16_round(arrays[k])
                    init = [rng.uniform(-1, 1, shp).astype(np.float32) for shp in ((N, K), (r, K), (M, r))]
                    if not accumulate:
                        init = [np.zeros_like(v) for v in init]
                    if dt == frl.BF16:
                        init[0] = bf16_round(init[0])
                    if gdt == frl.BF16:
                        init[1], init[2] = bf16_round(init[1]), bf16_round(init[2])
                    ref = _run_all(lib, cpu, arrays, frl.F32, frl.F32, frl.F32, s, use_adapter, accumulate, init)
                    for pname, env in paths:
                        if env is None:
                            os.environ.pop("FACTRL_GEMM", None)
                        else:
                            os.environ["FACTRL_GEMM"] = env
                        try:
                            got = _run_all(lib, gpu, arrays, dt, adt, gdt, s, use_adapter, accumulate, init)
                        finally:
                            if saved is None:
                                os.environ.pop("FACTRL_GEMM", None)
                            else:
                                os.environ["FACTRL_GEMM"] = saved
                        for name in ref:
                            red = {"y": K + r, "u": K, "dx": M + r, "dA": N, "dB": N}[name]
                            scale = float(np.max(np.abs(ref[name]))) or 1.0
                            err = float(np.max(np.abs(ref[name] - got[name])))
                            tol = (2e-6 * np.sqrt(red) + 1e-6) * scale if dt == frl.F32 else 1.6e-2 * scale
                            rows.append({"name": f"lora {vname} [{pname}] {name} N={N} K={K} M={M} r={r} "
                                                 f"adapter={use_adapter} acc={accumulate}",
                                         "max_abs_err": err, "tol": float(tol), "ok": bool(err <= tol)})
    return rows


def cpu_check(lib):
    """No GPU: the CPU reference against numpy through the same plumbing as check(), including
    ACCUMULATE into pre-filled dx, dA, dB."""
    _bind(lib)
    rng = np.random.default_rng(5)
    rows = []
    with frl.Ctx(lib, frl.CPU) as cpu:
        for (N, K, M, r) in [(7, 13, 11, 3), (130, 257, 301, 17)]:
            for accumulate in (0, 1):
                a = {k: rng.uniform(-1, 1, shp).astype(np.float32)
                     for k, shp in (("x", (N, K)), ("W", (M, K)), ("A", (r, K)), ("B", (M, r)), ("dy", (N, M)))}
                init = [rng.uniform(-1, 1, shp).astype(np.float32) if accumulate else np.zeros(shp, np.float32)
                        for shp in ((N, K), (r, K), (M, r))]
                s = 0.75
                got = _run_all(lib, cpu, a, frl.F32, frl.F32, frl.F32, s, 1, accumulate, init)
                x, W, A, B, g = (a[k].astype(np.float64) for k in ("x", "W", "A", "B", "dy"))
                u = x @ A.T
                v = g @ B
                want = {"y": x @ W.T + s * u @ B.T, "u": u, "dx": init[0] + g @ W + s * v @ A,
                        "dA": init[1] + s * v.T @ x, "dB": init[2] + s * g.T @ u}
                for k, w in want.items():
                    err = float(np.max(np.abs(got[k] - w)))
                    tol = 1e-5 * np.sqrt(K + M + N) * max(1.0, float(np.max(np.abs(w))))
                    rows.append({"name": f"lora cpu {k} N={N} K={K} M={M} r={r} acc={accumulate}",
                                 "max_abs_err": err, "tol": tol, "ok": err <= tol})
    return rows


def bench(lib, N=8192, K=4096, M=4096, r=64, alpha=16.0):
    import torch
    _bind(lib)
    s = alpha / r
    rows = []
    torch.manual_seed(0)
    dev = "cuda"
    x = torch.randn(N, K, device=dev, dtype=torch.bfloat16)
    W = (torch.randn(M, K, device=dev, dtype=torch.bfloat16) / K ** 0.5)
    A = (torch.randn(r, K, device=dev, dtype=torch.bfloat16) / K ** 0.5)
    B = torch.randn(M, r, device=dev, dtype=torch.bfloat16) * 0.01
    dy = torch.randn(N, M, device=dev, dtype=torch.bfloat16)
    flops_lora = 4.0 * N * K * M + 6.0 * N * K * r + 6.0 * N * M * r
    flops_fwd = 2.0 * N * K * M + 2.0 * N * K * r + 2.0 * N * M * r
    flops_bare = 4.0 * N * K * M

    def sync():
        torch.cuda.synchronize()

    # PyTorch eager: same math, autograd, bf16.
    xg, Ag, Bg = x.clone().requires_grad_(True), A.clone().requires_grad_(True), B.clone().requires_grad_(True)

    def torch_fwd():
        with torch.no_grad():
            return x @ W.t() + s * ((x @ A.t()) @ B.t())

    def torch_fwd_bwd():
        y = xg @ W.t() + s * ((xg @ Ag.t()) @ Bg.t())
        return torch.autograd.grad(y, (xg, Ag, Bg), dy)

    def torch_bare():
        y = x @ W.t()
        dx = dy @ W
        return y, dx

    with frl.Ctx(lib, frl.CUDA) as gpu:
        host = {k: v.float().cpu().numpy() for k, v in (("x", x), ("W", W), ("A", A), ("B", B), ("dy", dy))}
        tx, tW, tA, tB, tdy = (gpu.tensor(host[k], frl.BF16) for k in ("x", "W", "A", "B", "dy"))
        ty, tu, tdx = gpu.empty((N, M), frl.BF16), gpu.empty((N, r), frl.BF16), gpu.empty((N, K), frl.BF16)
        tdA, tdB = gpu.empty((r, K), frl.BF16), gpu.empty((M, r), frl.BF16)
        del host

        def ours_fwd():
            forward(lib, gpu, tx, tW, tA, tB, s, 1, ty, tu)

        def ours_fwd_bwd():
            forward(lib, gpu, tx, tW, tA, tB, s, 1, ty, tu)
            backward(lib, gpu, tx, tW, tA, tB, s, 1, tdy, tu, tdx, tdA, tdB, 0)

        def ours_bare():
            forward(lib, gpu, tx, tW, None, None, s, 0, ty, None)
            backward(lib, gpu, tx, tW, None, None, s, 0, tdy, None, tdx, None, None, 0)

        # Correctness of the big shape against torch (same bf16 inputs).
        ours_fwd_bwd()
        gpu.sync()
        y_ref = x.float() @ W.float().t() + s * ((x.float() @ A.float().t()).bfloat16().float() @ B.float().t())
        y_err = float((torch.from_numpy(ty.numpy()).to(dev) - y_ref).abs().max() / y_ref.abs().max())

        t_ours_fwd = frl.time_it(ours_fwd, gpu.sync, warmup=3, iters=20)
        t_ours = frl.time_it(ours_fwd_bwd, gpu.sync, warmup=3, iters=20)
        import os
        os.environ["FACTRL_GEMM"] = "own"  # our WMMA kernel even where cuBLASLt is built in
        try:
            t_ours_wmma = frl.time_it(ours_fwd_bwd, gpu.sync, warmup=3, iters=20)
        finally:
            os.environ.pop("FACTRL_GEMM", None)
        tA32, tB32 = gpu.tensor(A.float().cpu().numpy(), frl.F32), gpu.tensor(B.float().cpu().numpy(), frl.F32)
        tdA32, tdB32 = gpu.empty((r, K), frl.F32), gpu.empty((M, r), frl.F32)

        def ours_fwd_bwd_f32_adapter():
            forward(lib, gpu, tx, tW, tA32, tB32, s, 1, ty, tu)
            backward(lib, gpu, tx, tW, tA32, tB32, s, 1, tdy, tu, tdx, tdA32, tdB32, 0)

        t_ours_mixed = frl.time_it(ours_fwd_bwd_f32_adapter, gpu.sync, warmup=3, iters=20)
        t_ours_bare = frl.time_it(ours_bare, gpu.sync, warmup=3, iters=20)
        t_torch_fwd = frl.time_it(torch_fwd, sync, warmup=3, iters=20)
        t_torch = frl.time_it(torch_fwd_bwd, sync, warmup=3, iters=20)
        t_bare = frl.time_it(torch_bare, sync, warmup=3, iters=20)

    shape = f"N={N} K={K} M={M} r={r} bf16"
    rows.append({"name": f"lora forward {shape}", "ours_ms": t_ours_fwd, "torch_ms": t_torch_fwd,
                 "ratio": t_torch_fwd / t_ours_fwd, "ours_tflops": flops_fwd / t_ours_fwd / 1e9,
                 "torch_tflops": flops_fwd / t_torch_fwd / 1e9, "y_rel_err_vs_torch": y_err})
    rows.append({"name": f"lora forward+backward {shape}", "ours_ms": t_ours, "torch_ms": t_torch,
                 "ratio": t_torch / t_ours, "ours_tflops": flops_lora / t_ours / 1e9,
                 "torch_tflops": flops_lora / t_torch / 1e9, "target_ratio": 1.4})
    rows.append({"name": f"lora fwd+bwd vs bare GEMM (torch x@W^T + dy@W) {shape}", "ours_ms": t_ours,
                 "torch_ms": t_bare, "ratio": t_bare / t_ours, "ours_over_bare": t_ours / t_bare,
                 "target_ours_over_bare": 1.10, "bare_tflops": flops_bare / t_bare / 1e9})
    lib.frl_built_with_cublas.restype = ctypes.c_int
    rows.append({"name": f"lora fwd+bwd, default path (cuBLASLt={lib.frl_built_with_cublas()}) vs our WMMA {shape}",
                 "ours_ms": t_ours, "torch_ms": t_ours_wmma, "ratio": t_ours_wmma / t_ours})
    rows.append({"name": f"lora fwd+bwd, f32 adapters + f32 dA/dB (mixed) vs bf16 adapters {shape}",
                 "ours_ms": t_ours_mixed, "torch_ms": t_ours, "ratio": t_ours / t_ours_mixed})
    rows.append({"name": f"our bare GEMM (adapters off fwd+dx) vs torch bare {shape}", "ours_ms": t_ours_bare,
                 "torch_ms": t_bare, "ratio": t_bare / t_ours_bare, "ours_tflops": flops_bare / t_ours_bare / 1e9,
                 "fusion_overhead_ours_lora_over_ours_bare": t_ours / t_ours_bare})
    return rows

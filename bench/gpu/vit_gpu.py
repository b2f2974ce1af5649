"""GPU visit for the ViT patch embedding (native/include/factrl/vit_embed.h: patchify, its inverse
scatter, the class-token / position assembly) and the masked cross-entropy
(native/include/factrl/cross_entropy.h).

check(lib): every op on CUDA against the CPU reference (the CPU computes on the same, bf16-rounded
            where the device stores bf16, inputs). Tolerances:
              patchify, patchify backward (overwrite), assemble forward and backward with F32
                storage: exact (moves, one add per element, and sums over b in ascending order on
                both backends);
              any BF16 output: 2^-8 · max|ref| (one bf16 rounding of the same f32 value; the CPU
                result is rounded with numpy's round-to-nearest-even first, so this is slack only);
              patchify backward accumulate into F32: exact (one add);
              cross-entropy loss: 1e-5 · max(1, |ref|) (the device sums logp in a tree);
              logp, lse: 2e-5 · max(1, |ref|) (the log-prob kernel's online log-sum-exp, in
                another order than the CPU's);
              dlogits F32: 1e-6 · max(1, max|ref|) + 1e-7; BF16: 2^-8 · max|ref| + 1e-7.
            Shapes: odd ones (B = 1, p = 1, non-square images), a CLIP-sized one (64 × 3 × 224 × 224,
            p = 14; assembly 64 × 257 × 1024; on the device only), image views (channels-last storage, a batch/column slice), empty
            batches, [2048, 32000] logits (device only), an all-masked batch (loss 0, gradient 0), and a bad
            target on CUDA (the op returns OK, the next sync names 'actions', then is clear).
bench(lib): patchify of 64 × 3 × 224 × 224 bf16 (p = 14) beside torch's
            unfold/permute/contiguous into a preallocated buffer, and cross-entropy forward +
            backward on [4096, 32000] bf16 logits beside torch.nn.functional.cross_entropy +
            autograd.grad, 20 calls between syncs; ratio = torch_ms / ours_ms.

Run through bench/gpu/run.py. Without a GPU, `python3 bench/gpu/vit_gpu.py --cpu-selftest LIB`
runs the same comparisons with a second CPU context as the "device" (F32 only), and also checks
the CPU against numpy re-implementations of the header's formulas.
"""
import ctypes
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frl  # noqa: E402
from glue_gpu import BF16_ULP, _err, _row, _scale, bf16_round  # noqa: E402


def _name(dt):
    return "bf16" if dt == frl.BF16 else "f32"


def _r(x, dt):
    """What a tensor of dtype dt stores for the f32 values x."""
    return bf16_round(x) if dt == frl.BF16 else np.asarray(x, np.float32)


def _patchify_np(image, p):
    b, c, h, w = image.shape
    x = image.reshape(b, c, h // p, p, w // p, p).transpose(0, 2, 4, 1, 3, 5)  # b, py, px, c, ky, kx
    return np.ascontiguousarray(x.reshape(b, (h // p) * (w // p), c * p * p))


def _image_views(ctx, image, dt, kind):
    """The image as a tensor of ctx: contiguous, a channels-last view, or a slice of a larger one."""
    b, c, h, w = image.shape
    if kind == "contiguous":
        return ctx.tensor(image, dt)
    if kind == "channels-last":
        store = ctx.tensor(np.ascontiguousarray(image.transpose(0, 2, 3, 1)), dt)  # [B, H, W, C]
        return store.view(0, (b, c, h, w), (h * w * c, 1, w * c, c))
    # a batch and column slice of a [B+1, C, H, W+3] buffer
    big = np.zeros((b + 1, c, h, w + 3), np.float32)
    big[1:, :, :, 2:2 + w] = image
    store = ctx.tensor(big, dt)
    s = (c * h * (w + 3), h * (w + 3), w + 3, 1)
    return store.view(s[0] + 2, (b, c, h, w), s)


def _check_patchify(lib, dev, cpu, dtypes, rng, numpy_too):
    rows = []
    shapes = [(1, 1, 2, 2, 1), (2, 3, 16, 12, 4), (3, 2, 9, 15, 3), (0, 3, 8, 8, 4), (4, 3, 64, 64, 8)]
    if not numpy_too:  # on the device: one CLIP-sized batch (grid-stride loops, > 2^31 / 256 threads' worth)
        shapes.append((64, 3, 224, 224, 14))
    for (b, c, h, w, p) in shapes:
        image = rng.standard_normal((b, c, h, w)).astype(np.float32)
        P, F = (h // p) * (w // p), c * p * p
        tag = f"B={b} C={c} H={h} W={w} p={p}"
        kinds = ("contiguous",) if b * h * w > 10 ** 6 else ("contiguous", "channels-last", "slice")
        for din in dtypes:
            for dout in dtypes:
                img = _r(image, din)
                tc = cpu.tensor(img)
                want = cpu.empty((b, P, F))
                frl.check(lib, lib.frl_patchify(cpu.handle, tc.handle, p, want.handle))
                ref = _r(want.numpy(), dout)
                if numpy_too and din == dout == frl.F32:
                    rows.append(_row(f"patchify cpu vs numpy {tag}", _err(want.numpy(), _patchify_np(img, p)), 0.0))
                for kind in kinds:
                    ti = _image_views(dev, img, din, kind)
                    got = dev.empty((b, P, F), dout)
                    frl.check(lib, lib.frl_patchify(dev.handle, ti.handle, p, got.handle))
                    tol = BF16_ULP * _scale(ref) if dout == frl.BF16 else 0.0
                    rows.append(_row(f"patchify {_name(din)}->{_name(dout)} {kind} {tag}", _err(got.numpy(), ref), tol))
                # backward: the inverse scatter, onto a G0 in both modes
                dp = _r(rng.standard_normal((b, P, F)).astype(np.float32), din)
                g0 = _r(rng.standard_normal((b, c, h, w)).astype(np.float32), dout)
                for mode in (0, 1):
                    want = cpu.tensor(g0)
                    frl.check(lib, lib.frl_patchify_backward(cpu.handle, cpu.tensor(dp).handle, p, want.handle, mode))
                    ref = _r(want.numpy(), dout)
                    if numpy_too and din == dout == frl.F32 and b > 0:
                        back = np.zeros_like(g0)
                        back[...] = dp.reshape(b, h // p, w // p, c, p, p).transpose(0, 3, 1, 4, 2, 5).reshape(b, c, h, w)
                        rows.append(_row(f"patchify backward cpu vs numpy mode={mode} {tag}",
                                         _err(ref, back + (g0 if mode else 0)), 0.0))
                    got = dev.tensor(g0, dout)
                    frl.check(lib, lib.frl_patchify_backward(dev.handle, dev.tensor(dp, din).handle, p, got.handle, mode))
                    tol = BF16_ULP * _scale(ref) if dout == frl.BF16 else 0.0
                    rows.append(_row(f"patchify backward {_name(din)}->{_name(dout)} mode={mode} {tag}",
                                     _err(got.numpy(), ref), tol))
    return rows


def _check_assemble(lib, dev, cpu, dtypes, rng, numpy_too):
    rows = []
    shapes = [(1, 0, 1), (3, 4, 5), (2, 49, 33), (0, 4, 8), (4, 64, 200)]  # the last: CPU's OpenMP paths
    if not numpy_too:
        shapes.append((64, 256, 1024))
    for (b, P, D) in shapes:
        proj = rng.standard_normal((b, P, D)).astype(np.float32)
        cls = rng.standard_normal(D).astype(np.float32)
        pos = rng.standard_normal((P + 1, D)).astype(np.float32)
        g = rng.standard_normal((b, P + 1, D)).astype(np.float32)
        tag = f"B={b} P={P} D={D}"
        for act in dtypes:        # proj, out, dout, dproj (activations)
            for par in dtypes:    # cls, pos, dcls, dpos (parameters)
                pj, cl, ps, gg = _r(proj, act), _r(cls, par), _r(pos, par), _r(g, act)
                out = cpu.empty((b, P + 1, D))
                frl.check(lib, lib.frl_vit_embed_assemble_forward(cpu.handle, cpu.tensor(pj).handle, cpu.tensor(cl).handle,
                                                                  cpu.tensor(ps).handle, out.handle))
                ref = _r(out.numpy(), act)
                if numpy_too and act == par == frl.F32:
                    want = np.concatenate([np.broadcast_to(cl, (b, 1, D)), pj], axis=1) + ps[None]
                    rows.append(_row(f"assemble cpu vs numpy {tag}", _err(out.numpy(), want), 0.0))
                got = dev.empty((b, P + 1, D), act)
                frl.check(lib, lib.frl_vit_embed_assemble_forward(dev.handle, dev.tensor(pj, act).handle,
                                                                  dev.tensor(cl, par).handle, dev.tensor(ps, par).handle,
                                                                  got.handle))
                tol = BF16_ULP * _scale(ref) if act == frl.BF16 else 0.0
                rows.append(_row(f"assemble forward act={_name(act)} par={_name(par)} {tag}", _err(got.numpy(), ref), tol))
                g0p = _r(rng.standard_normal((b, P, D)).astype(np.float32), act)
                g0c = _r(rng.standard_normal(D).astype(np.float32), par)
                g0s = _r(rng.standard_normal((P + 1, D)).astype(np.float32), par)
                for mp, mq in ((0, 0), (1, 1), (0, 1)):
                    outs = []
                    for ctx, (da, dp_) in ((cpu, (frl.F32, frl.F32)), (dev, (act, par))):
                        tdp, tdc, tds = ctx.tensor(g0p, da), ctx.tensor(g0c, dp_), ctx.tensor(g0s, dp_)
                        frl.check(lib, lib.frl_vit_embed_assemble_backward(ctx.handle, ctx.tensor(gg, da).handle,
                                                                           tdp.handle, tdc.handle, tds.handle, mp, mq))
                        outs.append((tdp.numpy(), tdc.numpy(), tds.numpy()))
                    if numpy_too and act == par == frl.F32:
                        s = gg.sum(axis=0) if b > 0 else np.zeros((P + 1, D), np.float32)
                        rows.append(_row(f"assemble backward cpu vs numpy modes={mp},{mq} {tag}",
                                         max(_err(outs[0][0], gg[:, 1:] + (g0p if mp else 0)),
                                             _err(outs[0][2], s + (g0s if mq else 0)),
                                             _err(outs[0][1], s[0] + (g0c if mq else 0))),
                                         1e-5 * max(1, b)))
                    for k, (nm, dt) in enumerate((("dproj", act), ("dcls", par), ("dpos", par))):
                        ref = _r(outs[0][k], dt)
                        tol = BF16_ULP * _scale(ref) if dt == frl.BF16 else 0.0
                        rows.append(_row(f"assemble backward {nm} act={_name(act)} par={_name(par)} modes={mp},{mq} {tag}",
                                         _err(outs[1][k], ref), tol))
    return rows


def _ce(lib, ctx, logits, targets, mask, dt, grad_loss, g0, mode):
    """(loss, logp, lse, dlogits) of one forward + backward on ctx (logits stored as dt)."""
    T, V = logits.shape
    tz = ctx.tensor(logits, dt)
    ta = ctx.tensor(targets)
    tm = ctx.tensor(mask) if mask is not None else None
    loss, logp, lse = ctx.empty((1,)), ctx.empty((T,)), ctx.empty((T,))
    frl.check(lib, lib.frl_cross_entropy_forward(ctx.handle, tz.handle, ta.handle, tm.handle if tm else None,
                                                 loss.handle, logp.handle, lse.handle))
    dz = ctx.tensor(g0, dt)
    frl.check(lib, lib.frl_cross_entropy_backward(ctx.handle, tz.handle, ta.handle, tm.handle if tm else None,
                                                  lse.handle, grad_loss, dz.handle, mode))
    result = loss.numpy(), logp.numpy(), lse.numpy(), dz.numpy()
    for t in (tz, ta, tm, loss, logp, lse, dz):  # free [T, V] buffers now, not at the context's close
        if t is not None:
            t.close()
    return result


def _check_cross_entropy(lib, dev, cpu, dtypes, rng, numpy_too):
    rows = []
    shapes = [(1, 1, False), (7, 13, True), (300, 1000, True), (5, 9, "all")]
    if not numpy_too:
        shapes.append((2048, 32000, True))
    for (T, V, masked) in shapes:
        logits = (rng.standard_normal((T, V)) * 3).astype(np.float32)
        targets = rng.integers(0, V, size=T).astype(np.int32)
        if masked == "all":
            mask = np.zeros(T, np.int32)
        elif masked:
            mask = (rng.random(T) < 0.6).astype(np.int32)
            mask[0] = 1
            targets[mask == 0] = V + 7  # never read
        else:
            mask = None
        tag = f"T={T} V={V} mask={masked}"
        for dt in dtypes:
            z = _r(logits, dt)
            g0 = _r(rng.standard_normal((T, V)).astype(np.float32) * 1e-3, dt)
            for mode in (0, 1):
                want = _ce(lib, cpu, z, targets, mask, frl.F32, 0.5, _r(g0, frl.F32), mode)
                got = _ce(lib, dev, z, targets, mask, dt, 0.5, g0, mode)
                if numpy_too and dt == frl.F32 and mode == 0:
                    zz = z.astype(np.float64)
                    lse = np.log(np.exp(zz - zz.max(1, keepdims=True)).sum(1)) + zz.max(1)
                    m = np.ones(T) if mask is None else mask.astype(np.float64)
                    a = np.where(m > 0, targets, 0)
                    logp = (zz[np.arange(T), a] - lse) * m
                    n = m.sum()
                    loss = -logp.sum() / n if n > 0 else 0.0
                    soft = np.exp(zz - lse[:, None])
                    onehot = np.zeros_like(zz)
                    onehot[np.arange(T), a] = 1
                    dz = 0.5 * (-(m / n if n > 0 else 0 * m))[:, None] * (onehot - soft)
                    rows.append(_row(f"cross-entropy cpu vs numpy {tag}",
                                     max(_err(want[0], np.float32([loss])) / max(1, abs(loss)),
                                         _err(want[1], logp.astype(np.float32)) / max(1, np.abs(logp).max()),
                                         _err(want[3], dz.astype(np.float32))),
                                     2e-5))
                ref_dz = _r(want[3], dt)
                rows.append(_row(f"cross-entropy loss {_name(dt)} mode={mode} {tag}", _err(got[0], want[0]),
                                 1e-5 * max(1.0, float(np.abs(want[0]).max()))))
                rows.append(_row(f"cross-entropy logp {_name(dt)} {tag}", _err(got[1], want[1]),
                                 2e-5 * max(1.0, _scale(want[1]))))
                rows.append(_row(f"cross-entropy lse {_name(dt)} {tag}", _err(got[2], want[2]),
                                 2e-5 * max(1.0, _scale(want[2]))))
                tol = (BF16_ULP * _scale(ref_dz) if dt == frl.BF16 else 1e-6 * max(1.0, _scale(ref_dz))) + 1e-7
                rows.append(_row(f"cross-entropy dlogits {_name(dt)} mode={mode} {tag}", _err(got[3], ref_dz), tol))
                if masked == "all":
                    rows.append(_row(f"cross-entropy all masked: loss 0 {_name(dt)}", abs(float(got[0][0])), 0.0))
    return rows


def _check_bad_target(lib, dev):
    rows = []
    z = dev.tensor(np.zeros((3, 5), np.float32))
    a = dev.tensor(np.array([1, 7, 2], np.int32))
    loss = dev.empty((1,))
    status = lib.frl_cross_entropy_forward(dev.handle, z.handle, a.handle, None, loss.handle, None, None)
    first = lib.frl_ctx_synchronize(dev.handle)
    msg = lib.frl_last_error().decode() if first != 0 else ""
    second = lib.frl_ctx_synchronize(dev.handle)
    rows.append(_row("cross-entropy bad target: op OK, sync names 'actions' row 1, then clear", 0.0, 0.0,
                     ok=status == 0 and first != 0 and "'actions'" in msg and "row 1" in msg and second == 0))
    return rows


def check(lib, device_backend=frl.CUDA):
    frl.declare_vit(lib)
    rng = np.random.default_rng(0)
    on_gpu = device_backend == frl.CUDA
    dtypes = (frl.F32, frl.BF16) if on_gpu else (frl.F32,)
    rows = []
    with frl.Ctx(lib, device_backend) as dev, frl.Ctx(lib, frl.CPU) as cpu:
        rows += _check_patchify(lib, dev, cpu, dtypes, rng, numpy_too=not on_gpu)
    with frl.Ctx(lib, device_backend) as dev, frl.Ctx(lib, frl.CPU) as cpu:
        rows += _check_assemble(lib, dev, cpu, dtypes, rng, numpy_too=not on_gpu)
    with frl.Ctx(lib, device_backend) as dev, frl.Ctx(lib, frl.CPU) as cpu:
        rows += _check_cross_entropy(lib, dev, cpu, dtypes, rng, numpy_too=not on_gpu)
        if on_gpu:
            rows += _check_bad_target(lib, dev)
    return rows


# ---- benchmarks --------------------------------------------------------------------------------

REPS = 20


def _ms_per_call(fn, sync):
    def loop():
        for _ in range(REPS):
            fn()
    return frl.time_it(loop, sync) / REPS


def bench(lib):
    import torch
    frl.declare_vit(lib)
    rows = []
    dev = torch.device("cuda")
    tsync = torch.cuda.synchronize
    with frl.Ctx(lib, frl.CUDA) as gpu:
        b, c, h, w, p = 64, 3, 224, 224, 14
        P, F = (h // p) * (w // p), c * p * p
        img = np.random.default_rng(1).standard_normal((b, c, h, w)).astype(np.float32)
        ti = gpu.tensor(img, frl.BF16)
        tp = gpu.empty((b, P, F), frl.BF16)
        timg = torch.from_numpy(img).to(dev, torch.bfloat16)
        tout = torch.empty((b, P, F), device=dev, dtype=torch.bfloat16)

        def theirs_patchify():
            x = timg.unfold(2, p, p).unfold(3, p, p)  # b, c, py, px, ky, kx
            tout.view(b, h // p, w // p, c, p, p).copy_(x.permute(0, 2, 3, 1, 4, 5))

        ours = _ms_per_call(lambda: frl.check(lib, lib.frl_patchify(gpu.handle, ti.handle, p, tp.handle)), gpu.sync)
        theirs = _ms_per_call(theirs_patchify, tsync)
        rows.append({"name": "patchify bf16 64x3x224x224 p=14", "ours_ms": ours, "torch_ms": theirs,
                     "ratio": theirs / ours, "ours_GBps": 2 * 2 * img.size / ours / 1e6})
        T, V = 4096, 32000
        rng = np.random.default_rng(2)
        z = rng.standard_normal((T, V)).astype(np.float32)
        a = rng.integers(0, V, size=T).astype(np.int32)
        m = (rng.random(T) < 0.6).astype(np.int32)
        tz, ta, tm = gpu.tensor(z, frl.BF16), gpu.tensor(a), gpu.tensor(m)
        loss, lse, dz = gpu.empty((1,)), gpu.empty((T,)), gpu.empty((T, V), frl.BF16)

        def ours_ce():
            frl.check(lib, lib.frl_cross_entropy_forward(gpu.handle, tz.handle, ta.handle, tm.handle, loss.handle,
                                                         None, lse.handle))
            frl.check(lib, lib.frl_cross_entropy_backward(gpu.handle, tz.handle, ta.handle, tm.handle, lse.handle,
                                                          1.0, dz.handle, 0))

        tzt = torch.from_numpy(z).to(dev, torch.bfloat16).requires_grad_(True)
        tgt = torch.from_numpy(np.where(m > 0, a, -100).astype(np.int64)).to(dev)

        def theirs_ce():
            l = torch.nn.functional.cross_entropy(tzt, tgt, ignore_index=-100)
            torch.autograd.grad(l, tzt)

        ours = _ms_per_call(ours_ce, gpu.sync)
        theirs = _ms_per_call(theirs_ce, tsync)
        rows.append({"name": "cross-entropy fwd+bwd bf16 T=4096 V=32000", "ours_ms": ours, "torch_ms": theirs,
                     "ratio": theirs / ours})
        gpu.sync()
    return rows


def cpu_check(lib):
    """run.py --dry-run: the same comparisons with a second CPU context as the device, plus numpy."""
    return check(lib, device_backend=frl.CPU)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--cpu-selftest":
        lib = frl.load(sys.argv[2])
        bad = [r for r in cpu_check(lib) if not r["ok"]]
        for r in bad:
            print("FAILED", r)
        print("cpu self-test:", "ok" if not bad else f"{len(bad)} failed")
        sys.exit(1 if bad else 0)
    print(__doc__)

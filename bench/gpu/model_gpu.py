"""GPU visit for the LLaVA model on CUDA (native/include/factrl/model.h) and the masked attention
it needs (native/include/factrl/attention.h, the *_masked entry points).

check(lib):
  masked attention: CUDA against the CPU reference, f32 and bf16 storage: Sq != Sk, per-row key
    lengths (0, partial, full) and query offsets (decode-style: off + Sq = L; past the cache;
    prefix), causal and not, NULL masks; out, lse; dq, dk, dv OVERWRITE and ACCUMULATE onto G0 from
    the same out / lse on both sides; twice with the same bits; the masked entry point with NULL
    masks and Sq = Sk gives bitwise the unmasked one's outputs.
  model: the same model built on a CPU and a CUDA context through the C API (same config, same
    weights: frl_model_init_weights with one seed initialises on the host on both, checked equal;
    an adapter set whose A and B are overwritten with the same random values on both sides, so the
    LoRA path is not a zero no-op), for the `micro` config (MLP2X_GELU projector, 2 + 2 layers) and
    the `tiny` preset (LINEAR projector, 64x64 images, a 4-layer decoder of width 192, V = 909):
      - training forward with images, targets and a text-only row with padding-length targets:
        logits, hidden, logp;
      - backward from a random d_logp and d_hidden: every base gradient (all groups) and every
        adapter gradient (OVERWRITE, then ACCUMULATE onto the same blobs = twice the first);
      - an inference forward with no adapter and no image (logits).
    Tolerances (f32; the CUDA kernels sum in other orders and use fast-math exp/log):
      logits, hidden, logp: |got - want| <= 1e-4 * max(1, s) + 1e-3 |want|  (s = max |want|);
      gradients, per tensor: |got - want| <= 2e-3 * s + 1e-2 |want|, s = max |want| of that tensor
        (a sum over B*S rows through up to 6 blocks in another order).
bench(lib): one f32 SFT step (forward + backward of every base weight) of the `small` preset
    (108M parameters) at B=8, S=256 with one image per row, on CUDA: ms per step, tokens/s and the
    achieved TFLOP/s of 6 * params * tokens (the decoder's matmul FLOPs, a lower bound). bf16
    storage for the model has not landed: no bf16 MFU number for a ~1B decoder yet.

cpu_check(lib) (run.py --dry-run): the same comparisons with a second CPU context as the device;
every value must then match bitwise (same kernels), which checks the plumbing without a GPU.
"""
import ctypes
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frl  # noqa: E402
from layers_gpu import BF16_REL, _compare, _scale, bf16_round  # noqa: E402

OVERWRITE, ACCUMULATE = 0, 1
FRL_PROJECTOR_LINEAR, FRL_PROJECTOR_MLP2X_GELU = 0, 1
FRL_LORA_ALL_DECODER, FRL_LORA_PROJECTOR = 127, 128
FRL_GROUP_ALL = 7


class ModelConfig(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int32) for n in (
        "image_size", "image_channels", "patch_size", "vision_hidden", "vision_layers", "vision_heads",
        "vision_intermediate", "vision_feature_layer")] + [("vision_layer_norm_eps", ctypes.c_float),
                                                           ("projector", ctypes.c_int32)] + [
        (n, ctypes.c_int32) for n in ("vocab_size", "hidden", "layers", "heads", "intermediate", "max_positions")] + [
        ("rope_theta", ctypes.c_float), ("rms_norm_eps", ctypes.c_float), ("image_token_id", ctypes.c_int32)]


class Inputs(ctypes.Structure):
    _fields_ = [("input_ids", ctypes.c_void_p), ("images", ctypes.c_void_p), ("targets", ctypes.c_void_p)]


class Outputs(ctypes.Structure):
    _fields_ = [("logits", ctypes.c_void_p), ("hidden", ctypes.c_void_p), ("logp", ctypes.c_void_p)]


def micro():
    return ModelConfig(8, 3, 4, 8, 2, 2, 12, -2, 1e-5, FRL_PROJECTOR_MLP2X_GELU, 23, 16, 2, 2, 24, 16, 1e4, 1e-6, 22)


def tiny():
    # ModelConfig.tiny() (java/org/factrl/model/ModelConfig.java); the image token id is any id < V here.
    return ModelConfig(64, 3, 8, 128, 2, 4, 512, -1, 1e-5, FRL_PROJECTOR_LINEAR, 909, 192, 4, 4, 512, 512, 1e4, 1e-6,
                       3)


def small():
    return ModelConfig(128, 3, 16, 384, 12, 6, 1536, -2, 1e-5, FRL_PROJECTOR_LINEAR, 909, 768, 12, 12, 2048, 1024,
                       1e4, 1e-6, 3)


def declare(lib):
    p, pp, i64 = ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_int64
    sigs = {
        "frl_model_create": [p, ctypes.POINTER(ModelConfig), pp],
        "frl_model_destroy": [p],
        "frl_model_params": [p, pp],
        "frl_model_init_weights": [p, ctypes.c_uint64, ctypes.c_float],
        "frl_model_add_adapter": [p, ctypes.c_char_p, ctypes.c_int32, ctypes.c_float, ctypes.c_uint32,
                                  ctypes.c_uint64],
        "frl_model_adapter": [p, ctypes.c_char_p, pp],
        "frl_model_plan": [p, i64, i64, i64, ctypes.c_int],
        "frl_model_forward": [p, ctypes.c_char_p, ctypes.POINTER(Inputs), ctypes.POINTER(Outputs), ctypes.c_int],
        "frl_model_backward": [p, p, p, p, ctypes.c_uint32, p, ctypes.c_int],
        "frl_attention_forward": [p, p, p, p, ctypes.c_int, ctypes.c_float, p, p],
        "frl_attention_forward_masked": [p, p, p, p, p, p, ctypes.c_int, ctypes.c_float, p, p],
        "frl_attention_backward_masked": [p, p, p, p, p, p, p, p, p, ctypes.c_int, ctypes.c_float, p, p, p,
                                          ctypes.c_int],
        "frl_blob_count": [p, ctypes.POINTER(i64)],
        "frl_blob_name": [p, i64, ctypes.POINTER(ctypes.c_char_p)],
        "frl_blob_tensor_at": [p, i64, pp],
        "frl_blob_create_like": [p, pp],
        "frl_blob_destroy": [p],
    }
    for name, args in sigs.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, ctypes.c_int


def _h(t):
    return t.handle if t is not None else None


# ---- masked attention ----------------------------------------------------------------------------

def _masked_run(lib, ctx, dt, q, k, v, dout, lens, offs, causal, scale, out_in, lse_in, g0):
    B, Sq, H, D = q.shape
    tq, tk, tv, tg = ctx.tensor(q, dt), ctx.tensor(k, dt), ctx.tensor(v, dt), ctx.tensor(dout, dt)
    tl = ctx.tensor(lens, frl.I32) if lens is not None else None
    to = ctx.tensor(offs, frl.I32) if offs is not None else None
    out, lse = ctx.empty(q.shape, dt), ctx.empty((B, H, Sq))
    frl.check(lib, lib.frl_attention_forward_masked(ctx.handle, tq.handle, tk.handle, tv.handle, _h(tl), _h(to),
                                                    causal, scale, out.handle, lse.handle))
    res = {"out": out.numpy(), "lse": lse.numpy()}
    if out_in is None:
        return res
    oi, li = ctx.tensor(out_in, dt), ctx.tensor(lse_in)
    dq, dk, dv = ctx.empty(q.shape, dt), ctx.empty(k.shape, dt), ctx.empty(k.shape, dt)
    frl.check(lib, lib.frl_attention_backward_masked(ctx.handle, tq.handle, tk.handle, tv.handle, _h(tl), _h(to),
                                                     oi.handle, li.handle, tg.handle, causal, scale, dq.handle,
                                                     dk.handle, dv.handle, OVERWRITE))
    res.update(dq=dq.numpy(), dk=dk.numpy(), dv=dv.numpy())
    dq, dk, dv = ctx.tensor(g0[0], dt), ctx.tensor(g0[1], dt), ctx.tensor(g0[2], dt)
    frl.check(lib, lib.frl_attention_backward_masked(ctx.handle, tq.handle, tk.handle, tv.handle, _h(tl), _h(to),
                                                     oi.handle, li.handle, tg.handle, causal, scale, dq.handle,
                                                     dk.handle, dv.handle, ACCUMULATE))
    res.update({"dq acc": dq.numpy(), "dk acc": dk.numpy(), "dv acc": dv.numpy()})
    return res


def _check_masked_attention(lib, dev, cpu, dtypes, rng):
    rows = []
    # (B, Sq, Sk, H, D, key lengths, query offsets): prompts (Sq = Sk, right padding, an empty row),
    # decode (Sq = 1 and 3 new tokens over a cache with off + Sq = L), queries past the cache, no masks.
    cases = [
        (3, 7, 7, 2, 8, [7, 4, 0], None),
        (3, 1, 12, 2, 16, [5, 12, 1], [4, 11, 0]),
        (2, 3, 20, 4, 32, [9, 3], [6, 0]),
        (2, 4, 10, 2, 8, [6, 10], [9, 20]),
        (2, 5, 9, 3, 64, None, [2, 4]),
        (2, 6, 6, 2, 128, None, None),
        (1, 40, 300, 2, 64, [257], [217]),
    ]
    for (B, Sq, Sk, H, D, lens, offs) in cases:
        lens_a = np.array(lens, np.int32) if lens is not None else None
        offs_a = np.array(offs, np.int32) if offs is not None else None
        for causal in (1, 0):
            scale = 1.0 / np.sqrt(D)
            q, g = [rng.standard_normal((B, Sq, H, D)).astype(np.float32) for _ in range(2)]
            k, v = [rng.standard_normal((B, Sk, H, D)).astype(np.float32) for _ in range(2)]
            g0 = [(rng.standard_normal(s) * 3).astype(np.float32) for s in (q.shape, k.shape, k.shape)]
            for dt in dtypes:
                r = bf16_round if dt == frl.BF16 else (lambda a: a)
                qv, kv, vv, gv, g0v = r(q), r(k), r(v), r(g), [r(a) for a in g0]
                fwd = _masked_run(lib, cpu, frl.F32, qv, kv, vv, gv, lens_a, offs_a, causal, scale, None, None, g0v)
                out_in, lse_in = r(fwd["out"]), fwd["lse"]
                want = _masked_run(lib, cpu, frl.F32, qv, kv, vv, gv, lens_a, offs_a, causal, scale, out_in, lse_in,
                                   g0v)
                got = _masked_run(lib, dev, dt, qv, kv, vv, gv, lens_a, offs_a, causal, scale, out_in, lse_in, g0v)
                again = _masked_run(lib, dev, dt, qv, kv, vv, gv, lens_a, offs_a, causal, scale, out_in, lse_in,
                                    g0v)
                tag = (f"{'bf16' if dt == frl.BF16 else 'f32'} B{B} Sq{Sq} Sk{Sk} H{H} D{D} lens={lens} "
                       f"offs={offs} causal={causal}")
                for key in want:
                    stat = key == "lse"
                    ref = want[key] if stat else r(want[key])
                    if stat:  # −inf rows (no visible key) must match exactly
                        inf_ok = bool(np.array_equal(np.isneginf(got[key]), np.isneginf(ref)))
                        fin = ~np.isneginf(ref)
                        row = _compare(f"masked attention lse {tag}", got[key][fin], ref[fin],
                                       1e-5 * max(1.0, _scale(ref[fin])), 1e-4)
                        row["ok"] = row["ok"] and inf_ok
                        rows.append(row)
                        continue
                    sc = _scale(ref)
                    if dt == frl.F32:
                        atol, rtol = 1e-5 * max(1.0, sc), 1e-4
                    else:
                        atol, rtol = (BF16_REL * 1e-2 * sc if key == "out" else 1e-3 * sc), BF16_REL
                    rows.append(_compare(f"masked attention {key} {tag}", got[key], ref, atol, rtol))
                for key in ("out", "lse", "dq", "dk", "dv"):
                    same = bool(np.array_equal(got[key].view(np.uint32), again[key].view(np.uint32)))
                    rows.append({"name": f"masked attention {key} twice, same bits {tag}",
                                 "max_abs_err": 0.0 if same else float("inf"), "tol": 0.0, "ok": same})
    # NULL masks with Sq = Sk: bitwise the unmasked entry point.
    for dt in dtypes:
        B, S, H, D = 2, 9, 2, 16
        q, k, v = [rng.standard_normal((B, S, H, D)).astype(np.float32) for _ in range(3)]
        m = _masked_run(lib, dev, dt, q, k, v, q, None, None, 1, 0.25, None, None, None)
        tq, tk, tv = dev.tensor(q, dt), dev.tensor(k, dt), dev.tensor(v, dt)
        out, lse = dev.empty(q.shape, dt), dev.empty((B, H, S))
        frl.check(lib, lib.frl_attention_forward(dev.handle, tq.handle, tk.handle, tv.handle, 1, 0.25, out.handle,
                                                 lse.handle))
        same = bool(np.array_equal(out.numpy().view(np.uint32), m["out"].view(np.uint32)) and
                    np.array_equal(lse.numpy().view(np.uint32), m["lse"].view(np.uint32)))
        rows.append({"name": f"masked attention, no masks = unmasked, same bits ({'bf16' if dt == frl.BF16 else 'f32'})",
                     "max_abs_err": 0.0 if same else float("inf"), "tol": 0.0, "ok": same})
    return rows


# ---- the model -----------------------------------------------------------------------------------

def _blob_entries(lib, ctx, blob):
    """[(name, Tensor)] of a blob's entries (borrowed tensors: never closed)."""
    n = ctypes.c_int64()
    frl.check(lib, lib.frl_blob_count(blob, ctypes.byref(n)))
    out = []
    for i in range(n.value):
        name, h = ctypes.c_char_p(), ctypes.c_void_p()
        frl.check(lib, lib.frl_blob_name(blob, i, ctypes.byref(name)))
        frl.check(lib, lib.frl_blob_tensor_at(blob, i, ctypes.byref(h)))
        out.append((name.value.decode(), frl.Tensor.wrap(ctx, h, frl.F32)))
    return out


class Model:
    """A model on one context with weights from `seed`, an adapter set 'policy' (decoder targets plus
    the projector) whose entries are set to `adapter_values`, and a training plan."""

    def __init__(self, lib, ctx, cfg, seed, adapter_values, B, S, Bi):
        self.lib, self.ctx, self.cfg = lib, ctx, cfg
        h = ctypes.c_void_p()
        frl.check(lib, lib.frl_model_create(ctx.handle, ctypes.byref(cfg), ctypes.byref(h)))
        self.handle = h
        frl.check(lib, lib.frl_model_init_weights(h, seed, 0.05))
        frl.check(lib, lib.frl_model_add_adapter(h, b"policy", 4, 8.0, FRL_LORA_ALL_DECODER | FRL_LORA_PROJECTOR, 7))
        pb, ab = ctypes.c_void_p(), ctypes.c_void_p()
        frl.check(lib, lib.frl_model_params(h, ctypes.byref(pb)))
        frl.check(lib, lib.frl_model_adapter(h, b"policy", ctypes.byref(ab)))
        self.params, self.adapter = pb, ab
        for (name, t) in _blob_entries(lib, ctx, ab):
            a = adapter_values[name]
            frl.check(lib, lib.frl_tensor_write_f32(t.handle, 0, a.ctypes.data, a.size))
        frl.check(lib, lib.frl_model_plan(h, B, S, max(Bi, 1), 1))
        self.grads = []

    def grad_blobs(self):
        g, a = ctypes.c_void_p(), ctypes.c_void_p()
        frl.check(self.lib, self.lib.frl_blob_create_like(self.params, ctypes.byref(g)))
        frl.check(self.lib, self.lib.frl_blob_create_like(self.adapter, ctypes.byref(a)))
        self.grads += [g, a]
        return g, a

    def forward(self, adapter, ids, images, targets, want_logits, want_hidden, want_logp, train):
        c = self.ctx
        B, S = ids.shape
        ti = c.tensor(ids, frl.I32)
        tim = c.tensor(images) if images is not None else None
        tt = c.tensor(targets, frl.I32) if targets is not None else None
        lo = c.empty((B, S, self.cfg.vocab_size)) if want_logits else None
        hi = c.empty((B, S, self.cfg.hidden)) if want_hidden else None
        lp = c.empty((B, S)) if want_logp else None
        inp = Inputs(_h(ti), _h(tim), _h(tt))
        outp = Outputs(_h(lo), _h(hi), _h(lp))
        frl.check(self.lib, self.lib.frl_model_forward(self.handle, adapter, ctypes.byref(inp), ctypes.byref(outp),
                                                       train))
        return {k: t.numpy() for k, t in (("logits", lo), ("hidden", hi), ("logp", lp)) if t is not None}

    def backward(self, d_logp, d_hidden, g, a, mode):
        c = self.ctx
        tl, th = c.tensor(d_logp), c.tensor(d_hidden)
        frl.check(self.lib, self.lib.frl_model_backward(self.handle, tl.handle, th.handle, g, FRL_GROUP_ALL, a, mode))
        out = {f"base {n}": t.numpy() for n, t in _blob_entries(self.lib, c, g)}
        out.update({f"adapter {n}": t.numpy() for n, t in _blob_entries(self.lib, c, a)})
        return out

    def weights(self):
        return {n: t.numpy() for n, t in _blob_entries(self.lib, self.ctx, self.params)}

    def close(self):
        for b in self.grads:
            frl.check(self.lib, self.lib.frl_blob_destroy(b))
        self.grads = []
        if self.handle:
            frl.check(self.lib, self.lib.frl_model_destroy(self.handle))
            self.handle = None


def _batch(cfg, rng):
    """Two image rows and one text row, B = 3; the image rows hold the P image tokens after a BOS."""
    P = (cfg.image_size // cfg.patch_size) ** 2
    S = min(cfg.max_positions, P + 9)
    V, img = cfg.vocab_size, cfg.image_token_id
    ids = rng.integers(0, V, (3, S)).astype(np.int32)
    ids[ids == img] = (img + 1) % V
    ids[0, 1:1 + P] = img
    ids[1, 2:2 + P] = img
    targets = rng.integers(0, V, (3, S)).astype(np.int32)
    images = rng.standard_normal((2, cfg.image_channels, cfg.image_size, cfg.image_size)).astype(np.float32)
    return ids, images, targets


def _check_model(lib, dev, cpu, name, cfg, rng, on_gpu):
    rows = []
    ids, images, targets = _batch(cfg, rng)
    B, S = ids.shape
    # The adapter's values: the same random A and B on both sides (PEFT initialises B = 0).
    h = ctypes.c_void_p()
    frl.check(lib, lib.frl_model_create(cpu.handle, ctypes.byref(cfg), ctypes.byref(h)))
    frl.check(lib, lib.frl_model_add_adapter(h, b"policy", 4, 8.0, FRL_LORA_ALL_DECODER | FRL_LORA_PROJECTOR, 7))
    ab = ctypes.c_void_p()
    frl.check(lib, lib.frl_model_adapter(h, b"policy", ctypes.byref(ab)))
    values = {n: (rng.standard_normal(t.shape) * 0.05).astype(np.float32).ravel() for n, t in
              _blob_entries(lib, cpu, ab)}
    frl.check(lib, lib.frl_model_destroy(h))
    want_m = Model(lib, cpu, cfg, 1234, values, B, S, 2)
    got_m = Model(lib, dev, cfg, 1234, values, B, S, 2)
    tol = 0.0 if not on_gpu else None
    try:
        ww, wg = want_m.weights(), got_m.weights()
        same = all(np.array_equal(ww[k].view(np.uint32), wg[k].view(np.uint32)) for k in ww)
        rows.append({"name": f"model {name}: same initial weights on both contexts", "max_abs_err": 0.0 if same
                     else float("inf"), "tol": 0.0, "ok": same})
        fw = want_m.forward(b"policy", ids, images, targets, True, True, True, 1)
        fg = got_m.forward(b"policy", ids, images, targets, True, True, True, 1)
        for key in fw:
            s = _scale(fw[key])
            atol, rtol = (1e-4 * max(1.0, s), 1e-3) if tol is None else (0.0, 0.0)
            rows.append(_compare(f"model {name} train forward {key}", fg[key], fw[key], atol, rtol))
        d_logp = rng.standard_normal((B, S)).astype(np.float32)
        d_hidden = (rng.standard_normal((B, S, cfg.hidden)) * 0.1).astype(np.float32)
        gw_cpu, aw_cpu = want_m.grad_blobs()
        gw_dev, aw_dev = got_m.grad_blobs()
        bw = want_m.backward(d_logp, d_hidden, gw_cpu, aw_cpu, OVERWRITE)
        bg = got_m.backward(d_logp, d_hidden, gw_dev, aw_dev, OVERWRITE)
        worst = None
        for key in bw:
            s = _scale(bw[key])
            atol, rtol = (2e-3 * s, 1e-2) if tol is None else (0.0, 0.0)
            r = _compare(f"model {name} grad {key}", bg[key], bw[key], atol, rtol)
            rows.append(r)
            if worst is None or r["max_abs_err"] / max(r["tol"], 1e-30) > worst[1]:
                worst = (key, r["max_abs_err"] / max(r["tol"], 1e-30))
        rows.append({"name": f"model {name}: {len(bw)} gradient tensors compared, worst err/tol {worst[1]:.3g} "
                             f"({worst[0]})", "max_abs_err": 0.0, "tol": 0.0, "ok": True})
        # ACCUMULATE onto the same blobs: twice the first gradients (same forward).
        ba = got_m.backward(d_logp, d_hidden, gw_dev, aw_dev, ACCUMULATE)
        for key in ("base language_model.lm_head.weight", "adapter " + sorted(k[8:] for k in bw
                                                                              if k.startswith("adapter "))[0]):
            s = _scale(bg[key])
            rows.append(_compare(f"model {name} grad ACCUMULATE = 2x {key}", ba[key], 2 * bg[key],
                                 1e-6 * max(1.0, s), 1e-6))
        # inference, no adapter, text only
        text = ids[2:3].copy()
        iw = want_m.forward(None, text, None, None, True, False, False, 0)
        ig = got_m.forward(None, text, None, None, True, False, False, 0)
        s = _scale(iw["logits"])
        atol, rtol = (1e-4 * max(1.0, s), 1e-3) if tol is None else (0.0, 0.0)
        rows.append(_compare(f"model {name} inference, no adapter, no image: logits", ig["logits"], iw["logits"],
                             atol, rtol))
    finally:
        got_m.close()
        want_m.close()
    return rows


def check(lib, device_backend=frl.CUDA):
    declare(lib)
    frl.declare_llama(lib)
    rng = np.random.default_rng(0)
    on_gpu = device_backend == frl.CUDA
    dtypes = (frl.F32, frl.BF16) if on_gpu else (frl.F32,)
    rows = []
    with frl.Ctx(lib, device_backend) as dev, frl.Ctx(lib, frl.CPU) as cpu:
        rows += _check_masked_attention(lib, dev, cpu, dtypes, rng)
        rows += _check_model(lib, dev, cpu, "micro", micro(), rng, on_gpu)
        rows += _check_model(lib, dev, cpu, "tiny", tiny(), rng, on_gpu)
        dev.sync()
    return rows


def cpu_check(lib):
    """run.py --dry-run: a second CPU context as the device; every comparison is then bitwise."""
    return check(lib, device_backend=frl.CPU)


# ---- benchmark -----------------------------------------------------------------------------------

def bench(lib):
    declare(lib)
    cfg = small()
    B, P = 8, (cfg.image_size // cfg.patch_size) ** 2
    S = 256
    rng = np.random.default_rng(1)
    ids = rng.integers(0, cfg.vocab_size, (B, S)).astype(np.int32)
    ids[ids == cfg.image_token_id] = cfg.image_token_id + 1
    ids[:, 1:1 + P] = cfg.image_token_id
    targets = rng.integers(0, cfg.vocab_size, (B, S)).astype(np.int32)
    images = rng.standard_normal((B, 3, cfg.image_size, cfg.image_size)).astype(np.float32)
    with frl.Ctx(lib, frl.CUDA) as gpu:
        h = ctypes.c_void_p()
        frl.check(lib, lib.frl_model_create(gpu.handle, ctypes.byref(cfg), ctypes.byref(h)))
        try:
            frl.check(lib, lib.frl_model_init_weights(h, 1, 0.02))
            frl.check(lib, lib.frl_model_plan(h, B, S, B, 1))
            pb, g = ctypes.c_void_p(), ctypes.c_void_p()
            frl.check(lib, lib.frl_model_params(h, ctypes.byref(pb)))
            frl.check(lib, lib.frl_blob_create_like(pb, ctypes.byref(g)))
            n_params = sum(int(np.prod(t.shape)) for _, t in _blob_entries(lib, gpu, pb))
            ti, tim, tt = gpu.tensor(ids, frl.I32), gpu.tensor(images), gpu.tensor(targets, frl.I32)
            d_logp = gpu.tensor(np.full((B, S), -1.0 / (B * S), np.float32))
            inp = Inputs(ti.handle, tim.handle, tt.handle)

            def step():
                frl.check(lib, lib.frl_model_forward(h, None, ctypes.byref(inp), None, 1))
                frl.check(lib, lib.frl_model_backward(h, d_logp.handle, None, g, FRL_GROUP_ALL, None, OVERWRITE))

            ms = frl.time_it(step, gpu.sync, warmup=2, iters=5)
            frl.check(lib, lib.frl_blob_destroy(g))
        finally:
            frl.check(lib, lib.frl_model_destroy(h))
    tokens = B * S
    tflops = 6.0 * n_params * tokens / (ms * 1e-3) / 1e12
    return [{"name": f"model small f32 SFT step (fwd+bwd, all weights) B={B} S={S}, {n_params} params",
             "ours_ms": ms, "tokens_per_s": tokens / (ms * 1e-3), "tflops_6ND": tflops,
             "note": "f32 storage, SIMT kernels; no PyTorch reference and no bf16 MFU (bf16 model not landed)"}]

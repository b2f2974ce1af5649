"""One GPU visit: check every CUDA kernel against the CPU reference, then benchmark each beside
PyTorch on the same GPU, and write bench/results-style files.

    python3 bench/gpu/run.py --lib build-gpu/libfactrl.so --out $OUT

Each kernel has a module bench/gpu/<kernel>_gpu.py with two functions:
    check(lib) -> list of dicts {name, max_abs_err, tol, ok}         (CUDA vs CPU reference)
    bench(lib) -> list of dicts {name, ours_ms, torch_ms, ratio, ...} (ratio = torch_ms / ours_ms)
"""
import argparse
import ctypes
import datetime
import importlib
import json
import os
import subprocess
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frl  # noqa: E402

KERNELS = ["core_gpu", "lora_gpu", "kl_gpu", "gae_gpu", "pooling_gpu", "glue_gpu", "views_gpu", "layers_gpu",
           "vit_gpu", "llama_gpu", "optim_gpu", "model_gpu"]


def git_commit():
    """HEAD of the checkout, or "" where the device copy has no .git or no git binary."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except OSError:
        return ""


def dry_run(lib, names):
    """Everything but the GPU: imports each module (syntax, imports, bindings) and runs its
    cpu_check(lib) against numpy through the same ctypes plumbing the GPU checks use."""
    lib.frl_built_with_cuda.restype = ctypes.c_int
    lib.frl_built_with_cublas.restype = ctypes.c_int
    print(f"dry run: library built with CUDA={lib.frl_built_with_cuda()} cuBLASLt={lib.frl_built_with_cublas()}")
    failed = 0
    for name in names:
        try:
            mod = importlib.import_module(name)
            for fn in ("check", "bench"):
                if not callable(getattr(mod, fn, None)):
                    raise AttributeError(f"{name} has no {fn}(lib)")
            rows = mod.cpu_check(lib) if hasattr(mod, "cpu_check") else []
        except Exception:
            print(f"{name}: ERROR\n{traceback.format_exc()}", flush=True)
            failed += 1
            continue
        bad = [r for r in rows if not r.get("ok")]
        for r in bad:
            print(name, "BAD", json.dumps(r), flush=True)
        print(f"{name}: imported; cpu_check {len(rows) - len(bad)}/{len(rows)} ok", flush=True)
        failed += len(bad)
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default="build-gpu/libfactrl.so")
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--dry-run", action="store_true",
                    help="no GPU: import every module and run its cpu_check (the CPU side of the checks)")
    args = ap.parse_args()
    lib = frl.load(args.lib)
    if args.dry_run:
        return dry_run(lib, args.only or KERNELS)
    import torch
    report = {
        "date": datetime.date.today().isoformat(),
        "commit": git_commit(),
        "gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
        "checks": [], "benchmarks": [], "errors": [],
    }
    for name in args.only or KERNELS:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            report["errors"].append(f"{name}: {e}")
            continue
        for phase in ("check", "bench"):
            try:
                rows = getattr(mod, phase)(lib)
                report["checks" if phase == "check" else "benchmarks"].extend(rows)
                for r in rows:
                    print(name, phase, json.dumps(r), flush=True)
            except Exception:
                report["errors"].append(f"{name}.{phase}: {traceback.format_exc()}")
                print(report["errors"][-1], flush=True)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "gpu-results.json")
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
    print("wrote", path)
    failed = [c for c in report["checks"] if not c.get("ok")]
    return 1 if failed or report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())

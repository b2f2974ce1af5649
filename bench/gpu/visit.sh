#!/usr/bin/env bash
# One GPU visit, one command: build the CUDA backend (with cuBLASLt where the toolkit or Python's
# nvidia-cublas wheel has it), check every CUDA kernel against the CPU reference, benchmark each
# beside PyTorch on the same GPU, and leave the results in $OUT (or bench/results when OUT is unset).
# No Java needed on the device.
#
#   usage:  bash bench/gpu/visit.sh             (on the GPU machine)
#           bash bench/gpu/visit.sh --dry-run   (anywhere: everything but the GPU steps)
#
# Phases and their expected duration on the H200 machine (16 cores); a visit must fit in 8 minutes:
#   1. probe: nvidia-smi, find cuBLASLt (toolkit, else nvidia/*/include/cublasLt.h)     ~ 5 s
#   2. build: cmake configure + build, sm_90, 16 jobs                                   ~ 1.5-2.5 min
#   3. checks (bench/gpu/run.py, every module's check): core (device error flag, pool,
#      staging, no sync), lora (f32 / bf16 / f32 adapters over bf16, split-K dA/dB,
#      OVERWRITE / ACCUMULATE, cuBLASLt and WMMA paths), kl, gae, pooling, glue, views,
#      vit (patchify, class token + positions, masked cross-entropy), llama (embedding,
#      RMSNorm, RoPE, SwiGLU, linear, attention: f32/bf16, modes, views, device error
#      flag for bad ids / positions, same bits twice)
#      optim (AdamW, sum of squares: bitwise against the CPU), model (masked attention
#      f32/bf16; the micro and tiny LLaVA models on CUDA vs CPU: logits, logp, hidden, every
#      gradient)                                                                      ~ 2-4 min
#   4. benchmarks (each module's bench, beside PyTorch)                                 ~ 1.5-2.5 min
#   total about 4-7 min. The results: $OUT/gpu-results.json and $OUT/gpu-visit.log.
# --dry-run: phase 2 (with whatever nvcc / cuBLAS this machine has), then run.py --dry-run: imports
# every module and runs its cpu_check (the CPU side of its checks, against numpy). No GPU, no torch.
# Without a GPU and without --dry-run the script stops after phase 1 with exit status 2.
# FACTRL_ONLY="model_gpu llama_gpu" limits phases 3-4 (and the dry run) to those modules: a short
# visit that checks one piece of work.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
dry=0
[[ "${1:-}" == "--dry-run" ]] && dry=1
out=${OUT:-bench/results}
mkdir -p "$out"
log="$out/gpu-visit.log"
[[ $dry == 1 ]] && log="$out/gpu-visit-dry-run.log"
build=${FACTRL_BUILD_DIR:-build-gpu}
{
  echo "== phase 1: probe ($(date -u +%H:%M:%S))"
  if [[ $dry == 0 ]] && ! nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem --format=csv; then
    echo "visit.sh: no GPU here (nvidia-smi failed); run 'bash bench/gpu/visit.sh --dry-run' on a machine without one"
    exit 2
  fi
  extra=()
  if ! ls /usr/local/cuda/include/cublasLt.h >/dev/null 2>&1; then
    # Python's nvidia-cublas wheel: nvidia/cu13/{include,lib} (CUDA 13) or nvidia/cublas/{include,lib} (12).
    nv=$(python3 - <<'PY' 2>/dev/null
import glob, os, site, sys
for p in site.getsitepackages() + [site.getusersitepackages()] + sys.path:
    for h in sorted(glob.glob(os.path.join(p, "nvidia", "*", "include", "cublasLt.h")), reverse=True):
        print(os.path.dirname(os.path.dirname(h)))
        sys.exit(0)
PY
)
    if [[ -n "$nv" ]]; then extra+=("-DFACTRL_CUBLAS_ROOT=$nv"); echo "cuBLASLt from $nv"; else echo "no cuBLASLt: WMMA kernels only"; fi
  fi
  echo "== phase 2: build ($(date -u +%H:%M:%S))"
  gen=(); command -v ninja >/dev/null && [[ ! -f "$build/CMakeCache.txt" ]] && gen=(-G Ninja)
  jobs=$(nproc 2>/dev/null || echo 4)
  cmake -S . -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DFACTRL_CUDA=ON \
        -DCMAKE_CUDA_ARCHITECTURES=90 "${extra[@]}" && cmake --build "$build" --parallel "$jobs" || exit 3
  if [[ $dry == 1 ]]; then
    echo "== dry run: imports + CPU side of every check ($(date -u +%H:%M:%S))"
    PYTHONUNBUFFERED=1 python3 bench/gpu/run.py --dry-run --lib "$build/libfactrl.so" ${FACTRL_ONLY:+--only $FACTRL_ONLY}
  else
    echo "== phases 3-4: checks, then benchmarks ($(date -u +%H:%M:%S))"
    PYTHONUNBUFFERED=1 python3 bench/gpu/run.py --lib "$build/libfactrl.so" --out "$out" ${FACTRL_ONLY:+--only $FACTRL_ONLY}
  fi
  rc=$?
  echo "== done ($(date -u +%H:%M:%S)), status $rc"
  exit $rc
} 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"

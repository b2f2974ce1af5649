#!/usr/bin/env bash
# One GPU visit, one command (see DEVELOPERS' guide "The GPU"): build the CUDA backend with cuBLAS
# where the toolkit (or Python's nvidia.cublas) has it, check every CUDA kernel against the CPU
# reference, benchmark each beside PyTorch on the same GPU, and leave the results in $OUT (or
# bench/results when OUT is unset). No Java needed on the device.
#   usage (device tool):  bash bench/gpu/visit.sh
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
out=${OUT:-bench/results}
mkdir -p "$out"
log="$out/gpu-visit.log"
{
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem --format=csv || true
  extra=()
  if ! ls /usr/local/cuda/include/cublasLt.h >/dev/null 2>&1; then
    nv=$(python3 -c 'import nvidia.cublas, os; print(os.path.dirname(nvidia.cublas.__file__))' 2>/dev/null || true)
    [[ -n "$nv" ]] && extra+=("-DCUDAToolkit_ROOT=$nv")
  fi
  gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
  cmake -S . -B build-gpu "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DFACTRL_CUDA=ON \
        -DCMAKE_CUDA_ARCHITECTURES=90 "${extra[@]}" && cmake --build build-gpu --parallel 16
  PYTHONUNBUFFERED=1 python3 bench/gpu/run.py --lib build-gpu/libfactrl.so --out "$out"
} 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"

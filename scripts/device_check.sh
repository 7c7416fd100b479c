#!/usr/bin/env bash
# The CUDA backend's checks on a lent GPU machine (the `device` tool: 15
# minutes a session, a bare image with the CUDA toolkit and nothing of ours).
#
#   bash scripts/device_check.sh pack   # here: build the GPU programs without MPI,
#                                       # copy them and the shared libraries the
#                                       # image lacks into .device/ (ignored by git)
#   bash scripts/device_check.sh        # there (carry .device): every op on the GPU
#                                       # against the CPU backend, then the op benchmark
#
# The device run prints, in well under 8 minutes:
#   1. nvidia-smi's line for the GPU;
#   2. radlads_cuda_tests: every Backend op, forward and backward, CUDA against
#      the CPU backend (fp32 GEMMs, then one case with TF32);
#   3. bench_gpu_ops: GEMM TFLOP/s (fp32/TF32 and the frozen bf16 view) against
#      the card's peak, WKV6/WKV7 forward and backward tokens/s, the
#      full-vocabulary KL's GB/s, attention tokens/s, at a 1.5B-sized layer;
#   4. the same benchmark as JSON into $OUT when the device tool sets OUT.
# The model-level figures the CUDA issue asks for (steps 1 and 2 tokens/s and
# MFU, decode at 1 and 32 sequences) need the models wired to device memory,
# which is not built yet (docs/ARCHITECTURE.md, "Not built yet").
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-run} == pack ]]; then
  build=build-device
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_DISABLE_FIND_PACKAGE_MPI=ON >/dev/null
  cmake --build "$build" -j"$(nproc)" --target radlads_cuda_tests bench_gpu_ops
  rm -rf .device && mkdir -p .device/lib
  cp "$build/radlads_cuda_tests" "$build/bench_gpu_ops" .device/
  # Every shared library they load except the C/C++ runtime and the CUDA
  # driver and toolkit, which the image has (newer or the same).
  for bin in .device/radlads_cuda_tests .device/bench_gpu_ops; do
    ldd "$bin" | awk '/=> \//{print $3}'
  done | sort -u | grep -Ev '/(libc|libm|libdl|librt|libpthread|ld-linux[^/]*|libstdc\+\+|libgcc_s|libcuda|libcublas[^/]*|libcudart)\.so' |
    while read -r lib; do cp -L "$lib" .device/lib/; done
  du -sh .device
  echo "device_check: packed; run it there with carry [\".device\"] and: bash scripts/device_check.sh"
  exit 0
fi

[[ -x .device/radlads_cuda_tests ]] || { echo "device_check: run 'bash scripts/device_check.sh pack' here first, and carry .device"; exit 2; }
export LD_LIBRARY_PATH="$PWD/.device/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader || true
echo "== every op, CUDA against the CPU backend"
timeout 240 .device/radlads_cuda_tests --gtest_brief=1 || echo "device_check: radlads_cuda_tests FAILED (status $?)"
echo "== op benchmark (1.5B-sized layer)"
timeout 180 .device/bench_gpu_ops --reps 10 || echo "device_check: bench_gpu_ops FAILED (status $?)"
if [[ -n ${OUT:-} ]]; then
  timeout 120 .device/bench_gpu_ops --reps 10 --json >"$OUT/bench_gpu_ops.json" || true
fi

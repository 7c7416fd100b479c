#!/usr/bin/env bash
# The CUDA backend's checks on a lent GPU machine (the `device` tool: 15
# minutes a session, a bare image with the CUDA toolkit and nothing of ours).
#
#   bash scripts/device_check.sh pack   # here: build the GPU programs without MPI,
#                                       # pack them and the shared libraries the
#                                       # image lacks into .device/bundle.tar.xz
#                                       # (ignored by git; under the tool's 64 MiB)
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
#   4. bench_gpu_train: steps 1 and 2 (whole optimiser steps, all in GPU
#      memory) at the SmolLM2-135M and Qwen2.5-1.5B shapes with random
#      weights: tokens/s, model TFLOP/s, MFU against the bf16 peak, peak GPU memory;
#   5. bench_gpu_decode: a student and its teacher decoding 1 and 32
#      sequences together at the SmolLM2-135M shape: tokens/s, state per sequence;
#   6. the op benchmark as JSON into $OUT when the device tool sets OUT.
# At most about 8 minutes with every timeout reached.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-run} == pack ]]; then
  build=build-device
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_DISABLE_FIND_PACKAGE_MPI=ON >/dev/null
  cmake --build "$build" -j"$(nproc)" --target radlads_cuda_tests bench_gpu_ops bench_gpu_train bench_gpu_decode
  stage=$(mktemp -d)
  mkdir -p "$stage/bin" "$stage/lib"
  for bin in radlads_cuda_tests bench_gpu_ops bench_gpu_train bench_gpu_decode; do
    strip --strip-unneeded -o "$stage/bin/$bin" "$build/$bin"
    # Every shared library it loads except the C/C++ runtime and the CUDA
    # driver and toolkit, which the image has (newer or the same).
    ldd "$build/$bin" | awk '/=> \//{print $3}' |
      grep -Ev '/(libc|libm|libdl|librt|libpthread|ld-linux[^/]*|libstdc\+\+|libgcc_s|libcuda|libcublas[^/]*|libcudart)\.so' |
      while read -r lib; do cp -Ln "$lib" "$stage/lib/" 2>/dev/null || true; done
  done
  # oneDNN and OpenBLAS alone are over the device tool's 64 MiB: carried compressed.
  rm -rf .device && mkdir -p .device
  tar -C "$stage" -cJf .device/bundle.tar.xz bin lib
  rm -rf "$stage"
  size=$(stat -c %s .device/bundle.tar.xz)
  echo "device_check: packed .device/bundle.tar.xz ($((size >> 20)) MiB); run it there with carry [\".device\"] and: bash scripts/device_check.sh"
  (( size < 60 << 20 )) || { echo "device_check: the bundle is over 60 MiB, more than the device tool carries"; exit 2; }
  exit 0
fi

[[ -f .device/bundle.tar.xz ]] || { echo "device_check: run 'bash scripts/device_check.sh pack' here first, and carry .device"; exit 2; }
rd=/tmp/radlads-device
rm -rf "$rd" && mkdir -p "$rd" && tar -C "$rd" -xJf .device/bundle.tar.xz
export LD_LIBRARY_PATH="$rd/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader || true
echo "== every op, CUDA against the CPU backend"
timeout 90 "$rd/bin/radlads_cuda_tests" --gtest_brief=1 || echo "device_check: radlads_cuda_tests FAILED (status $?)"
echo "== op benchmark (1.5B-sized layer)"
timeout 60 "$rd/bin/bench_gpu_ops" --reps 10 || echo "device_check: bench_gpu_ops FAILED (status $?)"
echo "== steps 1 and 2 on the GPU"
timeout 60 "$rd/bin/bench_gpu_train" --shape smollm2-135m --arch rad-rwkv7 --B 8 || echo "device_check: bench_gpu_train FAILED (status $?)"
timeout 60 "$rd/bin/bench_gpu_train" --shape smollm2-135m --arch rad-rwkv6 --B 8 || echo "device_check: bench_gpu_train FAILED (status $?)"
timeout 120 "$rd/bin/bench_gpu_train" --shape qwen2.5-1.5b --arch rad-rwkv7 --B 4 || echo "device_check: bench_gpu_train FAILED (status $?)"
echo "== decoding on the GPU, 1 and 32 sequences"
timeout 60 "$rd/bin/bench_gpu_decode" --shape smollm2-135m --arch rad-rwkv7 || echo "device_check: bench_gpu_decode FAILED (status $?)"
if [[ -n ${OUT:-} ]]; then
  timeout 45 "$rd/bin/bench_gpu_ops" --reps 5 --json >"$OUT/bench_gpu_ops.json" || true
fi

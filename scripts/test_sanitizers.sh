#!/usr/bin/env bash
# Builds with AddressSanitizer + UBSan into ./build-asan and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build-asan -DRADLADS_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cd build-asan
# OpenBLAS/OpenMP keep thread-pool allocations alive to exit; those are not our leaks.
ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j2 --timeout 1800

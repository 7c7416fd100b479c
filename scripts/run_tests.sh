#!/usr/bin/env bash
# One command for a fresh machine: set up, build, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-llama-cpp
bash scripts/build.sh build
# Two tests at a time, one thread each: OpenMP teams of two on two busy cores
# spend most of their time spin-waiting. (The llama.cpp comparisons run alone
# with both cores; see CMakeLists.txt.)
# The llama.cpp oracles were installed above: here they run or fail, never skip.
cd build && RADLADS_REQUIRE_ORACLES=1 OMP_NUM_THREADS=1 ctest --output-on-failure -j2 --timeout 1500
# Every parser's libFuzzer harness for 20000 deterministic runs under ASan + UBSan,
# after replaying the inputs that once crashed it (scripts/fuzz.sh; the long
# campaign is the same script with more seconds).
cd .. && FUZZ_SEED=1 FUZZ_RUNS=20000 bash scripts/fuzz.sh all

#!/usr/bin/env bash
# One command for a fresh machine: set up, build, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build
cd build && ctest --output-on-failure -j2 --timeout 900

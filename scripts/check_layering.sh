#!/usr/bin/env bash
# The engine's two layering rules, checked on the sources (docs/ARCHITECTURE.md):
#  1. Data flows one way: each folder of src/ includes only the folders
#     listed for it below.
#  2. Models, objectives and inference compute through the Backend
#     (backend/backend.h): no OpenMP, BLAS, oneDNN or CPU-kernel include in
#     src/models, src/train, src/infer, except a mixer's CPU kernel table
#     (src/models/mixers/<name>/kernels_cpu.cpp), which is that mixer's CPU
#     backend.
# Exit 1 naming every offending line.
set -euo pipefail
cd "$(dirname "$0")/../src"
declare -A allowed=(
  [core]="core"
  [io]="core io"
  [text]="core io text"
  [backend]="backend core io"
  [engine]="backend core engine"
  [data]="core data io text"
  [models]="backend core io models text"
  [train]="backend core data engine io models train"
  [eval]="backend core eval infer io text"
  [infer]="backend core infer models"
  [serve]="backend core infer io models serve text"
  [export]="core export io models text"
  [cli]="backend cli core data engine eval export infer io models serve text train"
)
bad=0
for dir in */; do
  dir=${dir%/}
  if [[ -z ${allowed[$dir]+x} ]]; then
    echo "check_layering: src/$dir is not in the layer table of scripts/check_layering.sh"
    bad=1
    continue
  fi
  while IFS= read -r line; do
    target=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"${line#*:*:}")
    if [[ " ${allowed[$dir]} " != *" $target "* ]]; then
      echo "check_layering: $line  ($dir may include: ${allowed[$dir]})"
      bad=1
    fi
  done < <(grep -rnE '#include "[a-z_]+/' "$dir" || true)
done
while IFS= read -r line; do
  echo "check_layering: $line  (compute through the Backend, or in a mixer's kernels_cpu.cpp)"
  bad=1
done < <(grep -rnE '#pragma omp|#include <omp\.h>|cblas|dnnl|#include "backend/cpu/' models train infer |
           grep -vE '^models/mixers/[a-z0-9_]+/kernels_cpu\.cpp:' || true)
exit $bad

#!/usr/bin/env bash
# Data-parallel scaling on this machine: steps 1 and 2 of a short convert,
# one process with all cores against N ranks (mpirun) sharing them, the same
# global batch. Prints the median tokens/s of each (from metrics.jsonl, the
# first step left out) and what the all-reduce moves per step (from the
# trainable parameter count the run prints: the rank-order chain carries the
# gradient once per link and broadcasts the sum).
#   bench/scale_out.sh [TEACHER] [DATA] [N]
# TEACHER: a GGUF or HF folder (default: the cached SmolLM2-135M); DATA: a
# `radlads data prepare` folder (default: prepared from the cached held-out
# text); N: ranks (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${RADLADS_CACHE:-$HOME/.cache/radlads}
TEACHER=${1:-$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf}
N=${3:-2}
BIN=${RADLADS:-build/radlads}
CORES=$(nproc)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DATA=${2:-}
if [ -z "$DATA" ]; then
  DATA=$WORK/data
  "$BIN" data prepare --tokenizer "$TEACHER" --out "$DATA" "$CACHE/text/heldout.txt" >/dev/null 2>&1
fi
common=(--teacher "$TEACHER" --arch rad-rwkv7 --data "$DATA" --seq-len 512 --batch "$N" --heldout-windows 1
        --heldout-len 64 --step3-tokens 0)
median_tok_s() {
  python3 - "$1" <<'PY'
import json, statistics, sys
recs = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
v = [r["tok_s"] for r in recs if r.get("phase") in ("align", "distill")][1:]
print(f"{statistics.median(v):.1f}")
PY
}
printf "%-8s %14s %14s %8s %16s\n" step "1 x $CORES thr" "$N x $((CORES / N)) thr" ratio "all-reduce/step"
for step in 1 2; do
  toks=(--step1-tokens $((N * 512 * 10)) --step2-tokens 0)
  [ $step = 2 ] && toks=(--step1-tokens 0 --step2-tokens $((N * 512 * 10)))
  OMP_NUM_THREADS=$CORES "$BIN" --threads "$CORES" convert "${common[@]}" "${toks[@]}" --out "$WORK/one$step" \
    >"$WORK/one$step.log" 2>&1
  OMP_NUM_THREADS=$((CORES / N)) OMPI_MCA_plm_rsh_agent=false mpirun --allow-run-as-root --oversubscribe -np "$N" \
    "$BIN" --threads $((CORES / N)) convert "${common[@]}" "${toks[@]}" --out "$WORK/n$step" >"$WORK/n$step.log" 2>&1
  one=$(median_tok_s "$WORK/one$step")
  many=$(median_tok_s "$WORK/n$step")
  params=$(grep -oE '\(([0-9.]+) M\)' "$WORK/n$step.log" | head -1 | tr -d '()M ')
  printf "%-8s %14s %14s %8s %13s MB\n" "$step" "$one" "$many" \
    "$(python3 -c "print(f'{$many / $one:.3f}')")" "$(python3 -c "print(f'{$params * 4 * 2:.0f}')")"
done

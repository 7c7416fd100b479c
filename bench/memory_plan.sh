#!/usr/bin/env bash
# The memory plan against measured peaks (README "Memory"): each run prints its
# plan, then every step's own peak resident memory beside it. About 12 minutes
# on 2 cores and ~17 GB of RAM at the largest (the 1.5B-shaped teacher).
#   bash bench/memory_plan.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
CACHE=${RADLADS_CACHE:-$HOME/.cache/radlads}
SMOL="$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf"
QWEN="$CACHE/models/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"
W=$(mktemp -d /tmp/radlads-memplan.XXXX)
trap 'rm -rf "$W"' EXIT

head -100 "$CACHE/text/train-files.txt" > "$W/files.txt"
"$B/radlads" data prepare --tokenizer "$SMOL" --out "$W/data-smol" "@$W/files.txt" > /dev/null 2>&1
"$B/radlads" data prepare --tokenizer "$QWEN" --out "$W/data-qwen" "@$W/files.txt" > /dev/null 2>&1

# run NAME ARGS...: a conversion, then its plan lines and measured peaks.
run() {
  local name=$1
  shift
  rm -rf "$W/run"
  local rc=0
  "$B/radlads" "$@" --out "$W/run" --heldout-windows 1 --heldout-len 512 > "$W/$name.log" 2>&1 || rc=$?
  echo "== $name (exit $rc)"
  grep -E "^memory plan|^  total|^  \(while loading|resident memory|tok/s \(avg|held as stored" "$W/$name.log" |
    grep -v "ETA" || true
}

run smollm2-step3-T16384 extend --teacher "$SMOL" --arch rad-rwkv7 --data "$W/data-smol" --tokens 16384 \
  --seq-len 16384 --batch 1
run smollm2-step3-T512 extend --teacher "$SMOL" --arch rad-rwkv7 --data "$W/data-smol" --tokens 4096 \
  --seq-len 512 --batch 1
"$B/radlads" export "$SMOL" --format gguf --dtype q8_0 --out "$W/smol-q8_0.gguf" > /dev/null 2>&1
for g in f32 stored; do
  run "smollm2-q8_0-step2-teacher-$g" distill --teacher "$W/smol-q8_0.gguf" --arch rad-rwkv7 \
    --data "$W/data-smol" --tokens 2048 --seq-len 512 --batch 2 --teacher-gemm "$g"
done
run qwen0.5b-steps1-2-stored convert --teacher "$QWEN" --arch rad-rwkv7 --data "$W/data-qwen" \
  --step1-tokens 1024 --step2-tokens 1024 --step3-tokens 0 --seq-len 512 --batch 1 --teacher-gemm stored
python3 scripts/shaped_teacher.py --shape qwen2.5-1.5b --tokenizer "$QWEN" --out "$W/q1.5b.gguf"
run qwen1.5b-shaped-plan convert --teacher "$W/q1.5b.gguf" --arch rad-rwkv7 --data "$W/data-qwen" \
  --step1-tokens 1024 --step2-tokens 1024 --step3-tokens 16384 --seq-len 512 --batch 1 --teacher-gemm stored --dry-run
run qwen1.5b-shaped-refused convert --teacher "$W/q1.5b.gguf" --arch rad-rwkv7 --data "$W/data-qwen" \
  --step1-tokens 1024 --step2-tokens 1024 --step3-tokens 0 --seq-len 512 --batch 1 --teacher-gemm stored
tail -1 "$W/qwen1.5b-shaped-refused.log"
run qwen1.5b-shaped-step1 convert --teacher "$W/q1.5b.gguf" --arch rad-rwkv7 --data "$W/data-qwen" \
  --step1-tokens 1024 --step2-tokens 0 --step3-tokens 0 --seq-len 512 --batch 1 --teacher-gemm stored

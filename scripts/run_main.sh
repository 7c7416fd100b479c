#!/usr/bin/env bash
# One command for a fresh machine: set up, build, then the main job: convert
# SmolLM2-135M-Instruct into RAD-RWKV7 on the Debian text with a budget that
# ends in about 20 minutes on 2 cores, and print the teacher-vs-student table.
#   RADLADS_OUT=DIR   where the run goes (default out/main-<date>); rerun with
#                     the same DIR and --resume semantics: an interrupted run
#                     continues from its last checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build
CACHE=${RADLADS_CACHE:-$HOME/.cache/radlads}
MODEL="$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf"
DATA="$CACHE/data/debian-600"
OUT=${RADLADS_OUT:-out/main-$(date +%Y%m%d-%H%M%S)}

# Training data: the first 600 files of the training list (Python docs,
# ~12 MB, 3 M tokens); every 50th document is held out.
if [ ! -f "$DATA/train.idx" ]; then
  head -600 "$CACHE/text/train-files.txt" > "$CACHE/text/train-600.txt"
  ./build/radlads data prepare --tokenizer "$MODEL" --out "$DATA" "@$CACHE/text/train-600.txt"
fi

# Budgets for ~20 minutes on 2 cores: step 1 64 optimiser steps of 2x512
# tokens, step 2 16 steps, step 3 2 steps at 2048 context. The paper's
# learning rates are for 100-700 M tokens; for budgets this small step 1 uses
# 3e-3 (cosine to 1e-5) and step 2 1e-4 (flat).
RESUME=()
# A run folder with a config.json is a run to continue: from its last
# checkpoint, or from step 0 when it was killed before the first one.
[ -f "$OUT/config.json" ] && RESUME=(--resume)
./build/radlads convert --teacher "$MODEL" --arch rad-rwkv7 --data "$DATA" --out "$OUT" "${RESUME[@]}" \
  --step1-tokens 65536 --step2-tokens 16384 --step3-tokens 4096 --step3-seq-len 2048 \
  --seq-len 512 --batch 2 --step1-lr 3e-3 --step2-lr 1e-4 \
  --heldout-windows 4 --heldout-len 512 --eval-tasks lambada:100,arc_easy:100,piqa:100
./build/radlads plot "$OUT/metrics.jsonl" --out "$OUT/curves.svg"
./build/radlads plot "$OUT/metrics.jsonl" --out "$OUT/align-layers.png" --layers --log-y
echo "run folder: $OUT (student/, metrics.jsonl, curves.svg, results.json)"

#!/usr/bin/env bash
# One command for a fresh machine: set up, build, then the main job. Until
# conversion lands this is the teacher's held-out perplexity and a short
# greedy chat generation.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build
CACHE=${RADLADS_CACHE:-$HOME/.cache/radlads}
MODEL="$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf"
./build/radlads inspect "$MODEL"
./build/radlads perplexity "$MODEL" --file "$CACHE/text/heldout.txt" --ctx 512 --max-tokens 16384
./build/radlads generate "$MODEL" --chat --temp 0 --max-tokens 64 --prompt "What is the capital of France? Answer in one sentence."

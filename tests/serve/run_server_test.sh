#!/usr/bin/env bash
# CTest entry for tests/serve/test_server.py: the server on the real teacher
# (scripts/setup.sh downloads it and installs the openai client; a missing
# one fails the test).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${RADLADS_CACHE:-$HOME/.cache/radlads}
MODEL="$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -f "$MODEL" ] || { echo "$MODEL missing: run scripts/setup.sh"; exit 1; }
exec "${PYTHON:-python3}" "$here/test_server.py" --bin "$1" --teacher "$MODEL"

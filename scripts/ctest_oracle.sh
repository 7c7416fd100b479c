#!/usr/bin/env bash
# CTest entry for the comparisons against llama.cpp (PyPI llama-cpp-python):
# exits 77 (CTest "skipped") only when llama_cpp is not installed; any other
# problem (missing teacher or text, a mismatch) fails.
#   ctest_oracle.sh teacher|tokenizer|student|eval RADLADS_BIN
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
what=$1 bin=$2
PY=${PYTHON:-python3}
$PY -c "import llama_cpp" 2>/dev/null || { echo "llama_cpp not installed (scripts/setup.sh --with-llama-cpp): skipped"; exit 77; }
CACHE=${RADLADS_CACHE:-$HOME/.cache/radlads}
MODEL="$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -f "$MODEL" ] || { echo "$MODEL missing: run scripts/setup.sh"; exit 1; }
case "$what" in
  teacher) exec $PY "$here/compare_teacher_llamacpp.py" --bin "$bin" --model "$MODEL" --text "$CACHE/text/heldout.txt" --windows 4 ;;
  student) exec $PY "$here/compare_student_llamacpp.py" --bin "$bin" --teacher "$MODEL" --text "$CACHE/text/heldout.txt" --tokens 512 --dtypes f32 --decode 0 ;;
  tokenizer) exec $PY "$here/compare_tokenizer.py" "$MODEL" --bin "$bin" ;;
  eval) exec $PY "$here/compare_eval_llamacpp.py" --bin "$bin" --model "$MODEL" ;;
  *) echo "unknown comparison $what"; exit 2 ;;
esac

#!/usr/bin/env bash
# CTest entry for the comparisons against llama.cpp (PyPI llama-cpp-python):
# exits 77 (CTest "skipped") only when llama_cpp is not installed and the
# caller does not require it (RADLADS_REQUIRE_ORACLES=1); any other
# problem (missing teacher or text, a mismatch) fails.
#   ctest_oracle.sh teacher|teacher_qwen|tokenizer|student|student7|student_converter|student7_converter|student7_nogate|eval RADLADS_BIN
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
what=$1 bin=$2
PY=${PYTHON:-python3}
# scripts/run_tests.sh (CI) sets RADLADS_REQUIRE_ORACLES=1: there a missing
# oracle fails the test instead of skipping it.
if ! $PY -c "import llama_cpp" 2>/dev/null; then
  if [ "${RADLADS_REQUIRE_ORACLES:-0}" = 1 ]; then
    echo "llama_cpp not installed, and RADLADS_REQUIRE_ORACLES=1: the comparison cannot be skipped"
    exit 1
  fi
  echo "llama_cpp not installed (scripts/setup.sh --with-llama-cpp): skipped"
  exit 77
fi
CACHE=${RADLADS_CACHE:-$HOME/.cache/radlads}
MODEL="$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -f "$MODEL" ] || { echo "$MODEL missing: run scripts/setup.sh"; exit 1; }
case "$what" in
  teacher) exec $PY "$here/compare_teacher_llamacpp.py" --bin "$bin" --model "$MODEL" --text "$CACHE/text/heldout.txt" --windows 4 ;;
  # The real Qwen2 teacher (Q4_K_M: Q5_0, Q8_0, Q6_K, Q4_K, biases on q/k/v), on its f32 rewrite.
  teacher_qwen) exec $PY "$here/compare_teacher_llamacpp.py" --bin "$bin" --model "$CACHE/models/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf" --text "$CACHE/text/heldout.txt" --windows 2 ;;
  # Perturbed students: every tensor non-zero, so the token-shift and decay LoRAs (zero after step 0) are live.
  student) exec $PY "$here/compare_student_llamacpp.py" --bin "$bin" --teacher "$MODEL" --text "$CACHE/text/heldout.txt" --tokens 512 --dtypes f32 --decode 0 --perturb 0.05 --arch rad-rwkv6 ;;
  student7) exec $PY "$here/compare_student_llamacpp.py" --bin "$bin" --teacher "$MODEL" --text "$CACHE/text/heldout.txt" --tokens 512 --dtypes f32 --decode 0 --perturb 0.05 --arch rad-rwkv7 ;;
  # GGUFs in llama.cpp's converter layout (scripts/converter_gguf.py, no radlads.student_config): our import
  # must equal the folder and llama.cpp; RAD-RWKV7 with GroupNorm, and without a gate (gate_rank_type 0).
  student_converter) exec $PY "$here/compare_student_llamacpp.py" --bin "$bin" --teacher "$MODEL" --text "$CACHE/text/heldout.txt" --tokens 256 --dtypes f32 --decode 0 --perturb 0.05 --arch rad-rwkv6 --converter-layout ;;
  student7_converter) exec $PY "$here/compare_student_llamacpp.py" --bin "$bin" --teacher "$MODEL" --text "$CACHE/text/heldout.txt" --tokens 256 --dtypes f32 --decode 0 --perturb 0.05 --arch rad-rwkv7 --converter-layout --init-args "--groupnorm 1" ;;
  student7_nogate) exec $PY "$here/compare_student_llamacpp.py" --bin "$bin" --teacher "$MODEL" --text "$CACHE/text/heldout.txt" --tokens 256 --dtypes f32 --decode 0 --perturb 0.05 --arch rad-rwkv7 --converter-layout --init-args "--gate none" ;;
  tokenizer) exec $PY "$here/compare_tokenizer.py" "$MODEL" --bin "$bin" ;;
  eval) exec $PY "$here/compare_eval_llamacpp.py" --bin "$bin" --model "$MODEL" ;;
  *) echo "unknown comparison $what"; exit 2 ;;
esac

#!/usr/bin/env bash
# Fuzzes the parsers with libFuzzer (clang-14) under AddressSanitizer + UBSan.
#   scripts/fuzz.sh [TARGET|all] [SECONDS]      (default: all, 60 s each)
# TARGET is a harness of fuzz/ without its fuzz_ prefix: gguf, safetensors,
# hf_config, tokenizer_json, binidx, checkpoint_state, arrow, oe_eval, openai_request,
# text_sources, npy, chat_template.
#
# Builds ./build-fuzz (only the library and the harnesses). For each target:
# replays every committed regression input (fuzz/regressions/<target>/*, the
# inputs that once crashed it), then fuzzes for SECONDS from the committed
# seeds (fuzz/corpus/<target>/) and the corpus earlier runs grew
# (build-fuzz/corpus/<target>/), with a 2 GB RSS limit and a 1 GB limit on
# any single allocation (a header that asks for more than its file holds is a
# finding). Prints executions, coverage (edges) and corpus size per target.
# A crash, leak or limit hit: the input is saved in build-fuzz/crashes/<target>/,
# the script names it and exits 1.
#
# FUZZ_RUNS=N instead of SECONDS: N executions per target from the committed
# seeds only (a fresh corpus each time), with FUZZ_SEED fixed a deterministic
# run: the test command uses it, so CI explores exactly the inputs that
# passed here (a time limit explores more on a faster machine, and found on
# CI what it had not found here).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${1:-all}
SECONDS_EACH=${2:-60}
BUILD=${FUZZ_BUILD:-build-fuzz}
CXX_FUZZ=${CXX_FUZZ:-clang++-14}
command -v "$CXX_FUZZ" >/dev/null || { echo "fuzz.sh: $CXX_FUZZ not found (scripts/setup.sh installs clang-14)" >&2; exit 2; }

# FUZZ_NO_BUILD=1: use the harnesses already built (several campaigns at once).
# FUZZ_MAX_LEN=N: libFuzzer's -max_len (default 200000). A GGUF seed holds
# its tensors' bytes, which make each run slow (~200 exec/s); a campaign on
# the headers alone (e.g. 8192: metadata, tensor table, offsets, and the
# "declares more than the file holds" checks) runs ten times as many inputs.
# FUZZ_SEED=N: libFuzzer's random seed (the test command fixes it, so that a
# CI run explores the same inputs as the last one that passed here).
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRADLADS_FUZZ=ON \
    -DCMAKE_CXX_COMPILER="$CXX_FUZZ" >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" >"$BUILD/build.log" 2>&1 || { tail -40 "$BUILD/build.log"; exit 1; }
fi

if [ "$TARGET" = all ]; then
  targets=$(ls fuzz/fuzz_*.cpp | sed 's|fuzz/fuzz_||; s|\.cpp$||')
else
  [ -f "fuzz/fuzz_$TARGET.cpp" ] || { echo "fuzz.sh: no harness fuzz/fuzz_$TARGET.cpp" >&2; exit 2; }
  targets=$TARGET
fi

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# A deterministic run also needs the same addresses every time (coverage of
# address-keyed code differs otherwise): address randomisation off.
norand=()
if [ -n "${FUZZ_RUNS:-}" ] && setarch -R true 2>/dev/null; then norand=(setarch -R); fi
printf "%-18s %12s %10s %8s %s\n" target executions exec/s edges corpus
failed=0
for t in $targets; do
  bin="$BUILD/fuzz_$t"
  corpus="$BUILD/corpus/$t"
  limit=(-max_total_time="$SECONDS_EACH")
  if [ -n "${FUZZ_RUNS:-}" ]; then
    corpus="$BUILD/corpus-runs/$t"
    rm -rf "$corpus"
    # Comparison-guided mutations copy operands, heap addresses among them,
    # which vary between runs: off here, on in the campaigns.
    limit=(-runs="$FUZZ_RUNS" -use_cmp=0)
  fi
  crashes="$BUILD/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  log="$BUILD/fuzz_$t.log"
  # The inputs that once crashed this parser, replayed first.
  if compgen -G "fuzz/regressions/$t/*" >/dev/null; then
    if ! "$bin" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=20 fuzz/regressions/$t/* >"$log" 2>&1; then
      echo "fuzz.sh: $t: a regression input fails again (fuzz/regressions/$t/); log: $log" >&2
      tail -30 "$log" >&2
      failed=1
      continue
    fi
  fi
  seeds=()
  [ -d "fuzz/corpus/$t" ] && seeds=("fuzz/corpus/$t")
  start=$(date +%s.%N)
  [ -n "${FUZZ_RUNS:-}" ] && export RADLADS_FUZZ_DIR="/tmp/radlads-fuzz-runs/$t"
  if ! "${norand[@]}" "$bin" "$corpus" "${seeds[@]}" "${limit[@]}" -print_final_stats=1 -max_len="${FUZZ_MAX_LEN:-200000}" \
      ${FUZZ_SEED:+-seed=$FUZZ_SEED} \
      -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=20 -artifact_prefix="$crashes/" >"$log" 2>&1; then
    art=$(ls -t "$crashes" 2>/dev/null | head -1 || true)
    echo "fuzz.sh: $t: FINDING, input saved as $crashes/$art; log: $log" >&2
    grep -a -m3 -E "ERROR: |runtime error|terminate called|what\(\)" "$log" >&2 || tail -20 "$log" >&2 || true
    failed=1
    continue
  fi
  execs=$( (grep -aoE 'stat::number_of_executed_units: [0-9]+' "$log" || true) | awk '{print $2}' | tail -1)
  edges=$( (grep -aoE 'cov: [0-9]+' "$log" || true) | tail -1 | awk '{print $2}')
  rate=$(awk -v n="${execs:-0}" -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", n / (b - a) }')
  files=$(ls "$corpus" | wc -l)
  printf "%-18s %12s %10s %8s %s\n" "$t" "${execs:-?}" "${rate:-?}" "${edges:-?}" "$files"
done
exit $failed
